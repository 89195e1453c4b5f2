//! [`Exporter`]: writes the header, then one row at a time, then the closing bytes.

use std::io::{BufWriter, Write};

use serde_json::value::RawValue;

use crate::answer::{append_cell, field_values};
use crate::guard::{FormulaCells, needs_guard};
use crate::{ExportError, ExportOptions, Format, Layout};

/// One row of a batch as the export sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    /// 0-based; `_row` shows it 1-based, like the row numbers of a spreadsheet's data.
    pub row_index: i64,
    /// The dataset row's cells in column order; missing cells export empty (CSV) or `null` (JSON).
    pub cells: &'a [String],
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: &'a str,
    /// The stored answer: a JSON object whose keys are the schema's fields.
    pub result: Option<&'a str>,
    pub error: Option<&'a str>,
    /// How many times the row was claimed.
    pub attempts: i64,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    /// A person's review: its answer is the one exported (none for a rejection), the model's
    /// stays in `result`.
    pub review: Option<RowReview<'a>>,
}

/// A row's review as the export sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowReview<'a> {
    /// `accept`, `fix` or `reject`.
    pub decision: &'a str,
    /// The answer vouched for (JSON text); `None` for a rejection.
    pub answer: Option<&'a str>,
    pub reviewed_by: &'a str,
    /// Milliseconds since the Unix epoch.
    pub reviewed_at_ms: i64,
}

impl RowReview<'_> {
    /// What `_review` says.
    fn label(&self) -> &'static str {
        match self.decision {
            "accept" => "accepted",
            "fix" => "fixed",
            "reject" => "rejected",
            _ => "",
        }
    }
}

/// `ms` since the Unix epoch as RFC 3339 in UTC, to the millisecond.
fn rfc3339(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(&format).unwrap_or_default()
}

impl<'a> Row<'a> {
    /// A row with its cells and status and nothing else known yet.
    pub fn new(row_index: i64, cells: &'a [String], status: &'a str) -> Self {
        Row {
            row_index,
            cells,
            status,
            result: None,
            error: None,
            attempts: 0,
            latency_ms: None,
            input_tokens: None,
            output_tokens: None,
            cost_usd: None,
            review: None,
        }
    }
}

enum Sink<W: Write> {
    /// Boxed: the CSV writer's state is large, and one exporter is made per download.
    Csv(Box<csv::Writer<W>>),
    /// JSON and JSON Lines; buffered because each value is a separate small write.
    Json(BufWriter<W>),
}

/// Writes an export to `W` as rows arrive: [`Exporter::new`] writes the header (CSV) or the
/// opening bracket (JSON), [`Exporter::write_row`] one row, [`Exporter::finish`] the rest.
/// Nothing is kept between rows, so memory stays the same however many rows go through.
pub struct Exporter<W: Write> {
    layout: Layout,
    options: ExportOptions,
    sink: Sink<W>,
    rows: u64,
    /// `"name":` of each column, escaped once (JSON formats).
    keys: Vec<Vec<u8>>,
    /// Reused per cell: a flattened answer value, and a guarded cell.
    text: String,
    guarded: Vec<u8>,
    /// Per output column, how many CSV cells (the header's included) start like a formula:
    /// those the guard changes when it is on, and a spreadsheet may run when it is off.
    formula_cells: Vec<u64>,
}

/// Writes `rows` to `out` in one go: header, every row, closing bytes.
pub fn export<'a, W: Write>(
    out: W,
    layout: Layout,
    options: ExportOptions,
    rows: impl IntoIterator<Item = Row<'a>>,
) -> Result<W, ExportError> {
    let mut exporter = Exporter::new(out, layout, options)?;
    for row in rows {
        exporter.write_row(&row)?;
    }
    exporter.finish()
}

