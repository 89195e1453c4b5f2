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
}
