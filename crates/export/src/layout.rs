//! The export's columns and their names.

use std::collections::HashSet;

/// The metadata columns, in order, written after the answer fields unless switched off.
/// `_review` is `accepted`, `fixed`, `rejected` or empty; `_reviewed_at` is RFC 3339 in UTC.
pub const METADATA_COLUMNS: [&str; 12] = [
    "_row",
    "_status",
    "_error",
    "_attempts",
    "_latency_ms",
    "_input_tokens",
    "_output_tokens",
    "_cost_usd",
    "_model",
    "_review",
    "_reviewed_by",
    "_reviewed_at",
];

/// The columns of an export: the dataset's columns, one per answer field, and the metadata.
///
/// Every output name is unique. Dataset columns always keep their names (they are the user's
/// data). A metadata column whose name a dataset column already has gets `_meta` appended; an
/// answer field whose name is already taken (by a dataset column or a metadata column) gets
/// `_result` appended; if that is taken too, `_2`, `_3`, … follow the suffix until the name is
/// free. So a dataset column `score` and an answer field `score` export as `score` and
/// `score_result`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    columns: usize,
    fields: Vec<String>,
    names: Vec<String>,
    model: String,
    metadata: bool,
    /// Whether each field's model answer follows the answers, as `<field>_model`.
    model_answers: bool,
}

impl Layout {
    /// `columns`: the dataset's header names in order; `fields`: the response-schema field names
    /// (the keys looked up in each answer); `model`: written in `_model`; `metadata`: whether the
    /// metadata columns are written.
    pub fn new(
        columns: Vec<String>,
        fields: Vec<String>,
        model: impl Into<String>,
        metadata: bool,
    ) -> Self {
        Self::build(columns, fields, model.into(), metadata, false)
    }

    /// The same layout with (or without) a `<field>_model` column per answer field after the
    /// answers: the model's own answer beside the reviewed one.
    pub fn with_model_answers(self, on: bool) -> Self {
        let columns = self.names[..self.columns].to_vec();
        Self::build(columns, self.fields, self.model, self.metadata, on)
    }

    fn build(
        columns: Vec<String>,
        fields: Vec<String>,
        model: String,
        metadata: bool,
        model_answers: bool,
    ) -> Self {
        let mut taken = HashSet::new();
        let mut names = Vec::with_capacity(columns.len() + fields.len() + METADATA_COLUMNS.len());
        // Uploads never repeat a header name (ingest renames repeats), but a layout built by
        // hand might; numbering keeps the names unique all the same.
        for column in &columns {
            names.push(unique(&mut taken, column, ""));
        }
        let metadata_names: Vec<String> = if metadata {
            METADATA_COLUMNS
                .iter()
                .map(|name| unique(&mut taken, name, "_meta"))
                .collect()
        } else {
            Vec::new()
        };
        for field in &fields {
            names.push(unique(&mut taken, field, "_result"));
        }
        if model_answers {
            for field in &fields {
                names.push(unique(&mut taken, &format!("{field}_model"), ""));
            }
        }
        names.extend(metadata_names);
        Layout {
            columns: columns.len(),
            fields,
            names,
            model,
            metadata,
            model_answers,
        }
    }

    /// Every output column name, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many dataset columns come first.
    pub fn column_count(&self) -> usize {
        self.columns
    }

    /// The answer fields, as named in the answers.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn metadata(&self) -> bool {
        self.metadata
    }

    pub fn model_answers(&self) -> bool {
        self.model_answers
    }
}

/// `name` if free, else `name` + `suffix`, else `name` + `suffix` + `_2`, `_3`, …; marked taken.
fn unique(taken: &mut HashSet<String>, name: &str, suffix: &str) -> String {
    let mut candidate = name.to_string();
    if taken.contains(&candidate) && !suffix.is_empty() {
        candidate = format!("{name}{suffix}");
    }
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}{suffix}_{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn columns_come_first_then_fields_then_metadata() {
        let layout = Layout::new(strings(&["id", "text"]), strings(&["topic"]), "m", true);
        let mut expected = strings(&["id", "text", "topic"]);
        expected.extend(METADATA_COLUMNS.iter().map(|n| n.to_string()));
        assert_eq!(layout.names(), expected);
    }

    #[test]
    fn the_model_answers_follow_the_answers_as_field_model() {
        let layout =
            Layout::new(strings(&["id"]), strings(&["topic"]), "m", false).with_model_answers(true);
        assert_eq!(layout.names(), strings(&["id", "topic", "topic_model"]));
        assert!(layout.model_answers());
    }

    #[test]
    fn without_metadata_only_columns_and_fields_are_named() {
        let layout = Layout::new(strings(&["id"]), strings(&["topic", "score"]), "m", false);
        assert_eq!(layout.names(), strings(&["id", "topic", "score"]));
    }

    #[test]
    fn a_field_named_like_a_column_gets_the_result_suffix() {
        let layout = Layout::new(
            strings(&["score", "score_result"]),
            strings(&["score", "text"]),
            "m",
            false,
        );
        assert_eq!(
            layout.names(),
            strings(&["score", "score_result", "score_result_2", "text"])
        );
    }

    #[test]
    fn dataset_columns_keep_their_names_and_metadata_and_fields_move_aside() {
        let layout = Layout::new(strings(&["_row"]), strings(&["_status"]), "m", true);
        assert_eq!(layout.names()[0], "_row");
        assert_eq!(layout.names()[1], "_status_result");
        assert_eq!(layout.names()[2], "_row_meta");
        assert_eq!(layout.names()[3], "_status");
        let unique: HashSet<&String> = layout.names().iter().collect();
        assert_eq!(unique.len(), layout.names().len());
    }
}
