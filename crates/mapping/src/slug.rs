//! Turning a header such as "Customer E-mail" into a parameter key such as `customer_e_mail`.

/// A lowercase identifier made from `header`: runs of anything but ASCII letters and digits
/// become one `_`; a leading digit gets a `_` in front; nothing usable gives `param`.
pub fn slug(header: &str) -> String {
    let mut key = String::with_capacity(header.len());
    let mut gap = false;
    for c in header.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !key.is_empty() {
                key.push('_');
            }
            gap = false;
            key.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    match key.chars().next() {
        None => "param".to_string(),
        Some(first) if first.is_ascii_digit() => format!("_{key}"),
        Some(_) => key,
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn words_are_lowercased_and_joined_by_underscores() {
        assert_eq!(slug("Customer E-mail"), "customer_e_mail");
        assert_eq!(slug("  Order   Total ($) "), "order_total");
        assert_eq!(slug("already_snake"), "already_snake");
    }

    #[test]
    fn a_leading_digit_gets_an_underscore() {
        assert_eq!(slug("2024 revenue"), "_2024_revenue");
    }

    #[test]
    fn letters_outside_ascii_are_gaps_and_nothing_left_gives_param() {
        assert_eq!(slug("Straße Nr"), "stra_e_nr");
        assert_eq!(slug("???"), "param");
        assert_eq!(slug(""), "param");
    }
}
