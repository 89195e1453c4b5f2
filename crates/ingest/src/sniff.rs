//! Sniffing an upload's first bytes: its encoding, whether it is text at all, and its delimiter.

use serde::{Deserialize, Serialize};

use crate::delimiter::{Delimiter, sniff_delimiter};
use crate::encoding::{DetectedEncoding, check_is_text, decode_sample, detect_encoding};
use crate::error::IngestError;

/// How many bytes from the start of an upload are used to sniff it.
pub const SAMPLE_BYTES: usize = 64 * 1024;

/// Whether a sample is the whole input or only its start; a truncated sample may end in the
/// middle of a character or a row, which sniffing then ignores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleEnd {
    WholeInput,
    Truncated,
}

/// What sniffing found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sniffed {
    /// The WHATWG name of the encoding, e.g. `UTF-8`, `UTF-16LE`, `windows-1252`.
    pub encoding: String,
    /// Whether the file started with a byte order mark (which is never part of the data).
    pub bom: bool,
    pub delimiter: Delimiter,
}

/// Sniffs the start of an upload (at most [`SAMPLE_BYTES`] are looked at).
pub fn sniff(sample: &[u8], end: SampleEnd) -> Result<Sniffed, IngestError> {
    sniff_with(sample, end, None).map(|(sniffed, _)| sniffed)
}

/// Sniffs like [`sniff`], keeping `delimiter` when the caller already knows it, and also hands
/// back the encoding itself for the decoder.
pub(crate) fn sniff_with(
    sample: &[u8],
    end: SampleEnd,
    delimiter: Option<Delimiter>,
) -> Result<(Sniffed, DetectedEncoding), IngestError> {
    let (sample, end) = match sample.get(..SAMPLE_BYTES) {
        Some(start) if start.len() < sample.len() => (start, SampleEnd::Truncated),
        _ => (sample, end),
    };
    let detected = detect_encoding(sample, end)?;
    let text = decode_sample(sample, detected);
    check_is_text(&text)?;
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(&text, end));
    let sniffed = Sniffed {
        encoding: detected.encoding.name().to_owned(),
        bom: detected.bom,
        delimiter,
    };
    Ok((sniffed, detected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_reports_encoding_bom_and_delimiter() {
        let sniffed = sniff(b"\xEF\xBB\xBFa;b\n1;2\n", SampleEnd::WholeInput).expect("sniffs");
        assert_eq!(
            sniffed,
            Sniffed {
                encoding: "UTF-8".into(),
                bom: true,
                delimiter: Delimiter::Semicolon
            }
        );
    }

    #[test]
    fn a_utf16_sample_is_sniffed_after_decoding() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("a\tb\n1\t2\n".encode_utf16().flat_map(u16::to_le_bytes));
        let sniffed = sniff(&bytes, SampleEnd::WholeInput).expect("sniffs");
        assert_eq!(sniffed.encoding, "UTF-16LE");
        assert_eq!(sniffed.delimiter, Delimiter::Tab);
    }

    #[test]
    fn only_the_first_64_kib_are_looked_at() {
        let mut bytes = "a|b\n1|2\n".repeat(SAMPLE_BYTES / 8).into_bytes();
        bytes.extend_from_slice(b"\x00\x00\x00");
        let sniffed = sniff(&bytes, SampleEnd::WholeInput).expect("binary tail unseen");
        assert_eq!(sniffed.delimiter, Delimiter::Pipe);
    }

    #[test]
    fn binary_input_is_rejected() {
        assert!(matches!(
            sniff(
                &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0],
                SampleEnd::WholeInput
            ),
            Err(IngestError::NotText(_))
        ));
        let controls: Vec<u8> = (1u8..9).cycle().take(200).collect();
        assert!(matches!(
            sniff(&controls, SampleEnd::WholeInput),
            Err(IngestError::NotText(_))
        ));
    }
}
