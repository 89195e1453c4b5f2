//! Ready-made response schemas a user can start from instead of an empty builder.

use crate::fields::{FieldType, ResponseSchema, SchemaField};

/// A named starting point for the schema builder.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Stable slug, safe to store and to use in URLs.
    pub id: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub schema: ResponseSchema,
}

/// The built-in presets, in the order a picker should list them.
pub fn presets() -> Vec<Preset> {
    vec![
        Preset {
            id: "sentiment",
            label: "Sentiment",
            description: "Classify each text as positive, neutral or negative, with a confidence and a short reason.",
            schema: ResponseSchema {
                fields: vec![
                    SchemaField::new(
                        "sentiment",
                        FieldType::Enum {
                            options: vec!["positive".into(), "neutral".into(), "negative".into()],
                        },
                    )
                    .with_description("The overall feeling the text expresses."),
                    SchemaField::new("confidence", FieldType::Number)
                        .with_description("How sure you are, from 0 (a guess) to 1 (certain)."),
                    SchemaField::new("reason", FieldType::String)
                        .with_description("One sentence explaining the choice."),
                ],
            },
        },
        Preset {
            id: "entities",
            label: "Entity extraction",
            description: "List the people, organizations and locations each text mentions.",
            schema: ResponseSchema {
                fields: vec![
                    SchemaField::new("people", FieldType::StringList)
                        .with_description("Names of people mentioned; empty if none."),
                    SchemaField::new("organizations", FieldType::StringList).with_description(
                        "Companies, institutions and other organizations mentioned; empty if none.",
                    ),
                    SchemaField::new("locations", FieldType::StringList).with_description(
                        "Places mentioned: cities, countries, addresses; empty if none.",
                    ),
                ],
            },
        },
        Preset {
            id: "yes_no",
            label: "Yes/No with reason",
            description: "Answer a yes/no question about each row and say why.",
            schema: ResponseSchema {
                fields: vec![
                    SchemaField::new("answer", FieldType::Boolean)
                        .with_description("true for yes, false for no."),
                    SchemaField::new("reason", FieldType::String)
                        .with_description("One sentence explaining the answer."),
                ],
            },
        },
    ]
}

/// The preset with this id.
pub fn preset(id: &str) -> Option<Preset> {
    presets().into_iter().find(|preset| preset.id == id)
}
