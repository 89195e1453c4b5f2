//! Prompt templates: minijinja parsing, checking against the available names, rendering on a row.
//!
//! A template sees, for one row:
//! - every included column whose header is a plain identifier as a top-level variable
//!   (`{{ title }}`, see [`is_bare_variable`]),
//! - every included column, whatever its header, as `row["Header"]`,
//! - every system parameter as `system_params.key`.
//!
//! The same engine configuration is used by [`check`] (editor feedback, also in the browser)
//! and [`render`] (what the model receives), so a template that checks clean renders the
//! same way everywhere. See [`render`] for the rendering rules and limits.

mod check;
mod defaults;
mod engine;
mod issue;
mod names;
mod render;
mod suggest;

use serde::{Deserialize, Serialize};

pub use check::{check, unused_params};
pub use defaults::{DEFAULT_SYSTEM_PROMPT, default_user_template};
pub use engine::{MAX_NESTING, MAX_OPERATORS_PER_TAG, MAX_RENDERED_BYTES, RENDER_FUEL};
pub use issue::{IssueKind, TemplateIssue};
pub use names::{available_variables, is_bare_variable, string_literal};
pub use render::{PreparedTemplate, render};

/// What a template may refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableNames {
    /// Included headers, in order.
    pub columns: Vec<String>,
    /// System parameter keys.
    pub params: Vec<String>,
}

/// One row's values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptContext {
    /// Included `(header, cell)` pairs, in order.
    pub columns: Vec<(String, String)>,
    /// `(key, value)` system parameters.
    pub params: Vec<(String, String)>,
}

impl PromptContext {
    /// The names this row provides, for checking a template against it.
    pub fn available_names(&self) -> AvailableNames {
        AvailableNames {
            columns: self.columns.iter().map(|(h, _)| h.clone()).collect(),
            params: self.params.iter().map(|(k, _)| k.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_types_cross_the_server_boundary_unchanged() {
        let names = AvailableNames {
            columns: vec!["名前".into(), "a b".into()],
            params: vec!["lang".into()],
        };
        let ctx = PromptContext {
            columns: vec![("名前".into(), "<b>".into())],
            params: vec![("lang".into(), "fr".into())],
        };
        let issue = check("{{ titel }}", &names)
            .into_iter()
            .next()
            .expect("an issue");
        let json = serde_json::to_string(&(&names, &ctx, &issue)).expect("serialises");
        let back: (AvailableNames, PromptContext, TemplateIssue) =
            serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, (names.clone(), ctx.clone(), issue));
        assert_eq!(
            ctx.available_names(),
            AvailableNames {
                columns: vec!["名前".into()],
                params: vec!["lang".into()],
            }
        );
    }
}
