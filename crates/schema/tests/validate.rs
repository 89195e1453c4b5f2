//! Generated schemas are valid JSON Schema, their synthetic answers pass, and bad answers are caught with paths.
#![cfg(feature = "validate")]

mod common;

use proptest::prelude::*;
use rowbench_schema::{AnswerIssue, AnswerValidator, example_answer, presets};
use serde_json::{Value, json};

fn assert_meta_valid(schema: &Value) {
    if let Err(error) = jsonschema::meta::validate(schema) {
        panic!("{schema} is not valid JSON Schema: {error}");
    }
}

fn validator(schema: &Value) -> AnswerValidator {
    AnswerValidator::new(schema).expect("the schema compiles")
}

fn issues(schema: &Value, answer: Value) -> Vec<AnswerIssue> {
    validator(schema)
        .validate(&answer)
        .expect_err("the answer should be rejected")
}

fn sentiment() -> Value {
    presets()
        .into_iter()
        .find(|p| p.id == "sentiment")
        .expect("the sentiment preset exists")
        .schema
        .to_json_schema()
}

#[test]
fn every_preset_is_valid_draft_2020_12_and_its_examples_pass() {
    for preset in presets() {
        let schema = preset.schema.to_json_schema();
        assert_meta_valid(&schema);
        let validator = validator(&schema);
        for seed in 0..50 {
            let answer = example_answer(&schema, seed);
            assert_eq!(
                validator.validate(&answer),
                Ok(()),
                "{}: {answer}",
                preset.id
            );
        }
    }
}

proptest! {
    #[test]
    fn every_builder_schema_is_valid_draft_2020_12(schema in common::any_schema()) {
        let schema = schema.to_json_schema();
        prop_assert!(jsonschema::meta::is_valid(&schema), "{}", schema);
        prop_assert!(AnswerValidator::new(&schema).is_ok());
    }

    #[test]
    fn example_answers_of_problem_free_builder_schemas_validate(
        schema in common::valid_schema(),
        seed in any::<u64>(),
    ) {
        let schema = schema.to_json_schema();
        let answer = example_answer(&schema, seed);
        prop_assert_eq!(validator(&schema).validate(&answer), Ok(()), "{}", answer);
    }

    #[test]
    fn example_numbers_respect_arbitrary_bounds(
        low in -1000i64..1000,
        width in 0i64..500,
        integer in any::<bool>(),
        exclusive in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let (low_key, high_key) = if exclusive {
            ("exclusiveMinimum", "exclusiveMaximum")
        } else {
            ("minimum", "maximum")
        };
        // Exclusive integer ranges need room for at least one whole number inside.
        let high = if exclusive { low + width + 2 } else { low + width };
        let schema = json!({
            "type": if integer { "integer" } else { "number" },
            low_key: low,
            high_key: high,
        });
        let answer = example_answer(&schema, seed);
        prop_assert_eq!(validator(&schema).validate(&answer), Ok(()), "{} for {}", answer, schema);
    }
}

