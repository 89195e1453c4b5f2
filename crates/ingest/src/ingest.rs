//! Reading a CSV upload row by row: sniff its start, decode it, parse it, check every row and
//! gather stats, holding no more than one row (plus a small preview) in memory.

use std::fmt;
use std::io::{self, Chain, Cursor, Read};

use csv::ByteRecord;
use encoding_rs::UTF_8;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use serde::{Deserialize, Serialize};

use crate::byte_limit::{ByteLimit, is_over_byte_limit};
use crate::delimiter::Delimiter;
use crate::error::IngestError;
use crate::header::Header;
use crate::limits::{ByteSize, IngestLimits};
use crate::sniff::{SAMPLE_BYTES, SampleEnd, Sniffed, sniff_with};
use crate::stats::Stats;
use crate::tracked_text::{END_SENTINEL, TrackedText, count_line_breaks, is_row_too_long};

/// How to read an upload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestOptions {
    /// The delimiter to use; `None` sniffs it from the start of the file.
    pub delimiter: Option<Delimiter>,
    pub ragged: Ragged,
    pub limits: IngestLimits,
}

/// What to do with a data row whose field count differs from the header's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ragged {
    /// Stop with [`IngestError::RaggedRow`].
    #[default]
    Reject,
    /// Pad short rows with empty strings, drop the extra fields of long ones, and count the
    /// row in [`Stats::fixed_rows`].
    PadOrTruncate,
}

/// One data row: exactly one field per header column, each byte for byte as in the file
/// (after decoding to UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The physical line the row starts on, 1-based.
    pub line: u64,
    pub fields: Vec<String>,
}

/// Everything learned from a complete read of an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub sniffed: Sniffed,
    pub header: Header,
    pub stats: Stats,
}

/// The raw upload as the decoder reads it: the sniffed sample put back in front of the rest.
type Decoded<R> = DecodeReaderBytes<Chain<Cursor<Vec<u8>>, ByteLimit<R>>, Vec<u8>>;

enum State {
    Reading,
    Finished,
    /// Errors are final; later calls repeat the error rather than read past it.
    Failed(IngestError),
}

/// A CSV upload being read one row at a time.
///
/// Memory stays bounded whatever the file's size: the 64 KiB sample, one row (at most
/// [`IngestLimits::max_row_bytes`]), the parser's 8 KiB read-ahead, and the [`Stats`] with
/// their 20-row preview. It is `Send` when `R` is, so it can run on a blocking thread.
pub struct CsvIngest<R: Read> {
    csv: csv::Reader<TrackedText<Decoded<R>>>,
    options: IngestOptions,
    sniffed: Sniffed,
    header: Header,
    stats: Stats,
    row: ByteRecord,
    state: State,
}

impl<R: Read> CsvIngest<R> {
    /// Sniffs the first [`SAMPLE_BYTES`] of `reader`, then reads and cleans up the header row.
    ///
    /// Fails on an empty or non-text upload and on a header that breaks the limits.
    pub fn open(reader: R, options: IngestOptions) -> Result<Self, IngestError> {
        let limits = options.limits;
        let mut input = ByteLimit::new(reader, limits.max_bytes);
        let (sample, end) = read_sample(&mut input).map_err(|error| io_error(error, limits))?;
        let (sniffed, detected) = sniff_with(&sample, end, options.delimiter)?;

        let mut decoder = DecodeReaderBytesBuilder::new();
        if detected.encoding == UTF_8 {
            // Untouched rather than transcoded, so invalid bytes after the sample are reported
            // with their line instead of silently becoming U+FFFD.
            decoder.bom_sniffing(false).strip_bom(true);
        } else {
            decoder.encoding(Some(detected.encoding));
        }
        let decoded = decoder.build(Cursor::new(sample).chain(input));
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(sniffed.delimiter.byte())
            .from_reader(TrackedText::new(decoded, limits.max_row_bytes));

        let mut ingest = Self {
            csv,
            options,
            sniffed,
            header: Header::from_names(Vec::new()),
            stats: Stats::new(&[]),
            row: ByteRecord::new(),
            state: State::Reading,
        };
        ingest.read_header()?;
        Ok(ingest)
    }

    /// What sniffing found (with the delimiter given in the options, if one was).
    pub fn sniffed(&self) -> &Sniffed {
        &self.sniffed
    }

