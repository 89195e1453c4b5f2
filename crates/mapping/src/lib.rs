//! Column mapping: for each column of a dataset, whether the model ignores it, reads it in the
//! prompt, or receives it as a system parameter under a key; and which columns identify a row.
//!
//! Pure rules with no I/O, so the browser can check a mapping as it is edited and the server
//! can check it again before saving.
//!
//! ```
//! use rowbench_mapping::{ColumnMapping, Role};
//!
//! let mut mapping = ColumnMapping::from_headers(&["Ticket ID", "Body", "Language"]);
//! mapping.columns[2].role = Role::Param { key: mapping.columns[2].default_key() };
//! mapping.columns[0].is_key = true;
//! assert!(mapping.validate().is_ok());
//! assert_eq!(mapping.params().collect::<Vec<_>>(), [("language", "Language")]);
//! ```

mod slug;
mod suggest;

use serde::{Deserialize, Serialize};

pub use slug::slug;

/// What the model gets of a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// Not sent to the model.
    Ignore,
    /// Available to the prompt template by its column name.
    Include,
    /// Sent as `system_params.<key>`.
    Param { key: String },
}

/// One column's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSetting {
    /// The column's (already de-duplicated) header name.
    pub name: String,
    #[serde(flatten)]
    pub role: Role,
    /// Shown in the queue and the export to recognise a row.
    #[serde(default)]
    pub is_key: bool,
    /// The answer field this column holds the expected (gold) answer for: compared with the
    /// model's answer for the batch's accuracy, and never sent to the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_for: Option<String>,
}

impl ColumnSetting {
    /// The parameter key this column gets unless the user types another one.
    pub fn default_key(&self) -> String {
        slug(&self.name)
    }
}

/// Every column's settings, in the dataset's column order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub columns: Vec<ColumnSetting>,
}

/// A problem with one column's settings, for the message next to that column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ColumnProblem {
    #[error("the parameter key is empty")]
    EmptyKey,
    #[error(
        "the parameter key \"{0}\" must start with a letter or _ and contain only letters, digits and _"
    )]
    InvalidKey(String),
    #[error("the parameter key \"{key}\" is also used by column \"{other}\"")]
    DuplicateKey { key: String, other: String },
    #[error(
        "this column holds the expected answer for \"{field}\", so it must not be sent to the model: set Use to Ignore"
    )]
    GoldIsSent { field: String },
    #[error("column \"{other}\" already holds the expected answer for \"{field}\"")]
    DuplicateGold { field: String, other: String },
}

/// A problem with the mapping as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum MappingProblem {
    #[error("no column is sent to the model: include at least one, or send one as a parameter")]
    NothingSent,
}

/// Everything wrong with a mapping: per column (by position) and overall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingErrors {
    pub columns: Vec<(usize, ColumnProblem)>,
    pub mapping: Vec<MappingProblem>,
}

impl MappingErrors {
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.mapping.is_empty()
    }

    /// The problem of the column at `position`, if any.
    pub fn for_column(&self, position: usize) -> Option<&ColumnProblem> {
        self.columns
            .iter()
            .find(|(p, _)| *p == position)
            .map(|(_, problem)| problem)
    }
}

impl ColumnMapping {
    /// The starting point: every column included in the prompt, none marked as key.
    pub fn from_headers<S: AsRef<str>>(headers: &[S]) -> Self {
        ColumnMapping {
            columns: headers
                .iter()
                .map(|h| ColumnSetting {
                    name: h.as_ref().to_string(),
                    role: Role::Include,
                    is_key: false,
                    gold_for: None,
                })
                .collect(),
        }
    }

    /// The included columns' names, in order.
    pub fn included(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .filter(|c| c.role == Role::Include)
            .map(|c| c.name.as_str())
    }

