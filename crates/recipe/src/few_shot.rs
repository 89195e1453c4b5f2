//! Worked examples from reviewed rows: the pool a re-run draws on, which of its rows a given row
//! is shown (the closest by chosen columns, or a stable random few), and how they join the
//! system prompt. Pure, so the worker that sends a row and the drill-down that shows it agree.

use std::collections::{HashMap, HashSet};

use rowbench_mapping::ColumnMapping;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most examples one row may be shown: each one lengthens every call of the re-run.
pub const MAX_EXAMPLES: u32 = 10;

/// The most reviewed rows a re-run keeps to choose from.
pub const MAX_POOL: usize = 200;

/// How a row's examples are chosen from the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choose {
    /// The pool's rows whose chosen columns share the most words with the row's, rare words
    /// counting for more.
    Closest,
    /// A few of the pool's rows at random, the same few each time the row is shown.
    Random,
}

impl Choose {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "closest" => Some(Choose::Closest),
            "random" => Some(Choose::Random),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Choose::Closest => "closest",
            Choose::Random => "random",
        }
    }
}

/// One reviewed row as an example: the user message it was sent and the answer a person
/// vouched for (the model's, accepted, or their fix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub row_index: i64,
    pub user: String,
    pub answer: Value,
    /// The row's chosen columns, joined: what closeness is measured on.
    pub key: String,
}

/// What a re-run with examples keeps, frozen when it starts: later reviews do not change the
/// examples of a row already sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FewShotSet {
    /// Examples per row (at most [`MAX_EXAMPLES`]).
    pub count: u32,
    pub choose: Choose,
    /// The columns closeness is measured on, by name.
    pub by: Vec<String>,
    pub examples: Vec<Example>,
}

/// A [`FewShotSet`] ready to choose from: each example's words read once, and how rare each
/// word is among them.
#[derive(Debug, Clone)]
pub struct FewShots {
    set: FewShotSet,
    words: Vec<HashSet<String>>,
    weights: HashMap<String, f64>,
    /// The weight of a word no example has.
    unseen: f64,
}

impl FewShots {
    pub fn new(set: FewShotSet) -> Self {
        let words: Vec<HashSet<String>> = set.examples.iter().map(|e| words(&e.key)).collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for word in words.iter().flatten() {
            *counts.entry(word.as_str()).or_default() += 1;
        }
        // Inverse document frequency: "the" in every example says less than "battery" in two.
        let total = words.len().max(1) as f64;
        let weights = counts
            .into_iter()
            .map(|(word, count)| (word.to_string(), (1.0 + total / count as f64).ln()))
            .collect();
        FewShots {
            set,
            words,
            weights,
            unseen: (1.0 + total).ln(),
        }
    }

    pub fn set(&self) -> &FewShotSet {
        &self.set
    }

    /// The examples row `row_index` (with `cells`, in the dataset's column order under
    /// `mapping`) is shown, best first; never the row itself.
    pub fn pick(&self, mapping: &ColumnMapping, row_index: i64, cells: &[String]) -> Vec<&Example> {
        let count = usize::try_from(self.set.count.min(MAX_EXAMPLES)).unwrap_or(0);
        let others = self
            .set
            .examples
            .iter()
            .enumerate()
            .filter(|(_, e)| e.row_index != row_index);
        let mut ranked: Vec<(f64, u64, &Example)> = match self.set.choose {
            Choose::Closest => {
                let mine = words(&key_text(mapping, &self.set.by, cells));
                others
                    .map(|(at, e)| (self.similarity(&mine, &self.words[at]), 0, e))
                    .collect()
            }
            Choose::Random => others
                .map(|(_, e)| (0.0, mix(row_index, e.row_index), e))
                .collect(),
        };
        // Most similar first; ties (and every random choice) by a stable order, so the
        // drill-down shows the very examples the call was sent with.
        ranked.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(a.1.cmp(&b.1))
                .then(a.2.row_index.cmp(&b.2.row_index))
        });
        ranked.into_iter().take(count).map(|(_, _, e)| e).collect()
    }
}

