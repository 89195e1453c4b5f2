//! The spreadsheet formula guard (OWASP "CSV injection"): a CSV cell that starts with `=`, `+`,
//! `-`, `@`, TAB, CR or LF is run as a formula by Excel, LibreOffice and Google Sheets when the
//! file is opened, and uploaded cells and model answers are both untrusted text. Such a cell is
//! written with a leading `'`, which spreadsheets read as "this is text" and do not show.
//!
//! Plain numbers (`-12.5`, `+3`, `-1e-3`) are left alone: a spreadsheet reads them as the number
//! they are, so prefixing them would only turn every negative amount into text.

/// How many CSV cells of an export start like a formula, by output column (columns with none
/// left out), in column order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormulaCells {
    pub by_column: Vec<(String, u64)>,
}

impl FormulaCells {
    /// Every such cell, in all columns.
    pub fn total(&self) -> u64 {
        self.by_column.iter().map(|(_, n)| n).sum()
    }
}

/// Whether `cell` gets the `'` prefix.
pub fn needs_guard(cell: &[u8]) -> bool {
    matches!(
        cell.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
    ) && !is_plain_number(cell)
}

/// An optional sign, digits with at most one decimal point (at least one digit), and an optional
/// exponent: what every spreadsheet reads as a number and nothing else.
pub fn is_plain_number(text: &[u8]) -> bool {
    let rest = match text.first() {
        Some(b'+' | b'-') => &text[1..],
        _ => text,
    };
    let (mantissa, exponent) = match rest.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mut digits = 0;
    let mut points = 0;
    for byte in mantissa {
        match byte {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return false,
        }
    }
    if digits == 0 || points > 1 {
        return false;
    }
    match exponent {
        None => true,
        Some(exponent) => {
            let digits = match exponent.first() {
                Some(b'+' | b'-') => &exponent[1..],
                _ => exponent,
            };
            !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_guarded() {
        for cell in [
            "=SUM(A1)",
            "+A1",
            "-2+3",
            "@x",
            "\tx",
            "\rx",
            "\nx",
            "=1",
            "-",
            "+",
            "-1,234.50",
        ] {
            assert!(needs_guard(cell.as_bytes()), "{cell:?}");
        }
    }

    #[test]
    fn plain_numbers_and_ordinary_text_are_left_alone() {
        for cell in [
            "-12.5", "+3", "+1", "-2", "-.5", "-5.", "-1e-3", "+2E+10", "hello", "", "'=x", " =x",
            "12", "a=b",
        ] {
            assert!(!needs_guard(cell.as_bytes()), "{cell:?}");
        }
    }

    #[test]
    fn a_number_needs_digits_and_at_most_one_point() {
        for text in ["-.", "-1.2.3", "-1e", "-e5", "-1e+", "--1", "-1 "] {
            assert!(!is_plain_number(text.as_bytes()), "{text:?}");
        }
    }
}
