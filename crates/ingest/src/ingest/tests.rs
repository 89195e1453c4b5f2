//! Reading whole uploads end to end, one behaviour per test.

use super::*;
use crate::NotTextReason;

/// Reads all of `bytes`, returning the header names and each row's line and fields.
fn read_with(
    bytes: &[u8],
    options: IngestOptions,
) -> Result<(Vec<String>, Vec<Record>), IngestError> {
    let mut ingest = CsvIngest::open(bytes, options)?;
    let mut records = Vec::new();
    while let Some(record) = ingest.next_record()? {
        records.push(record);
    }
    Ok((ingest.header().names.clone(), records))
}

fn read(bytes: &[u8]) -> Result<(Vec<String>, Vec<Record>), IngestError> {
    read_with(bytes, IngestOptions::default())
}

fn fields(records: &[Record]) -> Vec<Vec<&str>> {
    records
        .iter()
        .map(|record| record.fields.iter().map(String::as_str).collect())
        .collect()
}

fn lines(records: &[Record]) -> Vec<u64> {
    records.iter().map(|record| record.line).collect()
}

fn limited(limits: IngestLimits) -> IngestOptions {
    IngestOptions {
        limits,
        ..IngestOptions::default()
    }
}

/// A reader that hands out one byte per call, as a slow network body might.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&byte, rest)), Some(slot)) => {
                *slot = byte;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn quoted_fields_keep_delimiters_doubled_quotes_and_newlines() {
    let (_, records) =
        read(b"a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",\"\"\n").expect("valid csv");
    assert_eq!(
        fields(&records),
        [["x,y", "say \"hi\""], ["multi\nline", ""]]
    );
    assert_eq!(lines(&records), [2, 3]);
}

#[test]
fn crlf_lf_and_lone_cr_line_ends_all_parse_with_the_right_lines() {
    for input in [
        &b"h1,h2\n1,2\n3,4\n"[..],
        b"h1,h2\r\n1,2\r\n3,4\r\n",
        b"h1,h2\r1,2\r3,4\r",
    ] {
        let (names, records) = read(input).expect("valid csv");
        assert_eq!(names, ["h1", "h2"]);
        assert_eq!(fields(&records), [["1", "2"], ["3", "4"]]);
        assert_eq!(lines(&records), [2, 3]);
    }
}

#[test]
fn carriage_returns_inside_quoted_fields_are_kept_exactly() {
    let (_, records) =
        read(b"a,b\r\"one\rtwo\",\"three\r\nfour\"\r\"\n\r\",x\r").expect("cr-only csv");
    assert_eq!(
        fields(&records),
        [["one\rtwo", "three\r\nfour"], ["\n\r", "x"]]
    );
    assert_eq!(lines(&records), [2, 5]);
}

#[test]
fn blank_lines_are_skipped_without_shifting_line_numbers() {
    let (_, records) = read(b"\n\r\nid,v\n\n1,a\r\n\r\n\r\n2,b\n\n").expect("valid csv");
    assert_eq!(fields(&records), [["1", "a"], ["2", "b"]]);
    assert_eq!(lines(&records), [5, 8]);
}

#[test]
fn rows_after_a_multiline_field_carry_their_own_line() {
    let (_, records) = read(b"a,b\n1,\"x\ny\r\nz\"\n2,w\n").expect("valid csv");
    assert_eq!(lines(&records), [2, 5]);
}

#[test]
fn a_missing_final_newline_is_fine() {
    let (_, records) = read(b"a,b\n1,2\n3,\"4\"").expect("valid csv");
    assert_eq!(fields(&records), [["1", "2"], ["3", "4"]]);
}

#[test]
fn cells_are_kept_exactly_without_trimming() {
    let (names, records) = read(b" a ,b\t\n  1 , \"2 \" \n").expect("valid csv");
    assert_eq!(names, [" a ", "b\t"]);
    assert_eq!(fields(&records), [["  1 ", " \"2 \" "]]);
}

#[test]
fn an_empty_file_is_reported_as_empty() {
    for input in [&b""[..], b"\n\r\n\r", b"\xEF\xBB\xBF"] {
        assert!(
            matches!(read(input), Err(IngestError::EmptyFile)),
            "for {input:?}"
        );
    }
}