impl<W: Write> Exporter<W> {
    pub fn new(out: W, layout: Layout, options: ExportOptions) -> Result<Self, ExportError> {
        let mut exporter = Exporter {
            sink: match options.format {
                Format::Csv => Sink::Csv(Box::new(
                    csv::WriterBuilder::new()
                        .terminator(csv::Terminator::CRLF)
                        .buffer_capacity(64 * 1024)
                        .from_writer(out),
                )),
                Format::Json | Format::Jsonl => {
                    Sink::Json(BufWriter::with_capacity(64 * 1024, out))
                }
            },
            keys: match options.format {
                Format::Csv => Vec::new(),
                Format::Json | Format::Jsonl => layout
                    .names()
                    .iter()
                    .map(|name| {
                        let mut key = serde_json::to_vec(name).unwrap_or_default();
                        key.push(b':');
                        key
                    })
                    .collect(),
            },
            formula_cells: vec![0; layout.names().len()],
            layout,
            options,
            rows: 0,
            text: String::new(),
            guarded: Vec::new(),
        };
        match &mut exporter.sink {
            Sink::Csv(csv) => {
                for (name, count) in exporter
                    .layout
                    .names()
                    .iter()
                    .zip(exporter.formula_cells.iter_mut())
                {
                    *count += u64::from(csv_field(
                        csv,
                        &mut exporter.guarded,
                        name.as_bytes(),
                        exporter.options.formula_guard,
                    )?);
                }
                csv.write_record(None::<&[u8]>)?;
            }
            Sink::Json(out) => {
                if exporter.options.format == Format::Json {
                    out.write_all(b"[")?;
                }
            }
        }
        Ok(exporter)
    }

    /// How many rows have been written.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// The CSV cells written so far that start like a formula (`=`, `+`, `-`, `@`, TAB, CR, LF;
    /// not plain numbers), by output column: with the guard on these got a leading `'`. Always
    /// empty for JSON and JSON Lines, which are never changed.
    pub fn formula_cells(&self) -> FormulaCells {
        let by_column = self
            .layout
            .names()
            .iter()
            .zip(&self.formula_cells)
            .filter(|(_, n)| **n > 0)
            .map(|(name, n)| (name.clone(), *n))
            .collect();
        FormulaCells { by_column }
    }

    pub fn write_row(&mut self, row: &Row<'_>) -> Result<(), ExportError> {
        let fields = self.layout.fields();
        // The reviewed answer where there is one; a rejected row has none.
        let mut answers = match row.review {
            Some(review) => values(review.answer, fields, row.row_index)?,
            None => values(row.result, fields, row.row_index)?,
        };
        if self.layout.model_answers() {
            answers.extend(values(row.result, fields, row.row_index)?);
        }
        match &mut self.sink {
            Sink::Csv(csv) => write_csv_row(
                csv,
                &self.layout,
                Scratch {
                    guard: self.options.formula_guard,
                    guarded: &mut self.guarded,
                    formula_cells: &mut self.formula_cells,
                },
                &mut self.text,
                row,
                &answers,
            )?,
            Sink::Json(out) => {
                if self.options.format == Format::Json {
                    out.write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
                }
                write_json_object(out, &self.layout, &self.keys, row, &answers)?;
                if self.options.format == Format::Jsonl {
                    out.write_all(b"\n")?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Writes the closing bytes, flushes, and hands back the writer.
    pub fn finish(self) -> Result<W, ExportError> {
        let mut out = match self.sink {
            Sink::Csv(csv) => csv.into_inner().map_err(|e| e.into_error())?,
            Sink::Json(mut out) => {
                if self.options.format == Format::Json {
                    out.write_all(if self.rows == 0 { b"]\n" } else { b"\n]\n" })?;
                }
                out.into_inner().map_err(|e| e.into_error())?
            }
        };
        out.flush()?;
        Ok(out)
    }
}

/// Each of `fields`' value in the answer `text` (none at all without one).
fn values<'t>(
    text: Option<&'t str>,
    fields: &[String],
    row: i64,
) -> Result<Vec<Option<&'t RawValue>>, ExportError> {
    match text {
        Some(text) => field_values(text, fields).map_err(|e| ExportError::Answer {
            row,
            reason: e.to_string(),
        }),
        None => Ok(vec![None; fields.len()]),
    }
}

/// Writes one CSV field, with the formula guard's `'` if `guard` asks for it; true if the
/// field starts like a formula (whether or not it was guarded).
fn csv_field<W: Write>(
    csv: &mut csv::Writer<W>,
    scratch: &mut Vec<u8>,
    text: &[u8],
    guard: bool,
) -> Result<bool, csv::Error> {
    let formula = needs_guard(text);
    if guard && formula {
        scratch.clear();
        scratch.push(b'\'');
        scratch.extend_from_slice(text);
        csv.write_field(&scratch[..])?;
    } else {
        csv.write_field(text)?;
    }
    Ok(formula)
}

/// How a CSV row's text fields are written: the guard switch, the reused buffer for a guarded
/// cell and the per-column formula counts.
struct Scratch<'a> {
    guard: bool,
    guarded: &'a mut Vec<u8>,
    formula_cells: &'a mut [u64],
}

impl Scratch<'_> {
    /// Writes `text` as output column `column`'s field and counts it if it starts like a formula.
    fn field<W: Write>(
        &mut self,
        csv: &mut csv::Writer<W>,
        column: usize,
        text: &[u8],
    ) -> Result<(), csv::Error> {
        if csv_field(csv, self.guarded, text, self.guard)?
            && let Some(count) = self.formula_cells.get_mut(column)
        {
            *count += 1;
        }
        Ok(())
    }
}

