//! Counting the bytes of an upload as they arrive and stopping once there are too many.

use std::io::{self, Read};

/// The marker error a [`ByteLimit`] fails with; it travels inside `io::Error` through the
/// decoder and the csv crate and is recognised again with [`is_over_byte_limit`].
#[derive(Debug, thiserror::Error)]
#[error("the input is over its byte limit")]
pub(crate) struct OverByteLimit;

/// Whether `error` is (or wraps) an [`OverByteLimit`].
pub(crate) fn is_over_byte_limit(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<OverByteLimit>())
}

/// A reader that fails once more than `max` bytes have been read through it.
#[derive(Debug)]
pub(crate) struct ByteLimit<R> {
    inner: R,
    read: u64,
    max: u64,
}

impl<R: Read> ByteLimit<R> {
    pub fn new(inner: R, max: u64) -> Self {
        Self {
            inner,
            read: 0,
            max,
        }
    }
}

impl<R: Read> Read for ByteLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for at most one byte past the limit: enough to know it was crossed, without
        // reading on into a huge body.
        let allowed = (self.max - self.read.min(self.max)).saturating_add(1);
        let len = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(io::Error::other(OverByteLimit));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_up_to_the_limit_passes_through_untouched() {
        let mut out = Vec::new();
        ByteLimit::new(&b"12345"[..], 5)
            .read_to_end(&mut out)
            .expect("within the limit");
        assert_eq!(out, b"12345");
    }

    #[test]
    fn one_byte_over_the_limit_fails_with_the_marker() {
        let mut out = Vec::new();
        let error = ByteLimit::new(&b"123456"[..], 5)
            .read_to_end(&mut out)
            .expect_err("over the limit");
        assert!(is_over_byte_limit(&error));
        assert!(!is_over_byte_limit(&io::Error::other("something else")));
    }
}
