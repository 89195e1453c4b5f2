//! The wording rules a message follows before a page shows it: a capital first letter, and one
//! full stop at the end. Here, not in the app, because the recipe's own blockers follow them too
//! and this crate is compiled into the browser as well.

/// `text` with its first letter in upper case: messages that start with a part's name
/// ("system prompt, line 2, …") open sentences on the page.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `text` ending in one full stop: problems that already end in one (or in `?`, `!`, `…`) keep
/// theirs, so a message never reads "fill in..". Trailing white space goes; the first letter is
/// left as it is.
pub fn with_stop(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() || text.ends_with(['.', '?', '!', '…']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// `text` as a sentence on the page: capitalised, and ending in one full stop (messages that
/// already end in one, a question or an exclamation mark keep it).
pub fn sentence(text: &str) -> String {
    with_stop(&capitalised(text.trim_end()))
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
    fn a_stop_is_added_once_and_the_first_letter_is_kept() {
        assert_eq!(
            with_stop("Column \"id\": fill in. "),
            "Column \"id\": fill in."
        );
        assert_eq!(with_stop("field 2 has no name"), "field 2 has no name.");
        assert_eq!(with_stop("Wait…"), "Wait…");
        assert_eq!(with_stop("   "), "");
    }
}