fn number_field<W: Write>(csv: &mut csv::Writer<W>, n: Option<i64>) -> Result<(), csv::Error> {
    match n {
        Some(n) => csv.write_field(itoa::Buffer::new().format(n)),
        None => csv.write_field(b""),
    }
}

fn write_csv_row<W: Write>(
    csv: &mut csv::Writer<W>,
    layout: &Layout,
    mut out: Scratch<'_>,
    text: &mut String,
    row: &Row<'_>,
    answers: &[Option<&RawValue>],
) -> Result<(), ExportError> {
    let columns = layout.column_count();
    for i in 0..columns {
        let cell = row.cells.get(i).map_or("", String::as_str);
        out.field(csv, i, cell.as_bytes())?;
    }
    for (i, value) in answers.iter().enumerate() {
        text.clear();
        if let Some(value) = value {
            append_cell(value, text).map_err(|e| ExportError::Answer {
                row: row.row_index,
                reason: e.to_string(),
            })?;
        }
        out.field(csv, columns + i, text.as_bytes())?;
    }
    if layout.metadata() {
        // The metadata columns' places, in `METADATA_COLUMNS` order after the answers.
        let first = columns + answers.len();
        number_field(csv, Some(row.row_index + 1))?;
        csv.write_field(row.status)?;
        out.field(csv, first + 2, row.error.unwrap_or("").as_bytes())?;
        number_field(csv, Some(row.attempts))?;
        number_field(csv, row.latency_ms)?;
        number_field(csv, row.input_tokens)?;
        number_field(csv, row.output_tokens)?;
        match row.cost_usd {
            // `{}` prints the shortest text that reads back as the same f64, never an exponent.
            Some(cost) => {
                text.clear();
                std::fmt::Write::write_fmt(text, format_args!("{cost}"))
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                csv.write_field(text.as_bytes())?;
            }
            None => csv.write_field(b"")?,
        }
        out.field(csv, first + 8, layout.model().as_bytes())?;
        match row.review {
            Some(review) => {
                csv.write_field(review.label())?;
                out.field(csv, first + 10, review.reviewed_by.as_bytes())?;
                csv.write_field(rfc3339(review.reviewed_at_ms))?;
            }
            None => {
                for _ in 0..3 {
                    csv.write_field(b"")?;
                }
            }
        }
    }
    csv.write_record(None::<&[u8]>)?;
    Ok(())
}

fn json_number<W: Write>(out: &mut W, n: Option<i64>) -> std::io::Result<()> {
    match n {
        Some(n) => out.write_all(itoa::Buffer::new().format(n).as_bytes()),
        None => out.write_all(b"null"),
    }
}

fn json_string<W: Write>(out: &mut W, text: Option<&str>) -> std::io::Result<()> {
    match text {
        Some(text) => serde_json::to_writer(out, text).map_err(std::io::Error::from),
        None => out.write_all(b"null"),
    }
}

