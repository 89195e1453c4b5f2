//! Telling which text encoding an upload uses from its first bytes, and refusing what is not text.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::error::{IngestError, NotTextReason};
use crate::sniff::SampleEnd;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const UTF16LE_BOM: &[u8] = b"\xFF\xFE";
const UTF16BE_BOM: &[u8] = b"\xFE\xFF";

/// XLSX/ODS (ZIP) and legacy XLS (OLE2) magic numbers: the usual "I uploaded my spreadsheet".
const SPREADSHEET_MAGIC: [&[u8]; 2] = [b"PK\x03\x04", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"];

/// Above one control character in ten, the sample is binary data rather than a text file with
/// a few stray control bytes (old DOS files end in Ctrl-Z, some exports carry form feeds).
const MAX_CONTROL_CHARS_PER_TEN: usize = 1;

/// The encoding an upload was found to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DetectedEncoding {
    pub encoding: &'static Encoding,
    pub bom: bool,
}

/// Picks the encoding of `sample`: a BOM wins, then valid UTF-8, then chardetng's guess among
/// legacy encodings. Rejects samples that are not text.
pub(crate) fn detect_encoding(
    sample: &[u8],
    end: SampleEnd,
) -> Result<DetectedEncoding, IngestError> {
    for (bom, encoding) in [
        (UTF8_BOM, UTF_8),
        (UTF16LE_BOM, UTF_16LE),
        (UTF16BE_BOM, UTF_16BE),
    ] {
        if sample.starts_with(bom) {
            return Ok(DetectedEncoding {
                encoding,
                bom: true,
            });
        }
    }
    if SPREADSHEET_MAGIC
        .iter()
        .any(|magic| sample.starts_with(magic))
    {
        return Err(IngestError::NotText(NotTextReason::Spreadsheet));
    }
    if sample.contains(&0) {
        return Err(IngestError::NotText(NotTextReason::NulBytes));
    }
    let encoding = match std::str::from_utf8(sample) {
        Ok(_) => UTF_8,
        // The sample may stop in the middle of a multi-byte character.
        Err(error) if error.error_len().is_none() && end == SampleEnd::Truncated => UTF_8,
        Err(_) => {
            let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
            detector.feed(sample, end == SampleEnd::WholeInput);
            detector.guess(None, Utf8Detection::Deny)
        }
    };
    Ok(DetectedEncoding {
        encoding,
        bom: false,
    })
}

/// Decodes `sample` for sniffing and for the control-character check. Lossy on purpose: a
/// character cut at the end of the sample must not fail the sniff.
pub(crate) fn decode_sample(sample: &[u8], detected: DetectedEncoding) -> String {
    if detected.bom {
        detected
            .encoding
            .decode_with_bom_removal(sample)
            .0
            .into_owned()
    } else {
        detected
            .encoding
            .decode_without_bom_handling(sample)
            .0
            .into_owned()
    }
}

/// Rejects decoded text that is mostly control characters.
pub(crate) fn check_is_text(text: &str) -> Result<(), IngestError> {
    let mut chars = 0usize;
    let mut controls = 0usize;
    for c in text.chars() {
        chars += 1;
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}') {
            controls += 1;
        }
    }
    if controls * 10 > chars * MAX_CONTROL_CHARS_PER_TEN {
        return Err(IngestError::NotText(NotTextReason::ControlCharacters));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(sample: &[u8]) -> Result<DetectedEncoding, IngestError> {
        detect_encoding(sample, SampleEnd::WholeInput)
    }

    fn name(sample: &[u8]) -> &'static str {
        detect(sample).expect("a text sample").encoding.name()
    }

    #[test]
    fn utf8_without_a_bom_is_detected_as_utf8() {
        assert_eq!(name("prénom,ville\nZoë,Köln\n".as_bytes()), "UTF-8");
        assert_eq!(name(b"plain,ascii\n"), "UTF-8");
    }

    #[test]
    fn a_bom_decides_the_encoding_and_is_reported() {
        let utf8 = detect(b"\xEF\xBB\xBFa,b\n").expect("utf-8 with bom");
        assert_eq!((utf8.encoding, utf8.bom), (UTF_8, true));
        let le = detect(b"\xFF\xFEa\x00,\x00b\x00").expect("utf-16le");
        assert_eq!((le.encoding, le.bom), (UTF_16LE, true));
        let be = detect(b"\xFE\xFF\x00a\x00,\x00b").expect("utf-16be");
        assert_eq!((be.encoding, be.bom), (UTF_16BE, true));
    }

    #[test]
    fn invalid_utf8_falls_back_to_a_legacy_encoding() {
        let latin = b"nom,ville\nRen\xE9e,Montr\xE9al\nFran\xE7ois,Orl\xE9ans\n";
        assert_eq!(name(latin), "windows-1252");
    }

    #[test]
    fn a_character_cut_by_the_end_of_a_truncated_sample_still_reads_as_utf8() {
        let cut = &"a,é".as_bytes()[..3];
        let detected = detect_encoding(cut, SampleEnd::Truncated).expect("text");
        assert_eq!(detected.encoding, UTF_8);
        let whole = detect_encoding(cut, SampleEnd::WholeInput).expect("text");
        assert_ne!(whole.encoding, UTF_8);
    }

    #[test]
    fn nul_bytes_mean_the_input_is_not_text() {
        assert!(matches!(
            detect(b"a,b\n\x00\x01\x02"),
            Err(IngestError::NotText(NotTextReason::NulBytes))
        ));
    }

    #[test]
    fn a_spreadsheet_file_is_rejected_with_a_hint_to_export_csv() {
        let error = detect(b"PK\x03\x04\x14\x00\x06\x00").expect_err("xlsx is not csv");
        assert!(matches!(
            error,
            IngestError::NotText(NotTextReason::Spreadsheet)
        ));
        assert!(error.to_string().contains("export the sheet as CSV"));
    }

    #[test]
    fn mostly_control_characters_mean_the_input_is_not_text() {
        let noise: String = (1u8..32).map(char::from).cycle().take(300).collect();
        assert!(matches!(
            check_is_text(&noise),
            Err(IngestError::NotText(NotTextReason::ControlCharacters))
        ));
    }

    #[test]
    fn a_few_stray_control_characters_are_tolerated() {
        let text = "name,notes\nann,line\u{0B}break\nbob,page\u{0C}feed\n\u{1A}";
        check_is_text(text).expect("text with stray controls");
    }
}