    /// The cleaned-up header row.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The stats of the rows returned so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The next data row, or `None` after the last one. Blank lines are skipped.
    ///
    /// After an error the upload is not read any further: every later call returns the same
    /// error again.
    pub fn next_record(&mut self) -> Result<Option<Record>, IngestError> {
        match &self.state {
            State::Failed(error) => return Err(error.clone()),
            State::Finished => return Ok(None),
            State::Reading => {}
        }
        match self.read_record() {
            Ok(Some(record)) => {
                self.stats.observe(&record);
                Ok(Some(record))
            }
            Ok(None) => {
                self.state = State::Finished;
                Ok(None)
            }
            Err(error) => {
                self.state = State::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// Reads any rows not yet read and returns what was learned, or
    /// [`IngestError::HeaderOnly`] when the file had no data rows.
    pub fn finish(mut self) -> Result<Summary, IngestError> {
        while self.next_record()?.is_some() {}
        if self.stats.rows == 0 {
            return Err(IngestError::HeaderOnly);
        }
        Ok(Summary {
            sniffed: self.sniffed,
            header: self.header,
            stats: self.stats,
        })
    }

    fn read_header(&mut self) -> Result<(), IngestError> {
        let Some(line) = self.read_row()? else {
            return Err(IngestError::EmptyFile);
        };
        let limit = self.options.limits.max_columns;
        if self.row.len() > limit {
            return Err(IngestError::TooManyColumns {
                found: self.row.len(),
                limit,
            });
        }
        let positions: Vec<String> = (1..=self.row.len())
            .map(|position| format!("column_{position}"))
            .collect();
        let names = decode_fields(&self.row, line, &positions, self.options.limits)?;
        self.header = Header::from_names(names);
        self.stats = Stats::new(&self.header.names);
        Ok(())
    }

    fn read_record(&mut self) -> Result<Option<Record>, IngestError> {
        let Some(line) = self.read_row()? else {
            return Ok(None);
        };
        let expected = self.header.len();
        let found = self.row.len();
        if found != expected && self.options.ragged == Ragged::Reject {
            return Err(IngestError::RaggedRow {
                line,
                expected,
                found,
            });
        }
        let fields = decode_fields(&self.row, line, &self.header.names, self.options.limits)?;
        if found != expected {
            self.stats.fixed_rows += 1;
        }
        Ok(Some(Record { line, fields }))
    }

    /// Parses the next row into `self.row` and returns the line it starts on, or `None` at the
    /// end of the data.
    fn read_row(&mut self) -> Result<Option<u64>, IngestError> {
        let start = self.csv.position().byte();
        self.csv.get_mut().set_row_start(start);
        match self.csv.read_byte_record(&mut self.row) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(error) => return Err(self.parse_error(error, start)),
        }
        let end = self.csv.position().byte();
        let text = self.csv.get_mut();
        // See `END_SENTINEL` for how the two cases below are told apart.
        let Some(line) = text.line_at(start) else {
            return Ok(None);
        };
        if text
            .data_len()
            .is_some_and(|len| end >= len + END_SENTINEL.len() as u64)
        {
            let last = self.row.len().saturating_sub(1);
            return Err(IngestError::UnterminatedQuote {
                line: field_line(line, &self.row, last),
            });
        }
        Ok(Some(line))
    }

    fn parse_error(&mut self, error: csv::Error, row_start: u64) -> IngestError {
        let limits = self.options.limits;
        if !error.is_io_error() {
            // Flexible byte records leave the csv crate nothing else to fail on; should that
            // change, its own words are kept.
            return io::Error::other(error).into();
        }
        match error.into_kind() {
            csv::ErrorKind::Io(error) if is_row_too_long(&error) => {
                let text = self.csv.get_mut();
                let line = text.line_at(row_start).unwrap_or(text.line());
                IngestError::RowTooLong {
                    line,
                    limit: ByteSize(limits.max_row_bytes),
                }
            }
            csv::ErrorKind::Io(error) => io_error(error, limits),
            _ => io::Error::other("the CSV parser failed without saying why").into(),
        }
    }
}

impl<R: Read> fmt::Debug for CsvIngest<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvIngest")
            .field("sniffed", &self.sniffed)
            .field("header", &self.header)
            .field("rows", &self.stats.rows)
            .finish_non_exhaustive()
    }
}

/// Reads up to [`SAMPLE_BYTES`] from the start of the input.
fn read_sample(input: &mut impl Read) -> io::Result<(Vec<u8>, SampleEnd)> {
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    input
        .by_ref()
        .take(SAMPLE_BYTES as u64)
        .read_to_end(&mut sample)?;
    let end = if sample.len() < SAMPLE_BYTES {
        SampleEnd::WholeInput
    } else {
        SampleEnd::Truncated
    };
    Ok((sample, end))
}

fn io_error(error: io::Error, limits: IngestLimits) -> IngestError {
    if is_over_byte_limit(&error) {
        IngestError::TooLarge {
            limit: ByteSize(limits.max_bytes),
        }
    } else {
        error.into()
    }
}

/// The row's fields as strings, one per name in `names` (missing ones empty, extra ones
/// dropped), each checked against the field limit and for valid UTF-8.
fn decode_fields(
    row: &ByteRecord,
    line: u64,
    names: &[String],
    limits: IngestLimits,
) -> Result<Vec<String>, IngestError> {
    names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let raw = row.get(index).unwrap_or_default();
            if raw.len() > limits.max_field_bytes {
                return Err(IngestError::FieldTooLong {
                    line: field_line(line, row, index),
                    column: name.clone(),
                    limit: ByteSize(limits.max_field_bytes as u64),
                });
            }
            std::str::from_utf8(raw)
                .map(str::to_owned)
                .map_err(|_| IngestError::InvalidUtf8 {
                    line: field_line(line, row, index),
                    column: name.clone(),
                })
        })
        .collect()
}

/// The line field `index` starts on: a row only spans lines inside quoted fields, and those
/// line breaks are kept verbatim in the values of the fields before it.
fn field_line(row_line: u64, row: &ByteRecord, index: usize) -> u64 {
    row_line + row.iter().take(index).map(count_line_breaks).sum::<u64>()
}

#[cfg(test)]
mod tests;
