//! The one error every use case answers with. The Leptos server functions and the JSON API each
//! map it to their own shape; neither ever sees a database error or a query.

use serde_json::Value;

/// Why a use case did not do what it was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist, or is not the actor's.
    #[error("{what} was not found")]
    NotFound {
        /// What was looked for, as a sentence's subject: `Batch 7`, `The dataset`.
        what: String,
    },
    /// The request cannot be done as asked; the message says what and where.
    #[error("{message}")]
    Invalid {
        /// A stable machine-readable name (`invalid_recipe`, `too_many_fields`…).
        code: &'static str,
        message: String,
        /// Where and what exactly, for clients that point at the field (`Null` when nothing).
        details: Value,
    },
    /// The request is fine but does not apply to the thing in its current state.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Value,
    },
    /// The actor is known but their role does not allow this, inside their own workspace.
    #[error("{message}")]
    Forbidden { message: String },
    /// Something failed on the server; its cause was logged where it happened.
    #[error("Something went wrong on the server; the server log has the details.")]
    Internal,
}

impl Error {
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden {
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// The same error with `details` (a no-op on `NotFound` and `Internal`).
    pub fn with_details(mut self, value: Value) -> Self {
        if let Error::Invalid { details, .. } | Error::Conflict { details, .. } = &mut self {
            *details = value;
        }
        self
    }

    /// An internal failure: `cause` is logged here, with what was being done, and never sent.
    #[cfg(feature = "server")]
    pub fn internal(doing: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{doing} failed");
        Error::Internal
    }
}

#[cfg(feature = "server")]
impl From<rowbench_store::StoreError> for Error {
    fn from(err: rowbench_store::StoreError) -> Self {
        tracing::error!(error = %err, "database error");
        Error::Internal
    }
}

/// What a use case answers.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_not_found_error_reads_as_a_sentence_about_the_thing() {
        assert_eq!(
            Error::not_found("Batch 7").to_string(),
            "Batch 7 was not found"
        );
    }

    #[test]
    fn details_stay_on_the_errors_that_carry_them() {
        let invalid = Error::invalid("too_many_fields", "Too many.").with_details(json!({"a": 1}));
        assert!(matches!(invalid, Error::Invalid { details, .. } if details == json!({"a": 1})));
        assert_eq!(
            Error::not_found("x").with_details(json!(1)),
            Error::not_found("x")
        );
    }
}
