//! Property tests: random tables round-trip byte for byte, delimiters are sniffed, and no
//! input makes the reader panic.

use proptest::prelude::*;
use rowbench_ingest::{CsvIngest, Delimiter, IngestError, IngestLimits, IngestOptions, Ragged};

/// A cell built from the pieces that trip CSV readers up.
fn cell() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_owned()),
        Just(";".to_owned()),
        Just("\t".to_owned()),
        Just("|".to_owned()),
        Just("\"".to_owned()),
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just(" ".to_owned()),
        Just("é".to_owned()),
        Just("日本".to_owned()),
        Just("🦀".to_owned()),
        // Any printable text; U+FEFF is left out because at the very start of a file it is a
        // byte order mark, which is stripped by design.
        "[^\\p{C}\u{FEFF}]{1,4}",
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

fn delimiter() -> impl Strategy<Value = Delimiter> {
    prop::sample::select(Delimiter::ALL.to_vec())
}

fn terminator() -> impl Strategy<Value = csv::Terminator> {
    prop::sample::select(vec![
        csv::Terminator::Any(b'\n'),
        csv::Terminator::CRLF,
        csv::Terminator::Any(b'\r'),
    ])
}

/// A header of unique, non-blank names and 1–6 rows of cells.
fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    (1usize..6).prop_flat_map(|columns| {
        let names = prop::collection::vec(cell(), columns).prop_map(|names| {
            names
                .into_iter()
                .enumerate()
                .map(|(i, name)| format!("{i}:{name}"))
                .collect()
        });
        let rows = prop::collection::vec(prop::collection::vec(cell(), columns), 1..6);
        (names, rows)
    })
}

/// The table written by the csv crate, and the 1-based line each data row starts on.
fn write_table(
    names: &[String],
    rows: &[Vec<String>],
    delimiter: Delimiter,
    terminator: csv::Terminator,
) -> (Vec<u8>, Vec<u64>) {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter.byte())
        .terminator(terminator)
        .from_writer(Vec::new());
    writer.write_record(names).expect("write to memory");
    let mut starts = Vec::new();
    for row in rows {
        writer.flush().expect("flush to memory");
        starts.push(writer.get_ref().len());
        writer.write_record(row).expect("write to memory");
    }
    let bytes = writer.into_inner().expect("flush to memory");
    let lines = starts
        .into_iter()
        .map(|start| 1 + line_breaks(&bytes[..start]))
        .collect();
    (bytes, lines)
}

fn line_breaks(bytes: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(bytes);
    text.replace("\r\n", "\n")
        .chars()
        .filter(|c| matches!(c, '\r' | '\n'))
        .count() as u64
}

/// Everything read back from a table.
#[derive(Debug)]
struct ReadBack {
    delimiter: Delimiter,
    names: Vec<String>,
    rows: Vec<Vec<String>>,
    lines: Vec<u64>,
}