#[test]
fn a_header_without_data_rows_is_reported_by_finish() {
    let mut ingest = CsvIngest::open(&b"a,b\n\n"[..], IngestOptions::default()).expect("opens");
    assert_eq!(ingest.next_record().expect("no error"), None);
    assert!(matches!(ingest.finish(), Err(IngestError::HeaderOnly)));
}

#[test]
fn a_ragged_row_is_reported_with_its_line_and_field_counts() {
    let error = read(b"a,b,c,d\n1,2,3,4\n\n\n\n\n1,2,3,4,5\n").expect_err("ragged");
    assert!(matches!(
        error,
        IngestError::RaggedRow {
            line: 7,
            expected: 4,
            found: 5
        }
    ));
    assert_eq!(
        error.to_string(),
        "line 7 has 5 fields but the header has 4"
    );
}

#[test]
fn pad_or_truncate_fixes_ragged_rows_and_counts_them() {
    let options = IngestOptions {
        ragged: Ragged::PadOrTruncate,
        ..IngestOptions::default()
    };
    let input = &b"a,b,c\n1\n1,2,3\n1,2,3,4,5\n"[..];
    let (_, records) = read_with(input, options).expect("fixed");
    assert_eq!(
        fields(&records),
        [["1", "", ""], ["1", "2", "3"], ["1", "2", "3"]]
    );
    let summary = CsvIngest::open(input, options)
        .and_then(CsvIngest::finish)
        .expect("summary");
    assert_eq!(summary.stats.fixed_rows, 2);
}

#[test]
fn an_unterminated_quote_names_the_line_where_the_field_started() {
    let error = read(b"a,b\n1,2\n3,\"never\nclosed\n").expect_err("open quote");
    assert!(matches!(error, IngestError::UnterminatedQuote { line: 3 }));

    // The field starts after a multi-line field of the same row.
    let error = read(b"a,b,c\r\n\"x\r\ny\",\"z").expect_err("open quote");
    assert!(matches!(error, IngestError::UnterminatedQuote { line: 3 }));

    // Ending in an escaped quote leaves the field open too.
    let error = read(b"a\n\"x\"\"").expect_err("open quote");
    assert!(matches!(error, IngestError::UnterminatedQuote { line: 2 }));
}

#[test]
fn an_unterminated_quote_in_the_header_is_reported() {
    let error = read(b"a,\"b\n1,2\n").expect_err("open quote");
    assert!(matches!(error, IngestError::UnterminatedQuote { line: 1 }));
}

#[test]
fn a_quote_closed_right_at_the_end_of_the_file_is_not_an_error() {
    for input in [
        &b"a\n\"x\""[..],
        b"a\n\"x\"\r",
        b"a\n\"x\"\r\n",
        b"a\n\"x\"\n",
        b"a\n\"\"\r",
    ] {
        let (_, records) = read(input).expect("closed quote");
        assert_eq!(records.len(), 1, "for {input:?}");
    }
}

#[test]
fn an_unterminated_quote_in_a_long_file_is_caught_by_the_row_limit() {
    let mut input = b"a,b\n1,\"oops\n".to_vec();
    input.extend("2,fine\n".repeat(20_000).bytes());
    let options = limited(IngestLimits {
        max_row_bytes: 4096,
        ..IngestLimits::default()
    });
    let error = read_with(&input, options).expect_err("row too long");
    assert!(matches!(
        error,
        IngestError::RowTooLong {
            line: 2,
            limit: ByteSize(4096)
        }
    ));
    assert!(
        error
            .to_string()
            .contains("a quote on that line is never closed")
    );
}

#[test]
fn a_file_over_the_byte_limit_is_rejected() {
    let input = "a,b\n".to_owned() + &"1,2\n".repeat(50_000);
    let options = limited(IngestLimits {
        max_bytes: 100_000,
        ..IngestLimits::default()
    });
    let error = read_with(input.as_bytes(), options).expect_err("too large");
    assert!(matches!(
        error,
        IngestError::TooLarge {
            limit: ByteSize(100_000)
        }
    ));

    let options = limited(IngestLimits {
        max_bytes: 10,
        ..IngestLimits::default()
    });
    assert!(matches!(
        read_with(input.as_bytes(), options),
        Err(IngestError::TooLarge { .. })
    ));
}