/// The chosen columns of a row, joined by new lines; a name the mapping lacks adds nothing.
pub fn key_text(mapping: &ColumnMapping, by: &[String], cells: &[String]) -> String {
    by.iter()
        .filter_map(|name| mapping.columns.iter().position(|c| &c.name == name))
        .filter_map(|at| cells.get(at))
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The system prompt with the examples after it; the prompt alone when there are none.
pub fn system_with_examples(system: &str, examples: &[&Example]) -> String {
    if examples.is_empty() {
        return system.to_string();
    }
    let mut text = String::new();
    if !system.trim().is_empty() {
        text.push_str(system.trim_end());
        text.push_str("\n\n");
    }
    text.push_str(
        "Worked examples: rows of this dataset that a person has checked, each with the answer \
         they vouch for. Answer the next row the same way.",
    );
    for (number, example) in examples.iter().enumerate() {
        let answer = serde_json::to_string(&example.answer).unwrap_or_default();
        text.push_str(&format!(
            "\n\nExample {}:\n<input>\n{}\n</input>\n<answer>\n{answer}\n</answer>",
            number + 1,
            example.user.trim_end()
        ));
    }
    text
}

/// A text's words, lower-cased: runs of letters and digits.
fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl FewShots {
    fn weight(&self, word: &str) -> f64 {
        self.weights.get(word).copied().unwrap_or(self.unseen)
    }

    /// The weighted Jaccard index of a row's words and an example's: the weight of the words
    /// they share over that of all their words; 0 for two empty texts.
    fn similarity(&self, row: &HashSet<String>, example: &HashSet<String>) -> f64 {
        let shared: f64 = row.intersection(example).map(|w| self.weight(w)).sum();
        let all: f64 = row.union(example).map(|w| self.weight(w)).sum();
        if all == 0.0 { 0.0 } else { shared / all }
    }
}

/// A fixed shuffle key for `b` under `a` (SplitMix64's finaliser): an example shown to a row, a
/// row drawn by a seed. The same on every machine and build, unlike the standard library's hasher.
pub fn mix(a: i64, b: i64) -> u64 {
    let mut z = (a as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b as u64)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example(row_index: i64, text: &str) -> Example {
        Example {
            row_index,
            user: format!("Review: {text}"),
            answer: json!({ "row": row_index }),
            key: text.to_string(),
        }
    }

    fn shots(choose: Choose, count: u32) -> FewShots {
        FewShots::new(FewShotSet {
            count,
            choose,
            by: vec!["text".into()],
            examples: vec![
                example(0, "the battery died after a week"),
                example(1, "great screen and fast delivery"),
                example(2, "battery life is poor, died quickly"),
                example(3, "screen cracked on arrival"),
            ],
        })
    }

    fn mapping() -> ColumnMapping {
        ColumnMapping::from_headers(&["id", "text"])
    }

    fn rows(picked: &[&Example]) -> Vec<i64> {
        picked.iter().map(|e| e.row_index).collect()
    }

    fn cells(text: &str) -> Vec<String> {
        vec!["x".into(), text.into()]
    }

    #[test]
    fn the_closest_examples_share_the_most_words_with_the_row() {
        let shots = shots(Choose::Closest, 2);
        let picked = shots.pick(&mapping(), 9, &cells("My battery died"));
        assert_eq!(rows(&picked), [0, 2]);
    }

    #[test]
    fn rare_words_in_common_count_for_more_than_common_ones() {
        let shots = FewShots::new(FewShotSet {
            count: 1,
            choose: Choose::Closest,
            by: vec!["text".into()],
            examples: vec![
                example(0, "the phone is good and the price is fair"),
                example(1, "the phone is bad and the screen is dim"),
                example(2, "late delivery"),
                example(3, "the phone is fine and the case is nice"),
            ],
        });
        // Four words in common with row 0 (in three examples each), two with row 2 (in one).
        let picked = shots.pick(
            &mapping(),
            9,
            &cells("the delivery is late and the phone is here"),
        );
        assert_eq!(rows(&picked), [2]);
    }

    #[test]
    fn a_row_is_never_its_own_example() {
        let shots = shots(Choose::Closest, 4);
        let picked = shots.pick(&mapping(), 0, &cells("the battery died after a week"));
        assert_eq!(picked.len(), 3);
        assert!(!rows(&picked).contains(&0));
    }

    #[test]
    fn random_examples_are_the_same_each_time_a_row_is_shown_and_differ_between_rows() {
        let shots = shots(Choose::Random, 2);
        let first = rows(&shots.pick(&mapping(), 7, &cells("anything")));
        assert_eq!(
            first,
            rows(&shots.pick(&mapping(), 7, &cells("other words")))
        );
        assert_eq!(first.len(), 2);
        let differ = (10..40)
            .map(|row| rows(&shots.pick(&mapping(), row, &cells("anything"))))
            .any(|picked| picked != first);
        assert!(differ, "every row got the same random examples");
    }

    #[test]
    fn no_more_examples_than_asked_or_than_the_limit() {
        assert_eq!(
            shots(Choose::Closest, 1)
                .pick(&mapping(), 9, &cells("screen"))
                .len(),
            1
        );
        assert_eq!(
            shots(Choose::Random, 50)
                .pick(&mapping(), 9, &cells("screen"))
                .len(),
            4
        );
    }

    #[test]
    fn the_examples_follow_the_system_prompt_with_their_inputs_and_vouched_answers() {
        let shots = shots(Choose::Closest, 1);
        let picked = shots.pick(&mapping(), 9, &cells("cracked screen"));
        let system = system_with_examples("You label reviews.", &picked);
        assert!(system.starts_with("You label reviews.\n\nWorked examples"));
        assert!(system.contains(
            "Example 1:\n<input>\nReview: screen cracked on arrival\n</input>\n<answer>\n{\"row\":3}\n</answer>"
        ));
        assert_eq!(system_with_examples("Alone.", &[]), "Alone.");
    }

    #[test]
    fn the_key_text_joins_the_chosen_columns_in_the_order_named() {
        let mapping = ColumnMapping::from_headers(&["id", "title", "body"]);
        let cells: Vec<String> = ["7", "Late", "It came late"].map(String::from).into();
        assert_eq!(
            key_text(
                &mapping,
                &["body".into(), "title".into(), "gone".into()],
                &cells
            ),
            "It came late\nLate"
        );
    }
}
