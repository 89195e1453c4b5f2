//! Everything that can go wrong reading an upload, each worded for the person who uploaded it.

use std::io;
use std::sync::Arc;

use crate::limits::ByteSize;

/// Why reading a CSV upload failed. Line numbers are 1-based physical lines of the file as an
/// editor shows them (LF, CRLF and a lone CR each end a line).
///
/// The type is `Clone` (I/O errors are shared through an `Arc`) so that a reader that has failed
/// can keep answering with the same error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("the file is empty")]
    EmptyFile,

    #[error("the file has a header row but no data rows")]
    HeaderOnly,

    #[error("line {line} has {found} fields but the header has {expected}")]
    RaggedRow {
        line: u64,
        expected: usize,
        found: usize,
    },

    #[error("line {line} starts a quoted field that is never closed (a closing \" is missing)")]
    UnterminatedQuote { line: u64 },

    #[error("this is not a CSV text file: {0}")]
    NotText(NotTextReason),

    #[error("the file is larger than the {limit} limit")]
    TooLarge { limit: ByteSize },

    #[error("the header has {found} columns, more than the limit of {limit}")]
    TooManyColumns { found: usize, limit: usize },

    #[error("line {line}: the value in column \"{column}\" is longer than the {limit} limit")]
    FieldTooLong {
        line: u64,
        column: String,
        limit: ByteSize,
    },

    #[error(
        "the row starting on line {line} is longer than the {limit} limit; \
         this usually means a quote on that line is never closed"
    )]
    RowTooLong { line: u64, limit: ByteSize },

    #[error(
        "line {line}: the value in column \"{column}\" is not valid UTF-8 text, although the \
         start of the file is; save the whole file as UTF-8 and upload it again"
    )]
    InvalidUtf8 { line: u64, column: String },

    #[error("the file could not be read: {0}")]
    Read(#[source] Arc<io::Error>),
}

/// What gave a non-text upload away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotTextReason {
    #[error("it looks like an Excel workbook or a ZIP archive; export the sheet as CSV first")]
    Spreadsheet,

    #[error(
        "it contains NUL bytes (if it is UTF-16 text without a byte order mark, save it as UTF-8)"
    )]
    NulBytes,

    #[error("too many of its characters are control characters")]
    ControlCharacters,
}

impl From<io::Error> for IngestError {
    fn from(error: io::Error) -> Self {
        Self::Read(Arc::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_where_in_plain_words() {
        let ragged = IngestError::RaggedRow {
            line: 7,
            expected: 4,
            found: 5,
        };
        assert_eq!(
            ragged.to_string(),
            "line 7 has 5 fields but the header has 4"
        );

        let long = IngestError::FieldTooLong {
            line: 3,
            column: "notes".into(),
            limit: ByteSize(1 << 20),
        };
        assert_eq!(
            long.to_string(),
            "line 3: the value in column \"notes\" is longer than the 1 MiB limit"
        );

        let quote = IngestError::UnterminatedQuote { line: 12 };
        assert!(
            quote
                .to_string()
                .starts_with("line 12 starts a quoted field")
        );
    }
}