#[test]
fn a_file_exactly_at_the_byte_limit_is_accepted() {
    let input = b"a,b\n1,2\n";
    let options = limited(IngestLimits {
        max_bytes: input.len() as u64,
        ..IngestLimits::default()
    });
    read_with(input, options).expect("exactly at the limit");
}

#[test]
fn a_header_with_too_many_columns_is_rejected() {
    let options = limited(IngestLimits {
        max_columns: 3,
        ..IngestLimits::default()
    });
    let error = read_with(b"a,b,c,d\n1,2,3,4\n", options).expect_err("too many columns");
    assert!(matches!(
        error,
        IngestError::TooManyColumns { found: 4, limit: 3 }
    ));
}

#[test]
fn a_field_over_the_limit_names_its_line_column_and_the_limit() {
    let options = limited(IngestLimits {
        max_field_bytes: 8,
        ..IngestLimits::default()
    });
    let error = read_with(b"id,notes\n1,short\n2,\"far\ntoo long\"\n", options).expect_err("long");
    assert!(matches!(
        &error,
        IngestError::FieldTooLong { line: 3, column, limit: ByteSize(8) } if column == "notes"
    ));
    assert_eq!(
        error.to_string(),
        "line 3: the value in column \"notes\" is longer than the 8 bytes limit"
    );
}

#[test]
fn windows_1252_bytes_decode_to_the_right_characters() {
    let (names, records) =
        read(b"pr\xE9nom,ville\nRen\xE9e,Montr\xE9al\n\x80 9,Fran\xE7ois\n").expect("windows-1252");
    assert_eq!(names, ["prénom", "ville"]);
    assert_eq!(
        fields(&records),
        [["Renée", "Montréal"], ["€ 9", "François"]]
    );
}

#[test]
fn utf16_files_with_a_bom_decode_correctly() {
    let text = "name\tcity\nZoë\t\"Köln\n日本\"\n";
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    for (bytes, encoding) in [(le, "UTF-16LE"), (be, "UTF-16BE")] {
        let ingest = CsvIngest::open(&bytes[..], IngestOptions::default()).expect("utf-16");
        assert_eq!(ingest.sniffed().encoding, encoding);
        let summary = ingest.finish().expect("summary");
        assert_eq!(summary.header.names, ["name", "city"]);
        assert_eq!(summary.stats.preview[0].fields, ["Zoë", "Köln\n日本"]);
    }
}

#[test]
fn a_bom_prefixed_utf8_file_has_no_bom_in_its_first_header() {
    let ingest = CsvIngest::open(&b"\xEF\xBB\xBFid,name\n1,x\n"[..], IngestOptions::default())
        .expect("utf-8 with bom");
    assert!(ingest.sniffed().bom);
    assert_eq!(ingest.header().names, ["id", "name"]);
}

#[test]
fn binary_input_is_rejected() {
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00";
    assert!(matches!(
        read(png),
        Err(IngestError::NotText(NotTextReason::NulBytes))
    ));
}

#[test]
fn invalid_utf8_after_the_sample_names_its_line_and_column() {
    let mut input = "id,name\n".to_owned() + &"1,plain\n".repeat(SAMPLE_BYTES / 8);
    input.push_str("2,");
    let mut bytes = input.into_bytes();
    bytes.extend_from_slice(b"Ren\xE9e\n");
    let error = read(&bytes).expect_err("invalid utf-8");
    let line = SAMPLE_BYTES as u64 / 8 + 2;
    assert!(
        matches!(&error, IngestError::InvalidUtf8 { line: l, column } if *l == line && column == "name")
    );
}

#[test]
fn an_explicit_delimiter_overrides_sniffing() {
    let options = IngestOptions {
        delimiter: Some(Delimiter::Pipe),
        ..IngestOptions::default()
    };
    let mut ingest = CsvIngest::open(&b"a,b|c\n1,2|3\n"[..], options).expect("opens");
    assert_eq!(ingest.sniffed().delimiter, Delimiter::Pipe);
    assert_eq!(ingest.header().names, ["a,b", "c"]);
    assert_eq!(
        ingest.next_record().expect("row").map(|r| r.fields),
        Some(vec!["1,2".into(), "3".into()])
    );
}

