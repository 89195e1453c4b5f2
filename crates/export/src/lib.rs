//! A batch's rows and answers as a file: CSV, one JSON array, or JSON Lines, written row by row
//! so an export of any size runs in constant memory. Pure logic with no web framework or
//! database: the server feeds it rows read in pages and streams what it writes.
//!
//! Columns, in order: the dataset's own columns as uploaded, one per response-schema field, then
//! (unless switched off) the metadata columns [`METADATA_COLUMNS`]. See [`Layout`] for how name
//! clashes are resolved and [`guard`] for the spreadsheet formula guard.
//!
//! ```
//! use rowbench_export::{ExportOptions, Exporter, Format, Layout, Row};
//!
//! let layout = Layout::new(
//!     vec!["id".into(), "review".into()],
//!     vec!["sentiment".into(), "tags".into()],
//!     "demo-synthetic",
//!     false,
//! );
//! let options = ExportOptions { format: Format::Csv, ..ExportOptions::default() };
//! let mut exporter = Exporter::new(Vec::new(), layout, options).expect("header");
//! let cells = vec!["1".to_string(), "=HYPERLINK(\"x\")".to_string()];
//! exporter
//!     .write_row(&Row {
//!         result: Some(r#"{"sentiment":"positive","tags":["a","b"]}"#),
//!         ..Row::new(0, &cells, "succeeded")
//!     })
//!     .expect("row");
//! let csv = String::from_utf8(exporter.finish().expect("finish")).expect("UTF-8");
//! assert_eq!(
//!     csv,
//!     "id,review,sentiment,tags\r\n1,\"'=HYPERLINK(\"\"x\"\")\",positive,a; b\r\n"
//! );
//! ```

mod answer;
pub mod download;
pub mod guard;
mod layout;
mod plan;
mod writer;

pub use guard::FormulaCells;
pub use layout::{Layout, METADATA_COLUMNS};
pub use plan::ExportPlan;
pub use writer::{Exporter, Row, RowReview, export};

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// RFC 4180 CSV: comma-separated, CRLF line ends, fields quoted only when they need it.
    Csv,
    /// One JSON array of row objects, for tools that read a whole document.
    Json,
    /// JSON Lines: one row object per line.
    Jsonl,
}

impl Format {
    /// Every format, in the order the API lists them.
    pub const ALL: [Format; 3] = [Format::Csv, Format::Json, Format::Jsonl];

    /// The format named `text`, as in `?format=jsonl`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "csv" => Format::Csv,
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
        }
    }

    /// The file name extension (without the dot).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }

    /// The `Content-Type` of a download in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Jsonl => "application/x-ndjson",
        }
    }
}

/// How to write an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    pub format: Format,
    /// Prefix CSV cells that a spreadsheet would run as a formula with `'` (see [`guard`]).
    /// JSON and JSON Lines are never guarded: their readers are programs, and a changed string
    /// would be wrong data there.
    pub formula_guard: bool,
}

impl Default for ExportOptions {
    /// CSV, guarded.
    fn default() -> Self {
        ExportOptions {
            format: Format::Csv,
            formula_guard: true,
        }
    }
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not write the CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A stored answer that is not a JSON object: the database holds something no run wrote.
    #[error("the stored answer of row {row} is unreadable: {reason}")]
    Answer { row: i64, reason: String },
}

impl ExportError {
    /// The kind of the I/O error underneath, when writing failed: `BrokenPipe` from a writer
    /// whose reader went away, say (the CSV writer wraps I/O errors in its own).
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            ExportError::Io(e) => Some(e.kind()),
            ExportError::Csv(e) => match e.kind() {
                csv::ErrorKind::Io(e) => Some(e.kind()),
                _ => None,
            },
            ExportError::Answer { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_back_from_its_own_name() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()), Some(format));
        }
        assert_eq!(Format::parse("xlsx"), None);
        assert_eq!(Format::parse("CSV"), None);
    }

    #[test]
    fn formula_cells_are_counted_by_column_in_cells_answers_and_metadata() {
        let layout = Layout::new(
            vec!["text".into(), "-h".into()],
            vec!["reply".into()],
            "=model",
            true,
        );
        let options = ExportOptions {
            format: Format::Csv,
            formula_guard: true,
        };
        let mut exporter = Exporter::new(Vec::new(), layout, options).expect("header");
        let cells = ["@airline hi".to_string(), "-12.5".to_string()];
        let mut row = Row::new(0, &cells, "failed");
        row.result = Some(r#"{"reply": "+1 for that"}"#);
        row.error = Some("=bad");
        exporter.write_row(&row).expect("row");
        let plain = ["fine".to_string(), "-".to_string()];
        exporter
            .write_row(&Row::new(1, &plain, "queued"))
            .expect("row");
        let counted = exporter.formula_cells();
        assert_eq!(
            counted.by_column,
            [
                ("text".to_string(), 1),
                // The header cell and the lone "-"; "-12.5" is a plain number.
                ("-h".to_string(), 2),
                ("reply".to_string(), 1),
                ("_error".to_string(), 1),
                ("_model".to_string(), 2),
            ]
        );
        assert_eq!(counted.total(), 7);
        let json = ExportOptions {
            format: Format::Json,
            formula_guard: true,
        };
        let layout = Layout::new(vec!["text".into()], Vec::new(), "m", false);
        let mut exporter = Exporter::new(Vec::new(), layout, json).expect("start");
        exporter.write_row(&row).expect("row");
        assert_eq!(exporter.formula_cells().total(), 0, "JSON is never changed");
    }

    #[test]
    fn a_gone_reader_shows_through_the_csv_writer() {
        struct Gone;
        impl std::io::Write for Gone {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
        }
        let layout = Layout::new(vec!["a".into()], Vec::new(), "m", false);
        for format in Format::ALL {
            let options = ExportOptions {
                format,
                formula_guard: true,
            };
            let err = export(Gone, layout.clone(), options, [])
                .err()
                .expect("nothing can be written");
            assert_eq!(err.io_kind(), Some(std::io::ErrorKind::BrokenPipe), "{err}");
        }
    }
}
