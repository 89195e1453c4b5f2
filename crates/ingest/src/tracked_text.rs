//! The decoded text on its way into the csv parser: physical line numbers, an end marker that
//! exposes an unclosed quote, and a bound on the size of one row.
//!
//! The csv crate counts only `\n` and reports a record's position from before any blank lines
//! it skipped, so its line numbers are wrong for CR-only files and after blank lines. It also
//! accepts a quoted field left open at the end of input as if it were closed. Both are solved
//! here, next to the bytes, without a second CSV parser.

use std::collections::VecDeque;
use std::io::{self, Read};

/// Appended after the data. If the data ended outside a quoted field, this parses as one extra
/// record whose first byte lies in the sentinel (no line of data starts where it does). If the
/// data ended inside a quoted field, the `\n` joins that field, the `"` closes it and the last
/// `\n` ends the record, so a record that began in the data ends at the sentinel's end; a
/// record that ended normally ends at most one byte past the data (the csv crate may look at
/// the byte after a `\r`).
pub(crate) const END_SENTINEL: &[u8] = b"\n\"\n";

/// The marker error for a row longer than the row limit; see [`is_row_too_long`].
#[derive(Debug, thiserror::Error)]
#[error("a row is over its byte limit")]
pub(crate) struct RowTooLong;

/// Whether `error` is (or wraps) a [`RowTooLong`].
pub(crate) fn is_row_too_long(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<RowTooLong>())
}

/// A reader of decoded UTF-8 text that tracks where lines start, appends [`END_SENTINEL`] and
/// fails when the current row grows past `max_row_bytes`.
///
/// The `line_starts` queue holds only what lies between the row being parsed and the parser's
/// read-ahead, so it stays within the row limit.
#[derive(Debug)]
pub(crate) struct TrackedText<R> {
    inner: R,
    /// Bytes of data (not sentinel) handed out so far.
    offset: u64,
    /// The physical line of the next byte, 1-based.
    line: u64,
    after_cr: bool,
    at_line_start: bool,
    /// Offset and line number of each non-empty line's first byte, from the row being parsed
    /// onwards. Records begin only at such bytes because the csv crate skips empty lines.
    line_starts: VecDeque<(u64, u64)>,
    /// The data's length, once the end of the data has been reached.
    data_len: Option<u64>,
    sentinel_sent: usize,
    row_start: u64,
    max_row_bytes: u64,
}

impl<R: Read> TrackedText<R> {
    pub fn new(inner: R, max_row_bytes: u64) -> Self {
        Self {
            inner,
            offset: 0,
            line: 1,
            after_cr: false,
            at_line_start: true,
            line_starts: VecDeque::new(),
            data_len: None,
            sentinel_sent: 0,
            row_start: 0,
            max_row_bytes,
        }
    }

    /// The data's length in bytes, known once the parser has read to its end.
    pub fn data_len(&self) -> Option<u64> {
        self.data_len
    }

    /// Tells the reader at which offset the parser starts its next row, for the row limit.
    pub fn set_row_start(&mut self, offset: u64) {
        self.row_start = offset;
        self.forget_lines_before(offset);
    }

    /// The physical line of the record the parser read from `offset` on, or `None` when no
    /// line of data starts there: the record is the sentinel's. Callers ask in increasing
    /// order of offset, so earlier lines are forgotten.
    pub fn line_at(&mut self, offset: u64) -> Option<u64> {
        self.forget_lines_before(offset);
        self.line_starts.front().map(|&(_, line)| line)
    }

    /// The physical line of the next byte.
    pub fn line(&self) -> u64 {
        self.line
    }

    fn forget_lines_before(&mut self, offset: u64) {
        while self
            .line_starts
            .front()
            .is_some_and(|&(start, _)| start < offset)
        {
            self.line_starts.pop_front();
        }
    }

    /// Bytes of the current row read so far, not counting blank lines the parser skips
    /// before it.
    fn row_bytes(&self) -> u64 {
        let first_byte = self
            .line_starts
            .front()
            .map_or(self.offset, |&(start, _)| start);
        self.offset.saturating_sub(first_byte)
    }