    /// `(position, field)` of every column holding expected answers, in order.
    pub fn gold(&self) -> impl Iterator<Item = (usize, &str)> {
        self.columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.gold_for.as_deref().map(|f| (i, f)))
    }

    /// `(key, column name)` of every parameter column, in order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.columns.iter().filter_map(|c| match &c.role {
            Role::Param { key } => Some((key.as_str(), c.name.as_str())),
            _ => None,
        })
    }

    /// Checks every key (non-empty, an identifier, unique) and that the model gets something.
    pub fn validate(&self) -> Result<(), MappingErrors> {
        let mut errors = MappingErrors::default();
        for (position, column) in self.columns.iter().enumerate() {
            if let Some(field) = column.gold_for.as_deref() {
                let problem = if column.role != Role::Ignore {
                    Some(ColumnProblem::GoldIsSent {
                        field: field.to_string(),
                    })
                } else {
                    self.columns[..position]
                        .iter()
                        .find(|other| other.gold_for.as_deref() == Some(field))
                        .map(|other| ColumnProblem::DuplicateGold {
                            field: field.to_string(),
                            other: other.name.clone(),
                        })
                };
                if let Some(problem) = problem {
                    errors.columns.push((position, problem));
                    continue;
                }
            }
            let Role::Param { key } = &column.role else {
                continue;
            };
            let problem = if key.is_empty() {
                Some(ColumnProblem::EmptyKey)
            } else if !is_identifier(key) {
                Some(ColumnProblem::InvalidKey(key.clone()))
            } else {
                self.columns[..position]
                    .iter()
                    .find(|other| matches!(&other.role, Role::Param { key: k } if k == key))
                    .map(|other| ColumnProblem::DuplicateKey {
                        key: key.clone(),
                        other: other.name.clone(),
                    })
            };
            if let Some(problem) = problem {
                errors.columns.push((position, problem));
            }
        }
        if self.columns.iter().all(|c| c.role == Role::Ignore) {
            errors.mapping.push(MappingProblem::NothingSent);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A name a template can write after `system_params.`: a letter or `_`, then letters, digits, `_`.
pub fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(mapping: &mut ColumnMapping, position: usize, key: &str) {
        mapping.columns[position].role = Role::Param {
            key: key.to_string(),
        };
    }

    #[test]
    fn a_new_mapping_includes_every_column_in_order() {
        let mapping = ColumnMapping::from_headers(&["a", "b"]);
        assert_eq!(mapping.included().collect::<Vec<_>>(), ["a", "b"]);
        assert!(mapping.validate().is_ok());
    }

    #[test]
    fn parameters_are_listed_with_their_keys() {
        let mut mapping = ColumnMapping::from_headers(&["Body", "Lang", "Tone"]);
        param(&mut mapping, 1, "lang");
        param(&mut mapping, 2, "tone");
        assert_eq!(
            mapping.params().collect::<Vec<_>>(),
            [("lang", "Lang"), ("tone", "Tone")]
        );
        assert_eq!(mapping.included().collect::<Vec<_>>(), ["Body"]);
    }

    #[test]
    fn a_gold_column_must_be_ignored_and_only_one_holds_each_field() {
        let mut mapping = ColumnMapping::from_headers(&["text", "label", "label2"]);
        mapping.columns[1].gold_for = Some("sentiment".into());
        let errors = mapping
            .validate()
            .expect_err("a gold column sent to the model");
        assert_eq!(
            errors.for_column(1),
            Some(&ColumnProblem::GoldIsSent {
                field: "sentiment".into()
            })
        );
        mapping.columns[1].role = Role::Ignore;
        assert!(mapping.validate().is_ok());
        assert_eq!(mapping.gold().collect::<Vec<_>>(), [(1, "sentiment")]);
        mapping.columns[2].role = Role::Ignore;
        mapping.columns[2].gold_for = Some("sentiment".into());
        let errors = mapping
            .validate()
            .expect_err("two gold columns for one field");
        assert_eq!(
            errors.for_column(2),
            Some(&ColumnProblem::DuplicateGold {
                field: "sentiment".into(),
                other: "label".into()
            })
        );
        // Saved mappings from before gold columns read as none.
        let old: ColumnMapping =
            serde_json::from_str(r#"{"columns":[{"name":"a","role":"include"}]}"#).expect("reads");
        assert_eq!(old.columns[0].gold_for, None);
    }

    #[test]
    fn an_empty_key_is_reported_on_its_column() {
        let mut mapping = ColumnMapping::from_headers(&["a", "b"]);
        param(&mut mapping, 1, "");
        let errors = mapping.validate().expect_err("empty key");
        assert_eq!(errors.for_column(1), Some(&ColumnProblem::EmptyKey));
        assert_eq!(errors.for_column(0), None);
    }

    #[test]
    fn a_key_that_is_not_an_identifier_is_refused_with_the_rule() {
        for bad in ["1st", "has space", "dash-ed", "dot.ted", "é"] {
            let mut mapping = ColumnMapping::from_headers(&["a"]);
            param(&mut mapping, 0, bad);
            let errors = mapping.validate().expect_err(bad);
            let problem = errors.for_column(0).expect("column 0");
            assert_eq!(problem, &ColumnProblem::InvalidKey(bad.to_string()));
            assert!(
                problem
                    .to_string()
                    .contains("must start with a letter or _"),
                "{problem}"
            );
        }
    }

    #[test]
    fn a_repeated_key_names_the_column_that_has_it_first() {
        let mut mapping = ColumnMapping::from_headers(&["Lang", "Language", "Body"]);
        param(&mut mapping, 0, "lang");
        param(&mut mapping, 1, "lang");
        let errors = mapping.validate().expect_err("duplicate");
        assert_eq!(
            errors.for_column(1),
            Some(&ColumnProblem::DuplicateKey {
                key: "lang".into(),
                other: "Lang".into()
            })
        );
        assert_eq!(errors.for_column(0), None, "the first use is fine");
    }

    #[test]
    fn ignoring_every_column_leaves_the_model_nothing() {
        let mut mapping = ColumnMapping::from_headers(&["a", "b"]);
        for c in &mut mapping.columns {
            c.role = Role::Ignore;
        }
        let errors = mapping.validate().expect_err("nothing sent");
        assert_eq!(errors.mapping, [MappingProblem::NothingSent]);
    }

    #[test]
    fn the_default_key_is_a_slug_of_the_header() {
        let mapping = ColumnMapping::from_headers(&["Customer E-mail", "2nd try", "???"]);
        let keys: Vec<String> = mapping
            .columns
            .iter()
            .map(ColumnSetting::default_key)
            .collect();
        assert_eq!(keys, ["customer_e_mail", "_2nd_try", "param"]);
        assert!(keys.iter().all(|k| is_identifier(k)));
    }

    #[test]
    fn a_mapping_round_trips_through_json_in_a_readable_shape() {
        let mut mapping = ColumnMapping::from_headers(&["id", "lang"]);
        mapping.columns[0].is_key = true;
        param(&mut mapping, 1, "lang");
        let json = serde_json::to_string(&mapping).expect("serialises");
        assert_eq!(
            json,
            r#"{"columns":[{"name":"id","role":"include","is_key":true},{"name":"lang","role":"param","key":"lang","is_key":false}]}"#
        );
        let back: ColumnMapping = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, mapping);
    }
}
