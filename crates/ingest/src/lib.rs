//! Rowbench's CSV intake: turns an uploaded file, whatever its encoding, delimiter and line
//! ends, into clean header names and a stream of rows, with a clear message naming the line
//! for anything it cannot read.
//!
//! ```
//! use rowbench_ingest::{CsvIngest, Delimiter, IngestOptions};
//!
//! let upload = "name;city\r\nZoë;Köln\r\n\r\nAnn;\"Oslo;\nNorway\"\r\n".as_bytes();
//! let mut ingest = CsvIngest::open(upload, IngestOptions::default())?;
//! assert_eq!(ingest.sniffed().delimiter, Delimiter::Semicolon);
//! assert_eq!(ingest.header().names, ["name", "city"]);
//! while let Some(record) = ingest.next_record()? {
//!     println!("line {}: {:?}", record.line, record.fields);
//! }
//! let summary = ingest.finish()?;
//! assert_eq!(summary.stats.rows, 2);
//! assert_eq!(summary.stats.preview[1].line, 4);
//! assert_eq!(summary.stats.preview[1].fields[1], "Oslo;\nNorway");
//! # Ok::<(), rowbench_ingest::IngestError>(())
//! ```

mod byte_limit;
mod delimiter;
mod encoding;
mod error;
mod header;
mod ingest;
mod limits;
mod sniff;
mod stats;
mod tracked_text;

pub use delimiter::Delimiter;
pub use error::{IngestError, NotTextReason};
pub use header::{Header, Rename};
pub use ingest::{CsvIngest, IngestOptions, Ragged, Record, Summary};
pub use limits::{ByteSize, IngestLimits};
pub use sniff::{SAMPLE_BYTES, SampleEnd, Sniffed, sniff};
pub use stats::{ColumnStats, PREVIEW_ROWS, SAMPLE_CHARS, SAMPLE_VALUES, Stats};
