//! Answer validation: compiles a response schema once and checks model answers against it (server only, feature `validate`).

use std::fmt;

use serde_json::Value;
use thiserror::Error;

pub use crate::issue::AnswerIssue;

/// A compiled response schema, reused for every row of a batch.
pub struct AnswerValidator {
    validator: jsonschema::Validator,
}

impl fmt::Debug for AnswerValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnswerValidator").finish_non_exhaustive()
    }
}

/// The schema itself is not valid JSON Schema (or uses a reference that can't be resolved).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("The response schema is not valid JSON Schema: {message}")]
pub struct SchemaCompileError {
    pub message: String,
}

impl AnswerValidator {
    /// Compiles `schema`, first checking it against its meta-schema.
    ///
    /// Formats (`email`, `date`, ...) are checked, not just annotated: a repair prompt is
    /// cheaper than a malformed value reaching the export.
    pub fn new(schema: &Value) -> Result<Self, SchemaCompileError> {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .map_err(|error| SchemaCompileError {
                message: error.to_string(),
            })?;
        Ok(AnswerValidator { validator })
    }

    /// Every issue with `answer`, in the order the validator finds them.
    pub fn validate(&self, answer: &Value) -> Result<(), Vec<AnswerIssue>> {
        let issues: Vec<AnswerIssue> = self
            .validator
            .iter_errors(answer)
            .map(|error| AnswerIssue {
                path: error.instance_path().as_str().to_owned(),
                message: error.to_string(),
            })
            .collect();
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues)
        }
    }

    pub fn is_valid(&self, answer: &Value) -> bool {
        self.validator.is_valid(answer)
    }
}
