//! The download's file name: `<slug of the dataset name>-results.<ext>`, or `-partial.<ext>` when
//! the batch has rows without an answer, in a `Content-Disposition` header that every browser
//! reads (an ASCII `filename`, plus RFC 5987 `filename*` when the name is not ASCII).

use crate::Format;

/// The longest slug, in characters: long names are cut rather than making unwieldy file names.
const MAX_SLUG: usize = 60;

/// The file name in two spellings: `ascii` for `filename=` (letters, digits and `-` only) and
/// `unicode` (letters of any script kept) for `filename*=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub ascii: String,
    pub unicode: String,
}

/// The file name for an export of the dataset `dataset_name`.
pub fn file_name(dataset_name: &str, partial: bool, format: Format) -> FileName {
    let tail = format!(
        "-{}.{}",
        if partial { "partial" } else { "results" },
        format.extension()
    );
    file_name_ending(dataset_name, &tail)
}

/// The file name `<slug of name><tail>`, as [`file_name`] makes it.
pub fn file_name_ending(dataset_name: &str, tail: &str) -> FileName {
    let name = |keep: fn(char) -> bool| {
        let slug = slug(dataset_name, keep);
        let slug = if slug.is_empty() {
            "export".into()
        } else {
            slug
        };
        format!("{slug}{tail}")
    };
    FileName {
        ascii: name(|c| c.is_ascii_alphanumeric()),
        unicode: name(char::is_alphanumeric),
    }
}

/// `Content-Disposition: attachment` with the export's file name.
pub fn content_disposition(dataset_name: &str, partial: bool, format: Format) -> String {
    attachment(file_name(dataset_name, partial, format))
}

/// `Content-Disposition: attachment` for `<slug of name><tail>` (a review sheet's
/// `-review.csv`).
pub fn content_disposition_ending(name: &str, tail: &str) -> String {
    attachment(file_name_ending(name, tail))
}

fn attachment(FileName { ascii, unicode }: FileName) -> String {
    if ascii == unicode {
        format!("attachment; filename=\"{ascii}\"")
    } else {
        format!(
            "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
            percent_encode(&unicode)
        )
    }
}

/// Lower case; characters `keep` accepts stay, every run of others becomes one `-`; no `-` at
/// either end; at most [`MAX_SLUG`] characters.
fn slug(name: &str, keep: fn(char) -> bool) -> String {
    let mut slug = String::new();
    let mut length = 0;
    let mut dash = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if !keep(c) {
            dash = true;
            continue;
        }
        let dash_first = dash && length > 0;
        if length + 1 + usize::from(dash_first) > MAX_SLUG {
            break;
        }
        if dash_first {
            slug.push('-');
            length += 1;
        }
        dash = false;
        slug.push(c);
        length += 1;
    }
    slug
}

/// RFC 5987 `value-chars`: `attr-char`s as they are, every other byte of the UTF-8 as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        let plain = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if plain {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ascii_name_becomes_a_lowercase_slug() {
        assert_eq!(
            content_disposition("Support tickets (Q3)", false, Format::Csv),
            "attachment; filename=\"support-tickets-q3-results.csv\""
        );
        assert_eq!(
            file_name("reviews", true, Format::Jsonl).ascii,
            "reviews-partial.jsonl"
        );
    }

    #[test]
    fn a_non_ascii_name_gets_an_rfc_5987_filename_too() {
        assert_eq!(
            content_disposition("Zürich Umfrage", false, Format::Json),
            "attachment; filename=\"z-rich-umfrage-results.json\"; \
             filename*=UTF-8''z%C3%BCrich-umfrage-results.json"
        );
    }

    #[test]
    fn a_name_with_nothing_ascii_falls_back_to_export() {
        let name = file_name("日本語", false, Format::Csv);
        assert_eq!(name.ascii, "export-results.csv");
        assert_eq!(name.unicode, "日本語-results.csv");
    }

    #[test]
    fn quotes_and_slashes_never_reach_the_header() {
        let header = content_disposition("a\"b/../c\r\nd", false, Format::Csv);
        assert_eq!(header, "attachment; filename=\"a-b-c-d-results.csv\"");
    }

    #[test]
    fn long_names_are_cut() {
        let name = file_name(&"x".repeat(500), false, Format::Csv);
        assert_eq!(name.ascii.len(), MAX_SLUG + "-results.csv".len());
    }
}