    fn track(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match byte {
                b'\r' => {
                    self.line += 1;
                    self.after_cr = true;
                    self.at_line_start = true;
                }
                b'\n' => {
                    // The `\n` of a CRLF ends the line the `\r` already ended.
                    if !self.after_cr {
                        self.line += 1;
                    }
                    self.after_cr = false;
                    self.at_line_start = true;
                }
                _ => {
                    if self.at_line_start {
                        self.line_starts.push_back((self.offset, self.line));
                        self.at_line_start = false;
                    }
                    self.after_cr = false;
                }
            }
            self.offset += 1;
        }
    }

    fn read_sentinel(&mut self, buf: &mut [u8]) -> usize {
        let rest = END_SENTINEL.get(self.sentinel_sent..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.sentinel_sent += n;
        n
    }
}

impl<R: Read> Read for TrackedText<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.data_len.is_some() {
            return Ok(self.read_sentinel(buf));
        }
        if self.row_bytes() > self.max_row_bytes {
            return Err(io::Error::other(RowTooLong));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.data_len = Some(self.offset);
            return Ok(self.read_sentinel(buf));
        }
        self.track(&buf[..n]);
        Ok(n)
    }
}

/// The number of line breaks in `bytes`, counting a CRLF once.
pub(crate) fn count_line_breaks(bytes: &[u8]) -> u64 {
    let mut breaks = 0;
    let mut after_cr = false;
    for &byte in bytes {
        breaks += u64::from(byte == b'\r' || (byte == b'\n' && !after_cr));
        after_cr = byte == b'\r';
    }
    breaks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads everything through a `TrackedText`, one byte per read to split every CRLF.
    fn read_all(data: &[u8]) -> (TrackedText<&[u8]>, Vec<u8>) {
        let mut tracked = TrackedText::new(data, u64::MAX);
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        while tracked.read(&mut byte).expect("in-memory read") == 1 {
            out.push(byte[0]);
        }
        (tracked, out)
    }

    #[test]
    fn the_sentinel_follows_the_data_and_the_data_length_is_recorded() {
        let (tracked, out) = read_all(b"a,b\n");
        assert_eq!(out, b"a,b\n\n\"\n");
        assert_eq!(tracked.data_len(), Some(4));
    }

    #[test]
    fn lf_crlf_and_lone_cr_each_end_one_line() {
        let (mut tracked, _) = read_all(b"a\nb\r\nc\rd\r\n\r\n\ne");
        assert_eq!(tracked.line_at(0), Some(1));
        assert_eq!(tracked.line_at(1), Some(2));
        assert_eq!(tracked.line_at(4), Some(3));
        assert_eq!(tracked.line_at(6), Some(4));
        // Two blank lines (CRLF, LF) are skipped to reach `e` on line 7.
        assert_eq!(tracked.line_at(8), Some(7));
        assert_eq!(tracked.line_at(14), None);
    }

    #[test]
    fn line_breaks_are_counted_with_crlf_as_one() {
        assert_eq!(count_line_breaks(b"a\r\nb\rc\nd"), 3);
        assert_eq!(count_line_breaks(b"\r\r\n\n"), 3);
        assert_eq!(count_line_breaks(b"none"), 0);
    }

    #[test]
    fn a_row_past_the_limit_fails_with_the_marker() {
        let data = [b'x'; 100];
        let mut tracked = TrackedText::new(&data[..], 10);
        let mut buf = [0u8; 16];
        let n = tracked
            .read(&mut buf)
            .expect("the first read is within the limit");
        assert_eq!(n, 16);
        let error = tracked.read(&mut buf).expect_err("now past the limit");
        assert!(is_row_too_long(&error));
        tracked.set_row_start(16);
        let n = tracked.read(&mut buf).expect("a new row starts");
        assert_eq!(n, 16);
    }

    #[test]
    fn blank_lines_before_a_row_do_not_count_towards_its_length() {
        let mut data = vec![b'\n'; 100];
        data.extend_from_slice(b"a,b\n");
        let mut tracked = TrackedText::new(&data[..], 10);
        let mut buf = [0u8; 16];
        while tracked
            .read(&mut buf)
            .expect("blank lines are not a long row")
            > 0
        {}
    }
}
