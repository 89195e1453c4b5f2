//! OpenAI's strict structured outputs, which take only schemas whose every property is required:
//! an optional field is sent as required but nullable, and a `null` the model gives for it is
//! dropped from the answer again, so the answer is checked against the schema as the user wrote
//! it.

use serde_json::{Map, Value, json};

/// `schema` as strict mode accepts it: in every object, every property listed in `required`,
/// the ones that were not made nullable (a `null` type, and `null` among an `enum`'s options).
pub fn strict_schema(schema: &Value) -> Value {
    let mut schema = schema.clone();
    make_strict(&mut schema);
    schema
}

fn make_strict(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(items) = object.get_mut("items") {
        make_strict(items);
    }
    if !matches!(object.get("properties"), Some(Value::Object(_))) {
        return;
    }
    let required = required_names(object.get("required"));
    let Some(Value::Object(properties)) = object.get_mut("properties") else {
        return;
    };
    let mut all = Vec::with_capacity(properties.len());
    for (name, property) in properties.iter_mut() {
        make_strict(property);
        if !required.contains(name) {
            make_nullable(property);
        }
        all.push(Value::String(name.clone()));
    }
    object.insert("required".to_owned(), Value::Array(all));
}

/// Lets `property` be `null` as well as what it was.
fn make_nullable(property: &mut Value) {
    let Some(object) = property.as_object_mut() else {
        return;
    };
    match object.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = std::mem::take(kind);
            object.insert("type".to_owned(), json!([kind, "null"]));
        }
        Some(Value::Array(kinds)) if !kinds.iter().any(|k| k == "null") => {
            kinds.push(json!("null"));
        }
        Some(_) => {}
        None => {
            let original = Value::Object(std::mem::take(object));
            object.insert("anyOf".to_owned(), json!([original, {"type": "null"}]));
            return;
        }
    }
    if let Some(Value::Array(options)) = object.get_mut("enum")
        && !options.iter().any(Value::is_null)
    {
        options.push(Value::Null);
    }
}

/// `answer` with the `null`s of the properties `schema` does not require removed, in every
/// object the schema describes: what a strict-mode answer means by "no value".
pub fn drop_null_optionals(answer: Value, schema: &Value) -> Value {
    match answer {
        Value::Object(fields) => Value::Object(clean_object(fields, schema)),
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => Value::Array(
                items
                    .into_iter()
                    .map(|item| drop_null_optionals(item, item_schema))
                    .collect(),
            ),
            None => Value::Array(items),
        },
        other => other,
    }
}

fn clean_object(fields: Map<String, Value>, schema: &Value) -> Map<String, Value> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return fields;
    };
    let required = required_names(schema.get("required"));
    fields
        .into_iter()
        .filter(|(name, value)| !value.is_null() || required.contains(name))
        .map(|(name, value)| {
            let value = match properties.get(&name) {
                Some(property) => drop_null_optionals(value, property),
                None => value,
            };
            (name, value)
        })
        .collect()
}

fn required_names(required: Option<&Value>) -> Vec<String> {
    required
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "label": {"type": "string", "enum": ["a", "b"]},
                "note": {"type": "string", "description": "Why"},
                "score": {"type": ["number"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
            },
            "required": ["label"],
            "additionalProperties": false
        })
    }

    #[test]
    fn optional_fields_become_required_and_nullable_and_required_ones_stay_as_they_were() {
        let strict = strict_schema(&schema());
        assert_eq!(
            strict["required"],
            json!(["label", "note", "score", "tags", "either"])
        );
        let properties = &strict["properties"];
        assert_eq!(properties["label"], schema()["properties"]["label"]);
        assert_eq!(
            properties["note"],
            json!({"type": ["string", "null"], "description": "Why"})
        );
        assert_eq!(properties["score"]["type"], json!(["number", "null"]));
        assert_eq!(properties["tags"]["type"], json!(["array", "null"]));
        assert_eq!(
            properties["either"],
            json!({"anyOf": [{"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "null"}]})
        );
        assert_eq!(strict["additionalProperties"], false);
    }

    #[test]
    fn an_optional_enum_takes_null_among_its_options() {
        let strict = strict_schema(&json!({
            "type": "object",
            "properties": {"mood": {"type": "string", "enum": ["up", "down"]}},
            "required": []
        }));
        assert_eq!(
            strict["properties"]["mood"],
            json!({"type": ["string", "null"], "enum": ["up", "down", null]})
        );
    }

    #[test]
    fn nested_objects_are_made_strict_too() {
        let strict = strict_schema(&json!({
            "type": "object",
            "properties": {"who": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "required": ["who"]
        }));
        assert_eq!(strict["properties"]["who"]["required"], json!(["name"]));
        assert_eq!(
            strict["properties"]["who"]["properties"]["name"]["type"],
            json!(["string", "null"])
        );
    }

    #[test]
    fn nulls_of_optional_fields_are_dropped_and_everything_else_is_kept() {
        let answer = json!({"label": "a", "note": null, "score": 0.5, "tags": null, "either": 3});
        assert_eq!(
            drop_null_optionals(answer, &schema()),
            json!({"label": "a", "score": 0.5, "either": 3})
        );
        let broken = json!({"label": null});
        assert_eq!(
            drop_null_optionals(broken.clone(), &schema()),
            broken,
            "a required field's null stays, for validation to report"
        );
        assert_eq!(drop_null_optionals(json!("text"), &schema()), json!("text"));
    }
}
