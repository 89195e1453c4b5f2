//! Builder fields survive the trip to JSON Schema and back, and through serde.

mod common;

use proptest::prelude::*;
use rowbench_schema::{ResponseSchema, presets};

proptest! {
    #[test]
    fn fields_to_schema_to_fields_is_the_identity(schema in common::any_schema()) {
        let imported = ResponseSchema::from_json_schema(&schema.to_json_schema());
        prop_assert_eq!(imported, Ok(schema));
    }

    #[test]
    fn fields_survive_the_trip_through_text(schema in common::any_schema()) {
        let text = serde_json::to_string_pretty(&schema.to_json_schema()).expect("a schema serializes");
        prop_assert_eq!(ResponseSchema::from_json_schema_text(&text), Ok(schema));
    }

    #[test]
    fn the_builder_model_survives_serde(schema in common::any_schema()) {
        let text = serde_json::to_string(&schema).expect("the builder model serializes");
        let back: ResponseSchema = serde_json::from_str(&text).expect("the builder model parses");
        prop_assert_eq!(back, schema);
    }

    #[test]
    fn generated_valid_schemas_have_no_problems(schema in common::valid_schema()) {
        prop_assert!(schema.problems().is_empty(), "{:?}", schema.problems());
    }
}

#[test]
fn every_preset_has_no_problems_and_round_trips() {
    let all = presets();
    assert_eq!(
        all.iter().map(|p| p.id).collect::<Vec<_>>(),
        ["sentiment", "entities", "yes_no"]
    );
    for preset in all {
        assert!(preset.schema.problems().is_empty(), "{}", preset.id);
        assert_eq!(
            ResponseSchema::from_json_schema(&preset.schema.to_json_schema()).as_ref(),
            Ok(&preset.schema),
            "{}",
            preset.id
        );
        assert_eq!(rowbench_schema::preset(preset.id).as_ref(), Some(&preset));
    }
}
