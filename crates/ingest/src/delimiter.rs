//! The four field delimiters Rowbench accepts, and guessing which one a file uses.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::sniff::SampleEnd;

/// A field delimiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delimiter {
    Comma,
    Semicolon,
    Tab,
    Pipe,
}

impl Delimiter {
    /// Every delimiter, in the order ties are broken when sniffing.
    pub const ALL: [Delimiter; 4] = [Self::Comma, Self::Semicolon, Self::Tab, Self::Pipe];

    /// The delimiter's byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Comma => b',',
            Self::Semicolon => b';',
            Self::Tab => b'\t',
            Self::Pipe => b'|',
        }
    }

    /// The delimiter that is this byte, if it is one of the four.
    pub fn from_byte(byte: u8) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|delimiter| delimiter.byte() == byte)
    }
}

/// Picks the delimiter that splits the sample's rows into the most consistent number of fields
/// (more than one). A sample no candidate splits is a one-column file, read with commas.
pub(crate) fn sniff_delimiter(text: &str, end: SampleEnd) -> Delimiter {
    Delimiter::ALL
        .into_iter()
        .filter_map(|delimiter| Consistency::of(text, delimiter, end).map(|c| (c, delimiter)))
        // `max_by` keeps the last of equals; reversing keeps the earliest candidate instead.
        .rev()
        .max_by(|(a, _), (b, _)| a.compare(b))
        .map_or(Delimiter::Comma, |(_, delimiter)| delimiter)
}

/// How consistently one delimiter splits the sample: the most common field count, and on how
/// many of the rows it occurs.
#[derive(Debug, Clone, Copy)]
struct Consistency {
    rows_at_mode: usize,
    rows: usize,
    mode: usize,
}

impl Consistency {
    /// `None` when the delimiter does not split the sample into more than one field.
    fn of(text: &str, delimiter: Delimiter, end: SampleEnd) -> Option<Self> {
        let mut counts = field_counts(text, delimiter);
        // A truncated sample's last row is likely cut short.
        if end == SampleEnd::Truncated && counts.len() > 1 {
            counts.pop();
        }
        let mut tally: Vec<(usize, usize)> = Vec::new();
        for count in &counts {
            match tally.iter_mut().find(|(fields, _)| fields == count) {
                Some((_, rows)) => *rows += 1,
                None => tally.push((*count, 1)),
            }
        }
        let (mode, rows_at_mode) =
            tally
                .into_iter()
                .max_by(|(fields_a, rows_a), (fields_b, rows_b)| {
                    rows_a.cmp(rows_b).then(fields_a.cmp(fields_b))
                })?;
        (mode > 1).then_some(Self {
            rows_at_mode,
            rows: counts.len(),
            mode,
        })
    }

    /// Share of rows at the mode first (compared as fractions without rounding), then the
    /// larger field count, so `a,b,c;d` on every row reads as three comma-separated fields.
    fn compare(&self, other: &Self) -> Ordering {
        let share = self.rows_at_mode * other.rows;
        let other_share = other.rows_at_mode * self.rows;
        share.cmp(&other_share).then(self.mode.cmp(&other.mode))
    }
}

/// Field counts per row, parsed by the csv crate itself so quoting works exactly as it will
/// when the file is read for real.
fn field_counts(text: &str, delimiter: Delimiter) -> Vec<usize> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter.byte())
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut counts = Vec::new();
    // Reading bytes from memory into a flexible byte record cannot fail; stopping on an error
    // simply ends the sample.
    while let Ok(true) = reader.read_byte_record(&mut record) {
        counts.push(record.len());
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(text: &str) -> Delimiter {
        sniff_delimiter(text, SampleEnd::WholeInput)
    }

    #[test]
    fn each_candidate_delimiter_is_detected() {
        for delimiter in Delimiter::ALL {
            let d = char::from(delimiter.byte());
            let text = format!("id{d}name{d}city\n1{d}ann{d}Oslo\n2{d}bob{d}Lima\n");
            assert_eq!(sniff(&text), delimiter, "for {d:?}");
        }
    }

    #[test]
    fn delimiters_inside_quotes_are_ignored() {
        let text = "name;quote\nann;\"yes, no, maybe, so\"\nbob;\"a,b,c,d\"\n";
        assert_eq!(sniff(text), Delimiter::Semicolon);
    }

    #[test]
    fn decimal_commas_in_a_semicolon_file_do_not_fool_the_sniffer() {
        let text = "item;price\nbread;1,50\nmilk;0,99\ncake;12\n";
        assert_eq!(sniff(text), Delimiter::Semicolon);
    }

    #[test]
    fn a_delimiter_on_every_row_beats_one_on_most_rows() {
        let text = "a|b\n1|2, 3\n4|5\n6|7, 8\n";
        assert_eq!(sniff(text), Delimiter::Pipe);
    }

    #[test]
    fn a_single_column_sample_falls_back_to_comma() {
        assert_eq!(
            sniff("question\nWhy is the sky blue?\nWhat is 2+2?\n"),
            Delimiter::Comma
        );
        assert_eq!(sniff(""), Delimiter::Comma);
    }

    #[test]
    fn the_cut_off_last_row_of_a_truncated_sample_is_ignored() {
        let text = "a\tb\tc\n1\t2\t3\n4\t5\t6\n7;8;9;10;11;12";
        assert_eq!(sniff_delimiter(text, SampleEnd::Truncated), Delimiter::Tab);
    }

    #[test]
    fn delimiters_round_trip_through_their_bytes() {
        for delimiter in Delimiter::ALL {
            assert_eq!(Delimiter::from_byte(delimiter.byte()), Some(delimiter));
        }
        assert_eq!(Delimiter::from_byte(b'#'), None);
    }
}
