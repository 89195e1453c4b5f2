//! The mapping a new dataset starts with: the columns that read like text go to the model, the
//! ones that identify a row become its key, and labels, ids, numbers and dates stay out.
//!
//! Sending every column by default sent gold labels and ids too: twice the tokens a row, and the
//! answers the model was meant to find (issue 13).

use crate::{ColumnMapping, ColumnSetting, Role, slug};

/// Words in a header that mark a column holding an answer, not a question.
const LABEL_WORDS: &[&str] = &[
    "label",
    "labels",
    "gold",
    "target",
    "truth",
    "expected",
    "annotation",
    "annotations",
    "answer",
    "answers",
    "prediction",
    "predicted",
    "confidence",
];

/// Headers that name a row rather than describe it.
const ID_NAMES: &[&str] = &[
    "id", "uuid", "guid", "key", "index", "idx", "row", "no", "number", "nr",
];

fn words(header: &str) -> Vec<String> {
    slug(header)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `id`, `Ticket ID`, `tweet_id`, `row_no`: a header whose last word names a row.
fn looks_like_id(header: &str) -> bool {
    let words = words(header);
    header.trim() == "#"
        || words
            .last()
            .is_some_and(|last| ID_NAMES.contains(&last.as_str()))
}

fn looks_like_label(header: &str) -> bool {
    words(header)
        .iter()
        .any(|w| LABEL_WORDS.contains(&w.as_str()))
}

/// Cells a person reads: mostly three words or more and not too short. Numbers, dates, codes,
/// names and categories are not (a category may still be worth sending; the user can include it).
fn looks_like_text<'a>(cells: impl Iterator<Item = &'a str>) -> bool {
    let filled: Vec<&str> = cells.map(str::trim).filter(|c| !c.is_empty()).collect();
    if filled.is_empty() {
        return false;
    }
    let chars: usize = filled.iter().map(|c| c.chars().count()).sum();
    // Three words with letters in them: "2015-02-24 11:35:52 -0800" has none.
    let with_spaces = filled
        .iter()
        .filter(|c| {
            c.split_whitespace()
                .filter(|w| w.chars().filter(|ch| ch.is_alphabetic()).count() >= 2)
                .nth(2)
                .is_some()
        })
        .count();
    chars / filled.len() >= 20 && with_spaces * 2 >= filled.len()
}

impl ColumnMapping {
    /// The mapping a dataset with these `headers` and these first `rows` starts with: text-like
    /// columns included, the first id-like column marked as the key, the rest ignored. When no
    /// column reads like text, every column that is neither an id nor a label is included, so
    /// the model always gets something.
    pub fn suggested<S, R, C>(headers: &[S], rows: &[R]) -> Self
    where
        S: AsRef<str>,
        R: AsRef<[C]>,
        C: AsRef<str>,
    {
        let cells = |position: usize| {
            rows.iter()
                .filter_map(move |row| row.as_ref().get(position).map(AsRef::as_ref))
        };
        let mut key_taken = false;
        let mut columns: Vec<ColumnSetting> = headers
            .iter()
            .enumerate()
            .map(|(position, header)| {
                let name = header.as_ref();
                let id = looks_like_id(name);
                let is_key = id && !key_taken;
                key_taken |= is_key;
                let include = !id && !looks_like_label(name) && looks_like_text(cells(position));
                ColumnSetting {
                    name: name.to_string(),
                    role: if include { Role::Include } else { Role::Ignore },
                    is_key,
                    gold_for: None,
                }
            })
            .collect();
        if columns.iter().all(|c| c.role == Role::Ignore) {
            for column in &mut columns {
                if !looks_like_id(&column.name) && !looks_like_label(&column.name) {
                    column.role = Role::Include;
                }
            }
        }
        if columns.iter().all(|c| c.role == Role::Ignore) {
            // Only ids and labels: better the user sees every column sent than none.
            for column in &mut columns {
                column.role = Role::Include;
            }
        }
        ColumnMapping { columns }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(mapping: &ColumnMapping) -> Vec<(&str, &str, bool)> {
        mapping
            .columns
            .iter()
            .map(|c| {
                let role = match c.role {
                    Role::Ignore => "ignore",
                    Role::Include => "include",
                    Role::Param { .. } => "param",
                };
                (c.name.as_str(), role, c.is_key)
            })
            .collect()
    }

    #[test]
    fn tweets_send_the_text_only_and_keep_the_gold_label_and_ids_out() {
        let headers = [
            "tweet_id",
            "airline_sentiment",
            "airline_sentiment_confidence",
            "airline",
            "airline_sentiment_gold",
            "name",
            "retweet_count",
            "text",
            "tweet_created",
        ];
        let rows = vec![
            vec![
                "570306133677760513",
                "neutral",
                "1.0",
                "Virgin America",
                "",
                "cairdin",
                "0",
                "@VirginAmerica What @dhepburn said.",
                "2015-02-24 11:35:52 -0800",
            ],
            vec![
                "570301130888122368",
                "positive",
                "0.3486",
                "Virgin America",
                "",
                "jnardino",
                "0",
                "@VirginAmerica plus you've added commercials to the experience... tacky.",
                "2015-02-24 11:15:59 -0800",
            ],
        ];
        let mapping = ColumnMapping::suggested(&headers, &rows);
        let included: Vec<&str> = mapping.included().collect();
        assert_eq!(included, ["text"]);
        assert!(mapping.columns[0].is_key, "the tweet id identifies a row");
        assert_eq!(mapping.columns.iter().filter(|c| c.is_key).count(), 1);
        assert!(mapping.validate().is_ok());
    }

    #[test]
    fn a_label_column_of_sentences_stays_out_though_it_reads_like_text() {
        let mapping = ColumnMapping::suggested(
            &["question", "expected answer"],
            &[vec![
                "What is the capital of France, and why?",
                "Paris, because the government sits there.",
            ]],
        );
        assert_eq!(
            roles(&mapping),
            [
                ("question", "include", false),
                ("expected answer", "ignore", false)
            ]
        );
    }

    #[test]
    fn without_any_text_column_every_column_but_ids_and_labels_is_sent() {
        let mapping = ColumnMapping::suggested(
            &["Ticket ID", "city", "amount", "label"],
            &[vec!["7", "Oslo", "12.50", "spam"]],
        );
        assert_eq!(
            roles(&mapping),
            [
                ("Ticket ID", "ignore", true),
                ("city", "include", false),
                ("amount", "include", false),
                ("label", "ignore", false)
            ]
        );
    }

    #[test]
    fn a_dataset_of_ids_and_labels_only_sends_everything_rather_than_nothing() {
        let mapping = ColumnMapping::suggested(&["id", "label"], &[vec!["1", "ham"]]);
        assert_eq!(mapping.included().count(), 2);
        assert!(mapping.validate().is_ok());
    }

    #[test]
    fn id_like_headers_are_recognised_by_their_last_word() {
        for id in ["id", "ID", "Ticket ID", "tweet_id", "row_no", "#", "uuid"] {
            assert!(looks_like_id(id), "{id}");
        }
        for not_id in ["idea", "video", "text", "identity theft"] {
            assert!(!looks_like_id(not_id), "{not_id}");
        }
    }
}
