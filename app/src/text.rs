//! Small helpers for the wording of what the pages show.

/// `text` with its first letter in upper case: messages that start with a part's name
/// ("system prompt, line 2, …") open sentences on the page.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `text` percent-encoded for a URL's query: everything but letters, digits and `-_.~`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn url_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `text` as a sentence on the page: capitalised, and ending in one full stop (messages that
/// already end in one, a question or an exclamation mark keep it).
pub fn sentence(text: &str) -> String {
    let text = capitalised(text.trim_end());
    if text.is_empty() || text.ends_with(['.', '?', '!', '…']) {
        text
    } else {
        format!("{text}.")
    }
}

/// A share as the page shows it: a column with any value in it never reads "0%", nor a column
/// with gaps "100%".
pub fn percent(share: f64) -> String {
    let rounded = (share * 100.0).round();
    if share > 0.0 && rounded < 1.0 {
        "<1%".to_string()
    } else if share < 1.0 && rounded >= 100.0 {
        ">99%".to_string()
    } else {
        format!("{rounded:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_letter_changes() {
        assert_eq!(
            capitalised("system prompt, line 2"),
            "System prompt, line 2"
        );
        assert_eq!(capitalised("élan"), "Élan");
        assert_eq!(capitalised(""), "");
    }

    #[test]
    fn a_sentence_ends_in_exactly_one_full_stop() {
        assert_eq!(
            sentence("add at least one field for the model to fill in."),
            "Add at least one field for the model to fill in."
        );
        assert_eq!(sentence("field 2 has no name"), "Field 2 has no name.");
        assert_eq!(sentence("did you mean `title`?"), "Did you mean `title`?");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn a_share_with_any_value_never_reads_zero_and_one_with_gaps_never_a_hundred() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.003), "<1%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(0.998), ">99%");
        assert_eq!(percent(1.0), "100%");
    }
}
