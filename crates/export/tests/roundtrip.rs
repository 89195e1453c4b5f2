//! Property tests: any cells read back from every format exactly as they went in (CSV with the
//! guard off), or with nothing but the guard's `'` added (CSV with the guard on).

use proptest::prelude::*;
use rowbench_export::guard::needs_guard;
use rowbench_export::{ExportOptions, Exporter, Format, FormulaCells, Layout, Row, export};

/// A cell built from the pieces that trip CSV readers and spreadsheets up.
fn cell() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_owned()),
        Just(";".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\t".to_owned()),
        Just(" ".to_owned()),
        Just("=".to_owned()),
        Just("+".to_owned()),
        Just("-".to_owned()),
        Just("@".to_owned()),
        Just("12.5".to_owned()),
        Just("é".to_owned()),
        Just("日本".to_owned()),
        Just("🦀".to_owned()),
        "\\PC{1,4}",
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
    (1usize..5).prop_flat_map(|columns| {
        prop::collection::vec(prop::collection::vec(cell(), columns), 1..8)
    })
}

fn write(rows: &[Vec<String>], format: Format, guard: bool) -> Vec<u8> {
    let columns: Vec<String> = (0..rows[0].len()).map(|i| format!("c{i}")).collect();
    let layout = Layout::new(columns, Vec::new(), "m", false);
    let options = ExportOptions {
        format,
        formula_guard: guard,
    };
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, cells)| Row::new(i as i64, cells, "succeeded"));
    export(Vec::new(), layout, options, rows).expect("export to memory")
}

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    reader
        .records()
        .map(|record| {
            record
                .expect("valid CSV")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Writes `rows` as guarded CSV and answers the exporter's formula count and the file.
fn write_counting(rows: &[Vec<String>], guard: bool) -> (FormulaCells, Vec<u8>) {
    let columns: Vec<String> = (0..rows[0].len()).map(|i| format!("c{i}")).collect();
    let layout = Layout::new(columns, Vec::new(), "m", false);
    let options = ExportOptions {
        format: Format::Csv,
        formula_guard: guard,
    };
    let mut exporter = Exporter::new(Vec::new(), layout, options).expect("header");
    for (i, cells) in rows.iter().enumerate() {
        exporter
            .write_row(&Row::new(i as i64, cells, "succeeded"))
            .expect("row");
    }
    let counted = exporter.formula_cells();
    (counted, exporter.finish().expect("finish"))
}

proptest! {
    #[test]
    fn the_formula_count_is_the_number_of_cells_the_guard_changes(rows in table()) {
        let (counted, guarded) = write_counting(&rows, true);
        let plain = read_csv(&write(&rows, Format::Csv, false));
        let changed = read_csv(&guarded)
            .iter()
            .flatten()
            .zip(plain.iter().flatten())
            .filter(|(a, b)| a != b)
            .count() as u64;
        prop_assert_eq!(counted.total(), changed);
        // Counted the same when the guard is off: what a spreadsheet would run.
        prop_assert_eq!(write_counting(&rows, false).0, counted);
    }

    #[test]
    fn unguarded_csv_reads_back_byte_for_byte(rows in table()) {
        prop_assert_eq!(read_csv(&write(&rows, Format::Csv, false)), rows);
    }

    #[test]
    fn guarded_csv_differs_only_by_the_prefix_on_formula_cells(rows in table()) {
        let expected: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|cell| {
                        if needs_guard(cell.as_bytes()) {
                            format!("'{cell}")
                        } else {
                            cell.clone()
                        }
                    })
                    .collect()
            })
            .collect();
        prop_assert_eq!(read_csv(&write(&rows, Format::Csv, true)), expected);
    }

    #[test]
    fn json_and_json_lines_read_back_byte_for_byte(rows in table()) {
        let cells_of = |object: &serde_json::Value| -> Vec<String> {
            (0..rows[0].len())
                .map(|i| object[format!("c{i}")].as_str().expect("string cell").to_string())
                .collect()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&write(&rows, Format::Json, true)).expect("one document");
        let from_json: Vec<Vec<String>> =
            json.as_array().expect("array").iter().map(cells_of).collect();
        prop_assert_eq!(&from_json, &rows);

        let jsonl = String::from_utf8(write(&rows, Format::Jsonl, true)).expect("UTF-8");
        let from_jsonl: Vec<Vec<String>> = jsonl
            .split_terminator('\n')
            .map(|line| cells_of(&serde_json::from_str(line).expect("one object per line")))
            .collect();
        prop_assert_eq!(&from_jsonl, &rows);
    }
}
