//! Breaking a schema-valid answer in the ways models really do: a required key left out, a value of
//! the wrong type, an extra key where the schema allows none.

use serde_json::{Value, json};

enum Violation<'a> {
    MissingKey(&'a str),
    WrongType(&'a str, &'a str),
    ExtraKey,
}

const EXTRA_KEY: &str = "unexpected_extra_key";

/// `answer` (valid for `schema`) turned invalid; `pick` chooses among the possible breakages so
/// a run sees all of them.
pub(crate) fn violate(mut answer: Value, schema: &Value, pick: u64) -> Value {
    let Some(object) = answer.as_object_mut() else {
        return wrong_type_for(schema);
    };
    let mut candidates = Vec::new();
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        candidates.extend(
            required
                .iter()
                .filter_map(Value::as_str)
                .filter(|key| object.contains_key(*key))
                .map(Violation::MissingKey),
        );
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        candidates.extend(
            properties
                .iter()
                .filter(|(key, _)| object.contains_key(key.as_str()))
                .filter_map(|(key, property)| {
                    let type_name = property.get("type")?.as_str()?;
                    Some(Violation::WrongType(key, type_name))
                }),
        );
    }
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    let extra_is_unknown = schema
        .get("properties")
        .and_then(|properties| properties.get(EXTRA_KEY))
        .is_none();
    if closed && extra_is_unknown {
        candidates.push(Violation::ExtraKey);
    }
    let Some(violation) = usize::try_from(pick)
        .ok()
        .and_then(|pick| candidates.get(pick % candidates.len().max(1)))
    else {
        return wrong_type_for(schema);
    };
    match violation {
        Violation::MissingKey(key) => {
            object.remove(*key);
        }
        Violation::WrongType(key, type_name) => {
            object.insert((*key).to_owned(), value_not_of_type(type_name));
        }
        Violation::ExtraKey => {
            object.insert(
                EXTRA_KEY.to_owned(),
                json!("the schema does not allow this"),
            );
        }
    }
    answer
}

/// A whole answer of the wrong type, for schemas that leave nothing inside to break.
fn wrong_type_for(schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some(type_name) => value_not_of_type(type_name),
        None => json!("not the answer you asked for"),
    }
}

fn value_not_of_type(type_name: &str) -> Value {
    match type_name {
        "string" => json!(12345),
        "integer" | "number" => json!("12"),
        "boolean" => json!("true"),
        "array" => json!("not a list"),
        "null" => json!(0),
        _ => json!("not an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {"label": {"type": "string"}, "score": {"type": "number"}},
            "required": ["label", "score"],
            "additionalProperties": false
        })
    }

    #[test]
    fn each_pick_breaks_the_answer_differently() {
        let answer = json!({"label": "spam", "score": 0.5});
        let broken: Vec<Value> = (0..5)
            .map(|pick| violate(answer.clone(), &schema(), pick))
            .collect();
        assert_eq!(broken[0], json!({"score": 0.5}));
        assert_eq!(broken[1], json!({"label": "spam"}));
        assert_eq!(broken[2], json!({"label": 12345, "score": 0.5}));
        assert_eq!(broken[3], json!({"label": "spam", "score": "12"}));
        assert_eq!(
            broken[4],
            json!({"label": "spam", "score": 0.5, "unexpected_extra_key": "the schema does not allow this"})
        );
    }

    #[test]
    fn an_answer_with_nothing_to_break_inside_gets_the_wrong_type() {
        assert_eq!(
            violate(json!({}), &json!({"type": "object"}), 3),
            json!("not an object")
        );
        assert_eq!(
            violate(json!("yes"), &json!({"type": "string"}), 0),
            json!(12345)
        );
    }
}
