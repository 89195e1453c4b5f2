//! The builder model: the flat list of fields a user designs, its JSON Schema, its problems, and import back from JSON Schema.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use thiserror::Error;

/// The draft every generated schema declares; providers' structured-output modes expect it.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Longest accepted field name; provider tool-calling APIs cap property names around here.
pub const MAX_NAME_LEN: usize = 64;

/// What kind of value one field holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    Enum { options: Vec<String> },
    StringList,
}

impl FieldType {
    /// Every kind once, in the order a picker should offer them (enum with no options yet).
    pub fn all() -> [FieldType; 6] {
        [
            FieldType::String,
            FieldType::Number,
            FieldType::Integer,
            FieldType::Boolean,
            FieldType::Enum {
                options: Vec::new(),
            },
            FieldType::StringList,
        ]
    }

    /// The name shown to users, who are not expected to know JSON Schema terms.
    pub fn label(&self) -> &'static str {
        match self {
            FieldType::String => "Text",
            FieldType::Number => "Number",
            FieldType::Integer => "Whole number",
            FieldType::Boolean => "Yes/No",
            FieldType::Enum { .. } => "One of a list",
            FieldType::StringList => "List of text",
        }
    }

    /// A stable slug for a `<select>` value; the same as the serde `type` tag.
    pub fn kind_id(&self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Enum { .. } => "enum",
            FieldType::StringList => "string_list",
        }
    }

    /// The kind for a slug from [`FieldType::kind_id`]; an enum starts with no options.
    pub fn from_kind_id(id: &str) -> Option<FieldType> {
        FieldType::all()
            .into_iter()
            .find(|kind| kind.kind_id() == id)
    }

    fn to_json_schema(&self) -> Map<String, Value> {
        let mut out = Map::new();
        match self {
            FieldType::String => {
                out.insert("type".into(), json!("string"));
            }
            FieldType::Number => {
                out.insert("type".into(), json!("number"));
            }
            FieldType::Integer => {
                out.insert("type".into(), json!("integer"));
            }
            FieldType::Boolean => {
                out.insert("type".into(), json!("boolean"));
            }
            FieldType::Enum { options } => {
                out.insert("type".into(), json!("string"));
                out.insert("enum".into(), json!(options));
            }
            FieldType::StringList => {
                out.insert("type".into(), json!("array"));
                out.insert("items".into(), json!({"type": "string"}));
            }
        }
        out
    }
}

fn yes() -> bool {
    true
}

/// One named value the model must (or may) fill in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaField {
    pub name: String,
    #[serde(flatten)]
    pub kind: FieldType,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub required: bool,
}

impl SchemaField {
    /// A required field with no description.
    pub fn new(name: impl Into<String>, kind: FieldType) -> Self {
        SchemaField {
            name: name.into(),
            kind,
            description: String::new(),
            required: true,
        }
    }

    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// The shape of the answer the model gives for every row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseSchema {
    pub fields: Vec<SchemaField>,
}

/// Something wrong with one field, worded for the person building the schema.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum FieldProblem {
    #[error("Give this field a name.")]
    EmptyName,
    #[error(
        "\"{name}\" can't be used as a field name: use only letters, digits and underscores, and don't start with a digit."
    )]
    NameNotJsonFriendly { name: String },
    #[error("This name is {length} characters long; keep it to {MAX_NAME_LEN} or fewer.")]
    NameTooLong { length: usize },
    /// `earlier` is the 0-based index of the first field with this name.
    #[error("Field {} is already called \"{name}\"; each field needs its own name.", earlier + 1)]
    DuplicateName { name: String, earlier: usize },
    #[error("Add at least one option to choose from.")]
    NoOptions,
    /// `option` is the 0-based index of the empty option.
    #[error("Option {} is empty; type a value or remove it.", option + 1)]
    EmptyOption { option: usize },
    #[error("The option \"{value}\" is listed more than once.")]
    DuplicateOption { value: String },
}

/// Something wrong with the schema as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum SchemaProblem {
    #[error("Add at least one field for the model to fill in.")]
    NoFields,
}

