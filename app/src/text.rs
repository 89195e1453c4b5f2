//! Small helpers for the wording of what the pages show.

// The sentence rules live with the recipe, whose blockers follow them too.
pub use rowbench_recipe::text::{capitalised, sentence};

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
    fn a_share_with_any_value_never_reads_zero_and_one_with_gaps_never_a_hundred() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.003), "<1%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(0.998), ">99%");
        assert_eq!(percent(1.0), "100%");
    }
}
