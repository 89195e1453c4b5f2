//! Response schemas: fields a user designs, the JSON Schema they make, import, presets, answer validation.

pub mod fields;
pub mod issue;
pub mod presets;
pub mod synthetic;
#[cfg(feature = "validate")]
pub mod validate;

pub use fields::{
    FieldProblem, FieldType, ImportError, ResponseSchema, SchemaErrors, SchemaField, SchemaProblem,
};
pub use issue::AnswerIssue;
pub use presets::{Preset, preset, presets};
pub use synthetic::example_answer;
#[cfg(feature = "validate")]
pub use validate::{AnswerValidator, SchemaCompileError};
