//! The size limits an upload must stay within, and how byte sizes read in messages.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How large an upload may be. Every limit turns into a clear [`crate::IngestError`] naming
/// where it was crossed, never a panic or an unbounded allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestLimits {
    /// Largest file accepted, in bytes as uploaded (before decoding). Default 1 GiB.
    pub max_bytes: u64,
    /// Most columns the header row may have. Default 1000.
    pub max_columns: usize,
    /// Longest single cell value, in bytes of UTF-8. Default 1 MiB.
    pub max_field_bytes: usize,
    /// Longest single row, in bytes of UTF-8 including delimiters and quotes. Default 8 MiB.
    ///
    /// A row is the unit held in memory while parsing, so this bounds memory; it also stops a
    /// quote that is never closed from swallowing the rest of a large file into one row. The
    /// check runs on the parser's read-ahead, so it may trip up to 8 KiB early.
    pub max_row_bytes: u64,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 30,
            max_columns: 1000,
            max_field_bytes: 1 << 20,
            max_row_bytes: 8 << 20,
        }
    }
}

/// A number of bytes that displays in binary units (`1 GiB`, `1.5 MiB`, `300 bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [
            (1 << 40, "TiB"),
            (1 << 30, "GiB"),
            (1 << 20, "MiB"),
            (1 << 10, "KiB"),
        ];
        let bytes = self.0;
        for (size, unit) in UNITS {
            if bytes >= size {
                return if bytes.is_multiple_of(size) {
                    write!(f, "{} {unit}", bytes / size)
                } else {
                    // Display only; the precision lost in the cast cannot matter at one decimal.
                    write!(f, "{:.1} {unit}", bytes as f64 / size as f64)
                };
            }
        }
        if bytes == 1 {
            write!(f, "1 byte")
        } else {
            write!(f, "{bytes} bytes")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_read_in_binary_units() {
        assert_eq!(ByteSize(1 << 30).to_string(), "1 GiB");
        assert_eq!(ByteSize(3 << 19).to_string(), "1.5 MiB");
        assert_eq!(ByteSize(1024).to_string(), "1 KiB");
        assert_eq!(ByteSize(300).to_string(), "300 bytes");
        assert_eq!(ByteSize(1).to_string(), "1 byte");
    }

    #[test]
    fn the_default_limits_are_the_documented_ones() {
        let limits = IngestLimits::default();
        assert_eq!(ByteSize(limits.max_bytes).to_string(), "1 GiB");
        assert_eq!(limits.max_columns, 1000);
        assert_eq!(ByteSize(limits.max_field_bytes as u64).to_string(), "1 MiB");
        assert_eq!(ByteSize(limits.max_row_bytes).to_string(), "8 MiB");
    }
}