/// One row as a JSON object: cells as strings, answer fields as the stored JSON values (typed:
/// numbers, booleans, lists and objects stay what they are), metadata typed too.
fn write_json_object<W: Write>(
    out: &mut W,
    layout: &Layout,
    keys: &[Vec<u8>],
    row: &Row<'_>,
    answers: &[Option<&RawValue>],
) -> std::io::Result<()> {
    let mut keys = keys.iter();
    let mut key = |out: &mut W, first: bool| -> std::io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        out.write_all(keys.next().map_or(&b"\"\":"[..], Vec::as_slice))
    };
    out.write_all(b"{")?;
    let mut first = true;
    for i in 0..layout.column_count() {
        key(out, first)?;
        first = false;
        json_string(out, row.cells.get(i).map(String::as_str))?;
    }
    for value in answers {
        key(out, first)?;
        first = false;
        out.write_all(value.map_or("null", |v| v.get()).as_bytes())?;
    }
    if layout.metadata() {
        key(out, first)?;
        json_number(out, Some(row.row_index + 1))?;
        key(out, false)?;
        json_string(out, Some(row.status))?;
        key(out, false)?;
        json_string(out, row.error)?;
        key(out, false)?;
        json_number(out, Some(row.attempts))?;
        key(out, false)?;
        json_number(out, row.latency_ms)?;
        key(out, false)?;
        json_number(out, row.input_tokens)?;
        key(out, false)?;
        json_number(out, row.output_tokens)?;
        key(out, false)?;
        match row.cost_usd {
            Some(cost) if cost.is_finite() => {
                serde_json::to_writer(&mut *out, &cost).map_err(std::io::Error::from)?
            }
            _ => out.write_all(b"null")?,
        }
        key(out, false)?;
        json_string(out, Some(layout.model()))?;
        key(out, false)?;
        json_string(out, row.review.map(|r| r.label()))?;
        key(out, false)?;
        json_string(out, row.review.map(|r| r.reviewed_by))?;
        key(out, false)?;
        json_string(
            out,
            row.review.map(|r| rfc3339(r.reviewed_at_ms)).as_deref(),
        )?;
    }
    out.write_all(b"}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::METADATA_COLUMNS;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn run(format: Format, guard: bool, metadata: bool, rows: &[Row<'_>]) -> String {
        let layout = Layout::new(
            strings(&["id", "text"]),
            strings(&["label", "score", "tags", "ok"]),
            "demo-synthetic",
            metadata,
        );
        let options = ExportOptions {
            format,
            formula_guard: guard,
        };
        let bytes = export(Vec::new(), layout, options, rows.iter().copied()).expect("export");
        String::from_utf8(bytes).expect("UTF-8")
    }

    const ANSWER: &str = r#"{"label":"=bad()","score":-12.50,"tags":["a","b"],"ok":true}"#;

    fn succeeded<'a>(cells: &'a [String]) -> Row<'a> {
        Row {
            result: Some(ANSWER),
            attempts: 1,
            latency_ms: Some(150),
            input_tokens: Some(42),
            output_tokens: Some(7),
            cost_usd: Some(0.000125),
            ..Row::new(0, cells, "succeeded")
        }
    }

    #[test]
    fn a_csv_row_has_cells_flattened_answers_and_metadata() {
        let cells = strings(&["1", "@home, \"quoted\"\r\nline"]);
        let csv = run(Format::Csv, true, true, &[succeeded(&cells)]);
        let mut lines = csv.splitn(2, "\r\n");
        let header = lines.next().expect("header");
        assert_eq!(
            header,
            format!("id,text,label,score,tags,ok,{}", METADATA_COLUMNS.join(","))
        );
        assert_eq!(
            lines.next().expect("row"),
            "1,\"'@home, \"\"quoted\"\"\r\nline\",'=bad(),-12.50,a; b,true,\
             1,succeeded,,1,150,42,7,0.000125,demo-synthetic,,,\r\n"
        );
    }

    #[test]
    fn a_reviewed_row_exports_the_reviewed_answer_and_says_who_and_when() {
        let cells = strings(&["1", "text"]);
        let fix = r#"{"label":"fixed","score":3,"tags":[],"ok":false}"#;
        let review = |decision, answer| RowReview {
            decision,
            answer,
            reviewed_by: "=ann@example.com",
            reviewed_at_ms: 1_796_300_000_123,
        };
        let fixed = Row {
            review: Some(review("fix", Some(fix))),
            ..succeeded(&cells)
        };
        let rejected = Row {
            review: Some(review("reject", None)),
            ..succeeded(&cells)
        };
        let layout = Layout::new(
            strings(&["id", "text"]),
            strings(&["label", "score", "tags", "ok"]),
            "m",
            true,
        )
        .with_model_answers(true);
        let options = ExportOptions {
            format: Format::Csv,
            formula_guard: true,
        };
        let bytes = export(Vec::new(), layout.clone(), options, [fixed, rejected]).expect("export");
        let csv = String::from_utf8(bytes).expect("UTF-8");
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            format!(
                "id,text,label,score,tags,ok,label_model,score_model,tags_model,ok_model,{}",
                METADATA_COLUMNS.join(",")
            )
        );
        assert_eq!(
            lines[1],
            "1,text,fixed,3,,false,'=bad(),-12.50,a; b,true,1,succeeded,,1,150,42,7,0.000125,m,\
             fixed,'=ann@example.com,2026-12-03T12:13:20.123Z"
        );
        assert_eq!(
            lines[2],
            "1,text,,,,,'=bad(),-12.50,a; b,true,1,succeeded,,1,150,42,7,0.000125,m,\
             rejected,'=ann@example.com,2026-12-03T12:13:20.123Z"
        );
        let options = ExportOptions {
            format: Format::Jsonl,
            formula_guard: true,
        };
        let bytes = export(Vec::new(), layout, options, [fixed]).expect("export");
        let line: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(line["label"], "fixed");
        assert_eq!(line["label_model"], "=bad()");
        assert_eq!(line["_review"], "fixed");
        assert_eq!(line["_reviewed_by"], "=ann@example.com");
        assert_eq!(line["_reviewed_at"], "2026-12-03T12:13:20.123Z");
    }

    #[test]
    fn the_guard_can_be_switched_off() {
        let cells = strings(&["=1+1", "-12.5"]);
        let csv = run(Format::Csv, false, false, &[succeeded(&cells)]);
        assert!(
            csv.ends_with("\r\n=1+1,-12.5,=bad(),-12.50,a; b,true\r\n"),
            "{csv}"
        );
        let guarded = run(Format::Csv, true, false, &[succeeded(&cells)]);
        assert!(
            guarded.ends_with("\r\n'=1+1,-12.5,'=bad(),-12.50,a; b,true\r\n"),
            "{guarded}"
        );
    }

    #[test]
    fn json_keeps_answer_values_typed_and_strings_unguarded() {
        let cells = strings(&["=1+1", "Zoë"]);
        let failed = Row {
            error: Some("timed out"),
            attempts: 3,
            ..Row::new(1, &cells, "failed")
        };
        let json = run(Format::Json, true, true, &[succeeded(&cells), failed]);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("one JSON document");
        let rows = parsed.as_array().expect("array");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id"], "=1+1");
        assert_eq!(rows[0]["label"], "=bad()");
        assert_eq!(rows[0]["score"], -12.5);
        assert!(
            json.contains("\"score\":-12.50"),
            "numbers as written: {json}"
        );
        assert_eq!(rows[0]["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(rows[0]["ok"], true);
        assert_eq!(rows[0]["_row"], 1);
        assert_eq!(rows[0]["_cost_usd"], 0.000125);
        assert_eq!(rows[0]["_model"], "demo-synthetic");
        assert_eq!(rows[1]["label"], serde_json::Value::Null);
        assert_eq!(rows[1]["_error"], "timed out");
        assert_eq!(rows[1]["_status"], "failed");
        assert_eq!(rows[1]["_latency_ms"], serde_json::Value::Null);
        let keys: Vec<&String> = rows[0].as_object().expect("object").keys().collect();
        assert_eq!(keys[..6], ["id", "text", "label", "score", "tags", "ok"]);
    }

    #[test]
    fn json_lines_is_one_object_per_line() {
        let cells = strings(&["1", "multi\nline"]);
        let jsonl = run(
            Format::Jsonl,
            true,
            false,
            &[succeeded(&cells), succeeded(&cells)],
        );
        let lines: Vec<&str> = jsonl.lines().collect();
        assert_eq!(lines.len(), 2);
        for line in lines {
            let row: serde_json::Value = serde_json::from_str(line).expect("JSON object");
            assert_eq!(row["text"], "multi\nline");
        }
    }

    #[test]
    fn an_empty_export_is_a_header_or_an_empty_array() {
        assert_eq!(run(Format::Json, true, false, &[]), "[]\n");
        assert_eq!(run(Format::Jsonl, true, false, &[]), "");
        assert_eq!(
            run(Format::Csv, true, false, &[]),
            "id,text,label,score,tags,ok\r\n"
        );
    }

    #[test]
    fn missing_cells_export_empty_and_null() {
        let none: Vec<String> = Vec::new();
        let csv = run(Format::Csv, true, false, &[Row::new(0, &none, "queued")]);
        assert!(csv.ends_with("\r\n,,,,,\r\n"), "{csv:?}");
        let json = run(Format::Jsonl, true, false, &[Row::new(0, &none, "queued")]);
        assert_eq!(
            json,
            "{\"id\":null,\"text\":null,\"label\":null,\"score\":null,\"tags\":null,\"ok\":null}\n"
        );
    }

    #[test]
    fn a_corrupt_answer_stops_the_export_naming_the_row() {
        let cells = strings(&["1", "x"]);
        let bad = Row {
            result: Some("not json"),
            ..Row::new(41, &cells, "succeeded")
        };
        let layout = Layout::new(strings(&["id", "text"]), strings(&["a"]), "m", false);
        let err = export(Vec::new(), layout, ExportOptions::default(), [bad])
            .expect_err("unreadable answer");
        assert!(matches!(err, ExportError::Answer { row: 41, .. }), "{err}");
    }
}