fn ingest(bytes: &[u8], options: IngestOptions) -> Result<ReadBack, IngestError> {
    let mut ingest = CsvIngest::open(bytes, options)?;
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    while let Some(record) = ingest.next_record()? {
        rows.push(record.fields);
        lines.push(record.line);
    }
    let delimiter = ingest.sniffed().delimiter;
    let names = ingest.header().names.clone();
    Ok(ReadBack {
        delimiter,
        names,
        rows,
        lines,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_cell_of_a_random_table_round_trips_byte_for_byte(
        (names, rows) in table(),
        delimiter in delimiter(),
        terminator in terminator(),
    ) {
        let (bytes, expected_lines) = write_table(&names, &rows, delimiter, terminator);
        let options = IngestOptions { delimiter: Some(delimiter), ..IngestOptions::default() };
        let read = ingest(&bytes, options).expect("valid csv");
        prop_assert_eq!(read.names, names);
        prop_assert_eq!(read.rows, rows);
        prop_assert_eq!(read.lines, expected_lines);
    }

    #[test]
    fn a_quote_left_open_at_the_end_is_reported_on_the_line_it_opened(
        (names, rows) in table(),
        delimiter in delimiter(),
        terminator in terminator(),
        plain_fields in 0usize..3,
        rest in cell(),
    ) {
        let (mut bytes, _) = write_table(&names, &rows, delimiter, terminator);
        let line = 1 + line_breaks(&bytes);
        for _ in 0..plain_fields {
            bytes.extend_from_slice(&[b'x', delimiter.byte()]);
        }
        bytes.push(b'"');
        bytes.extend(rest.bytes().filter(|&byte| byte != b'"'));
        let options = IngestOptions { delimiter: Some(delimiter), ..IngestOptions::default() };
        let error = ingest(&bytes, options).expect_err("a quote is open");
        prop_assert!(
            matches!(error, IngestError::UnterminatedQuote { line: l } if l == line),
            "expected an unclosed quote on line {}, got {:?}", line, error
        );
    }

    #[test]
    fn nothing_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        pad in any::<bool>(),
        delimiter in prop::option::of(delimiter()),
        max_row_bytes in 1u64..4096,
        max_field_bytes in 1usize..512,
    ) {
        check_never_panics(&bytes, pad, delimiter, max_row_bytes, max_field_bytes)?;
    }

    #[test]
    fn nothing_panics_on_csv_like_bytes(
        bytes in prop::collection::vec(
            prop::sample::select(b"a,;|\t\"\"\r\n\n \xE9\xC3\xA9\xFF\xFE\xEF\xBB\xBF".to_vec()),
            0..512,
        ),
        pad in any::<bool>(),
        delimiter in prop::option::of(delimiter()),
        max_row_bytes in 1u64..4096,
        max_field_bytes in 1usize..512,
    ) {
        check_never_panics(&bytes, pad, delimiter, max_row_bytes, max_field_bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_delimiter_of_a_plain_table_is_sniffed(
        (names, rows) in (2usize..7).prop_flat_map(|columns| {
            let plain = "[A-Za-z0-9]{1,8}";
            (
                // Distinct names: repeated ones are renamed, which another test covers.
                prop::collection::btree_set(plain, columns)
                    .prop_map(|names| names.into_iter().collect::<Vec<String>>()),
                prop::collection::vec(prop::collection::vec(plain, columns), 3..10),
            )
        }),
        delimiter in delimiter(),
        terminator in terminator(),
    ) {
        let (bytes, _) = write_table(&names, &rows, delimiter, terminator);
        let read = ingest(&bytes, IngestOptions::default()).expect("valid csv");
        prop_assert_eq!(read.delimiter, delimiter);
        prop_assert_eq!(read.names, names);
        prop_assert_eq!(read.rows, rows);
    }
}

/// Whatever the input, reading ends in rows or an error; and the rows it returns have one
/// field per column and strictly increasing lines.
fn check_never_panics(
    bytes: &[u8],
    pad: bool,
    delimiter: Option<Delimiter>,
    max_row_bytes: u64,
    max_field_bytes: usize,
) -> Result<(), TestCaseError> {
    let options = IngestOptions {
        delimiter,
        ragged: if pad {
            Ragged::PadOrTruncate
        } else {
            Ragged::Reject
        },
        limits: IngestLimits {
            max_row_bytes,
            max_field_bytes,
            ..IngestLimits::default()
        },
    };
    let Ok(mut ingest) = CsvIngest::open(bytes, options) else {
        return Ok(());
    };
    let columns = ingest.header().len();
    let mut last_line = 1;
    while let Ok(Some(record)) = ingest.next_record() {
        prop_assert_eq!(record.fields.len(), columns);
        prop_assert!(record.line > last_line);
        last_line = record.line;
    }
    // An error, if any, is final and repeated.
    if let Err(first) = ingest.next_record() {
        prop_assert_eq!(
            ingest.next_record().map_err(|e| e.to_string()),
            Err(first.to_string())
        );
    }
    Ok(())
}
