//! The answer-issue record: kept outside the `validate` feature so the browser can show issues the server found.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One way an answer breaks the schema, worded so it can be fed back to the model in a repair prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerIssue {
    /// JSON pointer into the answer, `""` for the answer as a whole.
    pub path: String,
    pub message: String,
}

impl fmt::Display for AnswerIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "at the top level: {}", self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}