#[test]
fn example_answers_pass_for_richer_hand_written_schemas() {
    let schemas = [
        json!({"type": "string", "format": "date"}),
        json!({"type": "string", "format": "email"}),
        json!({"type": "string", "format": "date-time"}),
        json!({"type": "string", "format": "uri"}),
        json!({"type": "string", "format": "uuid"}),
        json!({"type": "string", "minLength": 30, "maxLength": 31}),
        json!({"type": "string", "maxLength": 3}),
        json!({"type": ["string", "null"], "maxLength": 20}),
        json!({"type": ["null", "integer"], "minimum": 5}),
        json!({"type": "number", "minimum": 0, "maximum": 1}),
        json!({"type": "number", "multipleOf": 0.1, "minimum": 0.05, "maximum": 0.95}),
        json!({"type": "integer", "multipleOf": 7, "minimum": -20, "maximum": 20}),
        json!({"type": "integer", "maximum": -50}),
        json!({"enum": ["a", 1, null]}),
        json!({"const": "fixed"}),
        json!({"anyOf": [{"type": "integer", "minimum": 3}, {"type": "string"}]}),
        json!({"oneOf": [{"type": "boolean"}, {"type": "string"}]}),
        json!({"type": "array", "items": {"enum": ["x", "y", "z"]}, "uniqueItems": true, "minItems": 2}),
        json!({"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 6}),
        json!({"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "integer"}], "items": {"type": "string"}}),
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {
                "person": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "email": {"type": "string", "format": "email"},
                        "friends": {"type": "array", "items": {"$ref": "#/$defs/person"}}
                    },
                    "required": ["name"],
                    "additionalProperties": false
                }
            },
            "type": "object",
            "properties": {
                "owner": {"$ref": "#/$defs/person"},
                "born": {"type": "string", "format": "date"},
                "address": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "zip": {"type": "string", "maxLength": 5}},
                    "required": ["city", "zip"]
                }
            },
            "required": ["owner", "address"],
            "additionalProperties": false
        }),
        json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer", "minimum": 10}}, "required": ["b"]}
        ]}),
    ];
    for schema in schemas {
        let validator = validator(&schema);
        for seed in 0..40 {
            let answer = example_answer(&schema, seed);
            assert_eq!(validator.validate(&answer), Ok(()), "{answer} for {schema}");
        }
    }
}

#[test]
fn a_value_outside_the_options_is_reported_at_its_path() {
    let found = issues(
        &sentiment(),
        json!({"sentiment": "great", "confidence": 0.9, "reason": "Loved it"}),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "/sentiment");
    assert!(
        found[0].message.contains("\"great\""),
        "{}",
        found[0].message
    );
    let shown = found[0].to_string();
    assert!(shown.starts_with("at /sentiment: \"great\""), "{shown}");
}

#[test]
fn wrong_types_and_missing_fields_are_all_reported() {
    let found = issues(
        &sentiment(),
        json!({"sentiment": "neutral", "confidence": "high"}),
    );
    let paths: Vec<&str> = found.iter().map(|i| i.path.as_str()).collect();
    assert!(paths.contains(&"/confidence"), "{found:?}");
    assert!(
        found
            .iter()
            .any(|i| i.path.is_empty() && i.message.contains("reason")),
        "{found:?}"
    );
    let root = found
        .iter()
        .find(|i| i.path.is_empty())
        .expect("a top-level issue");
    assert!(root.to_string().starts_with("at the top level: "));
}

#[test]
fn list_items_of_the_wrong_type_point_at_the_item() {
    let schema = presets()
        .into_iter()
        .find(|p| p.id == "entities")
        .expect("the entities preset exists")
        .schema
        .to_json_schema();
    let found = issues(
        &schema,
        json!({"people": ["Ada", 7], "organizations": [], "locations": []}),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "/people/1");
}

#[test]
fn extra_keys_are_rejected() {
    let found = issues(
        &sentiment(),
        json!({"sentiment": "positive", "confidence": 1, "reason": "ok", "mood": "happy"}),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "");
    assert!(found[0].message.contains("mood"), "{}", found[0].message);
}

#[test]
fn a_non_object_answer_is_rejected_at_the_top_level() {
    let found = issues(&sentiment(), json!("positive"));
    assert!(found.iter().all(|i| i.path.is_empty()), "{found:?}");
}

#[test]
fn an_invalid_schema_does_not_compile() {
    let error = AnswerValidator::new(&json!({"type": "wat"})).expect_err("an unknown type");
    assert!(
        error
            .to_string()
            .starts_with("The response schema is not valid JSON Schema"),
        "{error}"
    );
}

#[test]
fn formats_are_checked_not_just_annotated() {
    let schema = json!({"type": "string", "format": "email"});
    assert!(!validator(&schema).is_valid(&json!("not an email")));
}