#[test]
fn no_bytes_are_lost_where_the_sample_ends() {
    let rows = 30_000;
    let mut input = "n,text\n".to_owned();
    for n in 0..rows {
        input.push_str(&format!("{n},\"row {n}, with é and\nnewline\"\n"));
    }
    assert!(input.len() > 4 * SAMPLE_BYTES);
    let (_, records) = read(input.as_bytes()).expect("valid csv");
    assert_eq!(records.len(), rows);
    for (n, record) in records.iter().enumerate() {
        assert_eq!(
            record.fields,
            [n.to_string(), format!("row {n}, with é and\nnewline")]
        );
        assert_eq!(record.line, 2 + 2 * n as u64);
    }
}

#[test]
fn a_reader_that_hands_out_one_byte_at_a_time_reads_the_same() {
    let input = "x;y\r\n\"1\r\n2\";é\r\r\n3;4".as_bytes();
    let mut ingest = CsvIngest::open(Trickle(input), IngestOptions::default()).expect("opens");
    let mut records = Vec::new();
    while let Some(record) = ingest.next_record().expect("valid csv") {
        records.push(record);
    }
    assert_eq!(fields(&records), [["1\r\n2", "é"], ["3", "4"]]);
    assert_eq!(lines(&records), [2, 5]);
}

#[test]
fn finish_reads_the_rest_and_returns_the_stats() {
    let mut ingest = CsvIngest::open(&b"q,a\nWhy?,\nHow?,Fine\n,\n"[..], IngestOptions::default())
        .expect("opens");
    ingest.next_record().expect("first row");
    assert_eq!(ingest.stats().rows, 1);
    let summary = ingest.finish().expect("summary");
    assert_eq!(summary.stats.rows, 3);
    assert_eq!(summary.stats.preview.len(), 3);
    assert_eq!(summary.stats.columns[0].samples, ["Why?", "How?"]);
    assert!((summary.stats.columns[1].fill_rate - 1.0 / 3.0).abs() < 1e-9);
}

#[test]
fn header_renames_are_reported_with_the_header() {
    let ingest = CsvIngest::open(&b"id,,id\n1,2,3\n"[..], IngestOptions::default()).expect("opens");
    assert_eq!(ingest.header().names, ["id", "column_2", "id_2"]);
    assert_eq!(ingest.header().renames.len(), 2);
}

#[test]
fn an_error_is_repeated_by_later_calls() {
    let mut ingest =
        CsvIngest::open(&b"a,b\n1\n2,3\n"[..], IngestOptions::default()).expect("opens");
    assert!(matches!(
        ingest.next_record(),
        Err(IngestError::RaggedRow { line: 2, .. })
    ));
    assert!(matches!(
        ingest.next_record(),
        Err(IngestError::RaggedRow { line: 2, .. })
    ));
    assert!(matches!(
        ingest.finish(),
        Err(IngestError::RaggedRow { line: 2, .. })
    ));
}

#[test]
fn a_one_column_file_reads_as_one_column() {
    let (names, records) =
        read(b"question\nWhy is the sky blue?\n\"\"\n\"What, exactly?\"\n").expect("one column");
    assert_eq!(names, ["question"]);
    assert_eq!(
        fields(&records),
        [["Why is the sky blue?"], [""], ["What, exactly?"]]
    );

    let error = read(b"question\nWhy?\nWhat, exactly?\n").expect_err("unquoted comma");
    assert!(matches!(
        error,
        IngestError::RaggedRow {
            line: 3,
            expected: 1,
            found: 2
        }
    ));
}

#[test]
fn the_summary_serialises_for_the_ui() {
    let summary = CsvIngest::open(&b"a\n1\n"[..], IngestOptions::default())
        .and_then(CsvIngest::finish)
        .expect("summary");
    let json = serde_json::to_string(&summary).expect("serialises");
    let back: Summary = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, summary);
    assert!(json.contains("\"delimiter\":\"comma\""));
}

#[test]
fn an_ingest_can_move_to_a_blocking_thread() {
    let body = io::Cursor::new(b"a,b\n1,2\n".to_vec());
    let ingest = CsvIngest::open(body, IngestOptions::default()).expect("opens");
    let summary = std::thread::spawn(move || ingest.finish())
        .join()
        .expect("the thread finishes")
        .expect("summary");
    assert_eq!(summary.stats.rows, 1);
}
