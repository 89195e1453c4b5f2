//! Column statistics and a preview gathered while rows stream past, in memory that does not
//! grow with the file.

use serde::{Deserialize, Serialize};

use crate::ingest::Record;

/// How many data rows the preview keeps.
pub const PREVIEW_ROWS: usize = 20;
/// How many distinct non-empty sample values are kept per column.
pub const SAMPLE_VALUES: usize = 5;
/// How many characters of a sample value are kept for display (an ellipsis included).
pub const SAMPLE_CHARS: usize = 80;

/// What has been seen of the data rows so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Data rows read (the header is not counted).
    pub rows: u64,
    /// Rows padded or truncated to the header's width under [`crate::Ragged::PadOrTruncate`].
    pub fixed_rows: u64,
    /// One entry per header column, in order.
    pub columns: Vec<ColumnStats>,
    /// The first [`PREVIEW_ROWS`] data rows, exactly as read.
    pub preview: Vec<Record>,
}

/// What has been seen of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    pub name: String,
    /// Non-empty cells so far.
    pub filled: u64,
    /// `filled / rows`, 0 before any row.
    pub fill_rate: f64,
    /// Up to [`SAMPLE_VALUES`] distinct non-empty values in order of appearance, each cut to
    /// [`SAMPLE_CHARS`] characters for display.
    pub samples: Vec<String>,
}

impl Stats {
    pub(crate) fn new(names: &[String]) -> Self {
        let columns = names
            .iter()
            .map(|name| ColumnStats {
                name: name.clone(),
                filled: 0,
                fill_rate: 0.0,
                samples: Vec::new(),
            })
            .collect();
        Self {
            rows: 0,
            fixed_rows: 0,
            columns,
            preview: Vec::new(),
        }
    }

    /// Counts one data row, which has exactly one field per column.
    pub(crate) fn observe(&mut self, record: &Record) {
        self.rows += 1;
        for (column, value) in self.columns.iter_mut().zip(&record.fields) {
            if !value.is_empty() {
                column.filled += 1;
                column.offer_sample(value);
            }
            // Counts stay far below 2^53, where the conversion would start to round.
            column.fill_rate = column.filled as f64 / self.rows as f64;
        }
        if self.preview.len() < PREVIEW_ROWS {
            self.preview.push(record.clone());
        }
    }
}

impl ColumnStats {
    fn offer_sample(&mut self, value: &str) {
        if self.samples.len() >= SAMPLE_VALUES {
            return;
        }
        let shown = shorten_for_display(value);
        if !self.samples.contains(&shown) {
            self.samples.push(shown);
        }
    }
}

/// `value` cut to [`SAMPLE_CHARS`] characters, the last being `…` when anything was cut.
fn shorten_for_display(value: &str) -> String {
    match value.char_indices().nth(SAMPLE_CHARS) {
        None => value.to_owned(),
        Some(_) => {
            let keep = value
                .char_indices()
                .nth(SAMPLE_CHARS - 1)
                .map_or(value.len(), |(at, _)| at);
            format!("{}…", &value[..keep])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_of(rows: &[&[&str]]) -> Stats {
        let names: Vec<String> = (1..=rows[0].len()).map(|i| format!("c{i}")).collect();
        let mut stats = Stats::new(&names);
        for (index, row) in rows.iter().enumerate() {
            let fields = row.iter().map(|field| (*field).to_owned()).collect();
            stats.observe(&Record {
                line: index as u64 + 2,
                fields,
            });
        }
        stats
    }

    #[test]
    fn the_fill_rate_is_the_share_of_non_empty_cells() {
        let stats = stats_of(&[&["a", ""], &["b", ""], &["", " "], &["c", ""]]);
        assert_eq!(stats.rows, 4);
        assert_eq!(stats.columns[0].filled, 3);
        assert_eq!(stats.columns[0].fill_rate, 0.75);
        assert_eq!(stats.columns[1].fill_rate, 0.25);
    }

    #[test]
    fn samples_are_distinct_non_empty_and_at_most_five() {
        let rows: Vec<[&str; 1]> = ["x", "", "x", "y", "z", "x", "w", "v", "u"]
            .iter()
            .map(|v| [*v])
            .collect();
        let rows: Vec<&[&str]> = rows.iter().map(|row| &row[..]).collect();
        let stats = stats_of(&rows);
        assert_eq!(stats.columns[0].samples, ["x", "y", "z", "w", "v"]);
    }

    #[test]
    fn long_samples_are_cut_to_80_characters_with_an_ellipsis() {
        let long = "é".repeat(200);
        let stats = stats_of(&[&[&long], &[&"b".repeat(80)]]);
        let shown = &stats.columns[0].samples;
        assert_eq!(shown[0].chars().count(), SAMPLE_CHARS);
        assert!(shown[0].ends_with("é…"));
        assert_eq!(shown[1], "b".repeat(80));
    }

    #[test]
    fn the_preview_keeps_only_the_first_20_rows() {
        let values: Vec<String> = (0..50).map(|i| i.to_string()).collect();
        let rows: Vec<[&str; 1]> = values.iter().map(|v| [v.as_str()]).collect();
        let rows: Vec<&[&str]> = rows.iter().map(|row| &row[..]).collect();
        let stats = stats_of(&rows);
        assert_eq!(stats.rows, 50);
        assert_eq!(stats.preview.len(), PREVIEW_ROWS);
        assert_eq!(stats.preview[19].fields, ["19"]);
    }
}