/// Everything the builder would refuse to save, grouped so a form can show it next to each field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaErrors {
    /// (field index, problem), in field order.
    pub fields: Vec<(usize, FieldProblem)>,
    pub schema: Vec<SchemaProblem>,
}

impl SchemaErrors {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.schema.is_empty()
    }

    /// The problems of the field at `index`.
    pub fn for_field(&self, index: usize) -> Vec<&FieldProblem> {
        self.fields
            .iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, problem)| problem)
            .collect()
    }
}

/// Why a JSON Schema could not be turned into builder fields.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImportError {
    #[error("This isn't valid JSON: {0}")]
    InvalidJson(String),
    #[error("The schema must describe an object (\"type\": \"object\") with \"properties\".")]
    NotAnObjectSchema,
    /// Each entry reads `place: construct`, e.g. `properties.address: nested object`.
    #[error("The builder can't represent parts of this schema: {}.", constructs.join("; "))]
    Unsupported { constructs: Vec<String> },
}

/// Keywords that only annotate; dropping them on import loses nothing a validator checks.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
];

impl ResponseSchema {
    /// The fields' names, in schema order.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// The draft 2020-12 JSON Schema for this answer shape: every field a property, in field
    /// order, no other keys allowed.
    pub fn to_json_schema(&self) -> Value {
        let mut properties = Map::new();
        for field in &self.fields {
            let mut property = field.kind.to_json_schema();
            if !field.description.is_empty() {
                property.insert("description".into(), json!(field.description));
            }
            properties.insert(field.name.clone(), Value::Object(property));
        }
        let required: Vec<&str> = self
            .fields
            .iter()
            .filter(|field| field.required)
            .map(|field| field.name.as_str())
            .collect();
        json!({
            "$schema": DRAFT_2020_12,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// Everything that keeps this schema from being usable; empty when it is fine.
    pub fn problems(&self) -> SchemaErrors {
        let mut errors = SchemaErrors::default();
        if self.fields.is_empty() {
            errors.schema.push(SchemaProblem::NoFields);
        }
        for (index, field) in self.fields.iter().enumerate() {
            let mut report = |problem| errors.fields.push((index, problem));
            let name = field.name.as_str();
            if name.is_empty() {
                report(FieldProblem::EmptyName);
            } else {
                if !is_json_friendly(name) {
                    report(FieldProblem::NameNotJsonFriendly { name: name.into() });
                }
                let length = name.chars().count();
                if length > MAX_NAME_LEN {
                    report(FieldProblem::NameTooLong { length });
                }
                if let Some(earlier) = self.fields[..index].iter().position(|f| f.name == name) {
                    report(FieldProblem::DuplicateName {
                        name: name.into(),
                        earlier,
                    });
                }
            }
            if let FieldType::Enum { options } = &field.kind {
                if options.is_empty() {
                    report(FieldProblem::NoOptions);
                }
                for (option, value) in options.iter().enumerate() {
                    if value.trim().is_empty() {
                        report(FieldProblem::EmptyOption { option });
                    } else if options[..option].iter().filter(|o| *o == value).count() == 1 {
                        // Reported once, at the second occurrence, however often it repeats.
                        report(FieldProblem::DuplicateOption {
                            value: value.clone(),
                        });
                    }
                }
            }
        }
        errors
    }

    /// Parses JSON text and imports it; see [`ResponseSchema::from_json_schema`].
    pub fn from_json_schema_text(text: &str) -> Result<ResponseSchema, ImportError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ImportError::InvalidJson(e.to_string()))?;
        ResponseSchema::from_json_schema(&value)
    }

    /// Turns a flat object schema back into builder fields.
    ///
    /// Only what the builder can express is accepted. Any other validation keyword is
    /// reported rather than dropped, because silently dropping it would change which answers
    /// pass; pure annotations (`title`, `examples`, ...) are dropped.
    pub fn from_json_schema(schema: &Value) -> Result<ResponseSchema, ImportError> {
        let root = schema.as_object().ok_or(ImportError::NotAnObjectSchema)?;
        match root.get("type") {
            Some(Value::String(t)) if t == "object" => {}
            None if root.contains_key("properties") => {}
            _ => return Err(ImportError::NotAnObjectSchema),
        }

        let mut unsupported = Vec::new();
        let properties = match root.get("properties") {
            None => Map::new(),
            Some(Value::Object(properties)) => properties.clone(),
            Some(_) => {
                unsupported.push("properties: not an object".to_owned());
                Map::new()
            }
        };
        let mut required_names = Vec::new();
        match root.get("required") {
            None => {}
            Some(Value::Array(names)) => {
                for name in names {
                    match name.as_str() {
                        Some(name) if properties.contains_key(name) => required_names.push(name),
                        Some(name) => unsupported.push(format!(
                            "required.{name}: required but not listed in properties"
                        )),
                        None => unsupported.push(format!("required: non-text entry {name}")),
                    }
                }
            }
            Some(_) => unsupported.push("required: not a list".to_owned()),
        }
        for (key, value) in root {
            match key.as_str() {
                "type" | "properties" | "required" | "description" => {}
                "additionalProperties" if value.is_boolean() => {}
                "additionalProperties" => {
                    unsupported.push("additionalProperties: a schema for extra keys".to_owned())
                }
                other if ANNOTATIONS.contains(&other) => {}
                other => unsupported.push(construct_message("top level", other)),
            }
        }

        let mut fields = Vec::with_capacity(properties.len());
        for (name, property) in &properties {
            let place = format!("properties.{name}");
            match import_field(&place, property) {
                Ok((kind, description)) => fields.push(SchemaField {
                    name: name.clone(),
                    kind,
                    description,
                    required: required_names.contains(&name.as_str()),
                }),
                Err(mut problems) => unsupported.append(&mut problems),
            }
        }
        if unsupported.is_empty() {
            Ok(ResponseSchema { fields })
        } else {
            Err(ImportError::Unsupported {
                constructs: unsupported,
            })
        }
    }
}

/// `^[A-Za-z_][A-Za-z0-9_]*$`, written out so the browser build needs no regex engine.
pub fn is_json_friendly(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn construct_message(place: &str, keyword: &str) -> String {
    let construct = match keyword {
        "$ref" | "$dynamicRef" => "reference ($ref)".to_owned(),
        "$defs" | "definitions" => "shared definitions ($defs)".to_owned(),
        "anyOf" | "oneOf" | "allOf" | "not" => format!("combination ({keyword})"),
        "if" | "then" | "else" | "dependentSchemas" | "dependentRequired" => {
            format!("conditional ({keyword})")
        }
        "patternProperties" | "propertyNames" | "unevaluatedProperties" => {
            format!("dynamic keys ({keyword})")
        }
        other => format!("keyword \"{other}\""),
    };
    format!("{place}: {construct}")
}

/// One property schema as a field kind and description, or every reason it can't be one.
fn import_field(place: &str, property: &Value) -> Result<(FieldType, String), Vec<String>> {
    let Some(property) = property.as_object() else {
        return Err(vec![format!("{place}: schema that is just true or false")]);
    };
    let mut problems = Vec::new();

    let description = match property.get("description") {
        None => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(_) => {
            problems.push(format!("{place}.description: not text"));
            String::new()
        }
    };

    let enum_options = property.get("enum").map(|options| {
        options
            .as_array()
            .and_then(|options| {
                options
                    .iter()
                    .map(|o| o.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
            })
            .ok_or_else(|| format!("{place}: list of options that are not all text"))
    });

    let kind = match (property.get("type"), enum_options) {
        (_, Some(Err(problem))) => {
            problems.push(problem);
            None
        }
        (None, Some(Ok(options))) => Some(FieldType::Enum { options }),
        (Some(Value::String(t)), Some(Ok(options))) if t == "string" => {
            Some(FieldType::Enum { options })
        }
        (Some(Value::String(t)), Some(Ok(_))) => {
            problems.push(format!("{place}: list of options for a {t}"));
            None
        }
        (Some(Value::String(t)), None) => match t.as_str() {
            "string" => Some(FieldType::String),
            "number" => Some(FieldType::Number),
            "integer" => Some(FieldType::Integer),
            "boolean" => Some(FieldType::Boolean),
            "array" => match property.get("items") {
                None => {
                    problems.push(format!("{place}: array without items"));
                    None
                }
                Some(items) => match import_items(&format!("{place}.items"), items) {
                    Ok(()) => Some(FieldType::StringList),
                    Err(mut item_problems) => {
                        problems.append(&mut item_problems);
                        None
                    }
                },
            },
            "object" => {
                problems.push(format!("{place}: nested object"));
                None
            }
            "null" => {
                problems.push(format!("{place}: null type"));
                None
            }
            other => {
                problems.push(format!("{place}: unknown type \"{other}\""));
                None
            }
        },
        (Some(Value::Array(_)), _) => {
            problems.push(format!("{place}: several types (e.g. nullable)"));
            None
        }
        (Some(_), _) => {
            problems.push(format!("{place}: type that is not text"));
            None
        }
        (None, None) => {
            problems.push(format!("{place}: no type"));
            None
        }
    };

    for key in property.keys() {
        match key.as_str() {
            "type" | "description" | "enum" => {}
            // Already judged with the array type above.
            "items" if property.get("type").and_then(Value::as_str) == Some("array") => {}
            // A nested object is reported once as such, not keyword by keyword.
            "properties" | "required" | "additionalProperties"
                if property.get("type").and_then(Value::as_str) == Some("object") => {}
            other if ANNOTATIONS.contains(&other) => {}
            other => problems.push(construct_message(place, other)),
        }
    }

    match kind {
        Some(kind) if problems.is_empty() => Ok((kind, description)),
        _ => Err(problems),
    }
}

/// The `items` of an array field: only plain text items fit a "List of text".
fn import_items(place: &str, items: &Value) -> Result<(), Vec<String>> {
    let Some(items) = items.as_object() else {
        return Err(vec![format!("{place}: schema that is just true or false")]);
    };
    let mut problems = Vec::new();
    match items.get("type") {
        Some(Value::String(t)) if t == "string" => {}
        Some(Value::String(t)) => {
            problems.push(format!("{place}: array of {t}"));
        }
        Some(_) => problems.push(format!("{place}: several types")),
        None => problems.push(format!("{place}: items without a type")),
    }
    for key in items.keys() {
        match key.as_str() {
            "type" | "description" => {}
            other if ANNOTATIONS.contains(&other) => {}
            other => problems.push(construct_message(place, other)),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enum_of(options: &[&str]) -> FieldType {
        FieldType::Enum {
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    fn unsupported(schema: Value) -> Vec<String> {
        match ResponseSchema::from_json_schema(&schema) {
            Err(ImportError::Unsupported { constructs }) => constructs,
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn kind_ids_round_trip_and_match_the_serde_tag() {
        for kind in FieldType::all() {
            assert_eq!(FieldType::from_kind_id(kind.kind_id()), Some(kind.clone()));
            let tagged = serde_json::to_value(&kind).expect("a field type serializes");
            assert_eq!(tagged["type"], json!(kind.kind_id()));
        }
        assert_eq!(FieldType::from_kind_id("object"), None);
    }

    #[test]
    fn labels_use_plain_words() {
        let labels: Vec<&str> = FieldType::all().iter().map(FieldType::label).collect();
        assert_eq!(
            labels,
            [
                "Text",
                "Number",
                "Whole number",
                "Yes/No",
                "One of a list",
                "List of text"
            ]
        );
    }

    #[test]
    fn a_field_serializes_flat_and_defaults_to_required() {
        let field = SchemaField::new("tone", enum_of(&["calm", "angry"]));
        let value = serde_json::to_value(&field).expect("a field serializes");
        assert_eq!(
            value,
            json!({"name": "tone", "type": "enum", "options": ["calm", "angry"], "description": "", "required": true})
        );
        let parsed: SchemaField = serde_json::from_value(json!({"name": "n", "type": "integer"}))
            .expect("a minimal field parses");
        assert_eq!(parsed, SchemaField::new("n", FieldType::Integer));
    }

    #[test]
    fn the_json_schema_lists_properties_in_field_order_and_forbids_extra_keys() {
        let schema = ResponseSchema {
            fields: vec![
                SchemaField::new("zebra", FieldType::String).with_description("Stripes"),
                SchemaField::new("apple", enum_of(&["a", "b"])).optional(),
                SchemaField::new("tags", FieldType::StringList),
                SchemaField::new("n", FieldType::Integer),
                SchemaField::new("x", FieldType::Number),
                SchemaField::new("ok", FieldType::Boolean),
            ],
        };
        let expected = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "zebra": {"type": "string", "description": "Stripes"},
                "apple": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "n": {"type": "integer"},
                "x": {"type": "number"},
                "ok": {"type": "boolean"}
            },
            "required": ["zebra", "tags", "n", "x", "ok"],
            "additionalProperties": false
        });
        let actual = schema.to_json_schema();
        assert_eq!(actual, expected);
        let keys: Vec<&String> = actual["properties"]
            .as_object()
            .expect("properties is an object")
            .keys()
            .collect();
        assert_eq!(keys, ["zebra", "apple", "tags", "n", "x", "ok"]);
    }

    #[test]
    fn a_schema_without_fields_is_a_problem() {
        let errors = ResponseSchema::default().problems();
        assert_eq!(errors.schema, [SchemaProblem::NoFields]);
        assert!(!errors.is_empty());
    }

    #[test]
    fn a_good_schema_has_no_problems() {
        let schema = ResponseSchema {
            fields: vec![
                SchemaField::new("_private9", FieldType::String),
                SchemaField::new("Kind", enum_of(&["a", "b"])),
            ],
        };
        assert!(schema.problems().is_empty());
    }

    #[test]
    fn field_names_must_be_present_json_friendly_short_and_unique() {
        let schema = ResponseSchema {
            fields: vec![
                SchemaField::new("", FieldType::String),
                SchemaField::new("first name", FieldType::String),
                SchemaField::new("9lives", FieldType::String),
                SchemaField::new("x".repeat(65), FieldType::String),
                SchemaField::new("score", FieldType::Number),
                SchemaField::new("score", FieldType::Integer),
            ],
        };
        let errors = schema.problems();
        assert_eq!(errors.for_field(0), [&FieldProblem::EmptyName]);
        assert!(matches!(
            errors.for_field(1)[..],
            [FieldProblem::NameNotJsonFriendly { .. }]
        ));
        assert!(matches!(
            errors.for_field(2)[..],
            [FieldProblem::NameNotJsonFriendly { .. }]
        ));
        assert_eq!(
            errors.for_field(3),
            [&FieldProblem::NameTooLong { length: 65 }]
        );
        assert!(errors.for_field(4).is_empty());
        let duplicate = FieldProblem::DuplicateName {
            name: "score".into(),
            earlier: 4,
        };
        assert_eq!(errors.for_field(5), [&duplicate]);
        assert_eq!(
            duplicate.to_string(),
            "Field 5 is already called \"score\"; each field needs its own name."
        );
    }

    #[test]
    fn enum_options_must_exist_be_non_empty_and_distinct() {
        let schema = ResponseSchema {
            fields: vec![
                SchemaField::new("a", enum_of(&[])),
                SchemaField::new("b", enum_of(&["yes", " ", "no"])),
                SchemaField::new("c", enum_of(&["x", "x", "y", "x"])),
            ],
        };
        let errors = schema.problems();
        assert_eq!(errors.for_field(0), [&FieldProblem::NoOptions]);
        assert_eq!(
            errors.for_field(1),
            [&FieldProblem::EmptyOption { option: 1 }]
        );
        assert_eq!(
            errors.for_field(2),
            [&FieldProblem::DuplicateOption { value: "x".into() }]
        );
        assert_eq!(
            FieldProblem::EmptyOption { option: 1 }.to_string(),
            "Option 2 is empty; type a value or remove it."
        );
    }

    #[test]
    fn import_reads_back_an_exported_schema() {
        let schema = ResponseSchema {
            fields: vec![
                SchemaField::new("label", enum_of(&["spam", "ham"])).with_description("Kind"),
                SchemaField::new("notes", FieldType::String).optional(),
                SchemaField::new("tags", FieldType::StringList),
            ],
        };
        let imported = ResponseSchema::from_json_schema(&schema.to_json_schema())
            .expect("an exported schema imports");
        assert_eq!(imported, schema);
    }

    #[test]
    fn import_accepts_basic_schemas_without_the_dollar_schema_line() {
        let imported = ResponseSchema::from_json_schema(&json!({
            "title": "Answer",
            "type": "object",
            "properties": {
                "mood": {"enum": ["up", "down"]},
                "count": {"type": "integer", "title": "How many"},
                "score": {"type": "number"},
                "ok": {"type": "boolean"},
                "names": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["mood"]
        }))
        .expect("a basic schema imports");
        assert_eq!(
            imported.fields,
            [
                SchemaField::new("mood", enum_of(&["up", "down"])),
                SchemaField::new("count", FieldType::Integer).optional(),
                SchemaField::new("score", FieldType::Number).optional(),
                SchemaField::new("ok", FieldType::Boolean).optional(),
                SchemaField::new("names", FieldType::StringList).optional(),
            ]
        );
    }

    #[test]
    fn import_names_every_unsupported_construct_with_its_place() {
        let constructs = unsupported(json!({
            "type": "object",
            "properties": {
                "address": {"type": "object", "properties": {"city": {"type": "string"}}},
                "tags": {"type": "array", "items": {"type": "number"}},
                "maybe": {"type": ["string", "null"]},
                "age": {"type": "integer", "minimum": 0},
                "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "linked": {"$ref": "#/$defs/thing"}
            },
            "$defs": {"thing": {"type": "string"}},
            "patternProperties": {"^x": {"type": "string"}}
        }));
        for expected in [
            "properties.address: nested object",
            "properties.tags.items: array of number",
            "properties.maybe: several types (e.g. nullable)",
            "properties.age: keyword \"minimum\"",
            "properties.either: combination (anyOf)",
            "properties.linked: reference ($ref)",
            "top level: shared definitions ($defs)",
            "top level: dynamic keys (patternProperties)",
        ] {
            assert!(
                constructs.iter().any(|c| c == expected),
                "missing {expected:?} in {constructs:?}"
            );
        }
    }

    #[test]
    fn import_refuses_required_names_that_are_not_properties() {
        let constructs = unsupported(json!({
            "type": "object", "properties": {}, "required": ["ghost"]
        }));
        assert_eq!(
            constructs,
            ["required.ghost: required but not listed in properties"]
        );
    }

    #[test]
    fn import_refuses_schemas_that_are_not_objects() {
        for schema in [
            json!({"type": "string"}),
            json!([1, 2]),
            json!({"type": "array", "items": {}}),
            json!({}),
        ] {
            assert_eq!(
                ResponseSchema::from_json_schema(&schema),
                Err(ImportError::NotAnObjectSchema),
                "{schema}"
            );
        }
    }

    #[test]
    fn import_of_broken_json_says_where_it_broke() {
        let error = ResponseSchema::from_json_schema_text("{\n  \"type\": \"object\",\n}")
            .expect_err("trailing comma is invalid JSON");
        let ImportError::InvalidJson(message) = &error else {
            panic!("expected InvalidJson, got {error:?}");
        };
        assert!(message.contains("line 3"), "{message}");
        assert!(error.to_string().starts_with("This isn't valid JSON"));
    }

    #[test]
    fn unsupported_errors_read_as_one_sentence() {
        let error = ImportError::Unsupported {
            constructs: vec![
                "properties.a: nested object".into(),
                "properties.b: no type".into(),
            ],
        };
        assert_eq!(
            error.to_string(),
            "The builder can't represent parts of this schema: properties.a: nested object; properties.b: no type."
        );
    }
}
