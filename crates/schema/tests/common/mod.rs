//! Shared proptest strategies: random builder schemas, both anything-goes and ones the builder would accept.

use proptest::prelude::*;
use rowbench_schema::{FieldType, ResponseSchema, SchemaField};

fn kind(options: BoxedStrategy<Vec<String>>) -> impl Strategy<Value = FieldType> {
    prop_oneof![
        Just(FieldType::String),
        Just(FieldType::Number),
        Just(FieldType::Integer),
        Just(FieldType::Boolean),
        options.prop_map(|options| FieldType::Enum { options }),
        Just(FieldType::StringList),
    ]
}

fn fields(
    name: &'static str,
    options: BoxedStrategy<Vec<String>>,
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = ResponseSchema> {
    prop::collection::vec((name, kind(options), ".{0,20}", any::<bool>()), count).prop_map(|raw| {
        let mut fields: Vec<SchemaField> = Vec::new();
        for (name, kind, description, required) in raw {
            // Two properties can't share a name in JSON, so duplicates are not representable.
            if fields.iter().all(|f| f.name != name) {
                fields.push(SchemaField {
                    name,
                    kind,
                    description,
                    required,
                });
            }
        }
        ResponseSchema { fields }
    })
}

/// Any builder state with distinct names, including ones `problems()` would flag
/// (odd names, empty or repeated options).
#[allow(dead_code)]
pub fn any_schema() -> impl Strategy<Value = ResponseSchema> {
    fields(
        ".{0,12}",
        prop::collection::vec(".{0,8}", 0..4).boxed(),
        0..8,
    )
}

/// Builder states with no problems at all.
#[allow(dead_code)]
pub fn valid_schema() -> impl Strategy<Value = ResponseSchema> {
    let options = prop::collection::btree_set("[a-z][a-z ]{0,10}", 1..5)
        .prop_map(|set| set.into_iter().collect())
        .boxed();
    fields("[A-Za-z_][A-Za-z0-9_]{0,20}", options, 1..8)
}
