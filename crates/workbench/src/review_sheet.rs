//! The review sheet: a batch's answers as a spreadsheet to review outside Rowbench, and back.
//! The sheet has the row number, the key columns, the answers and the review so far, then the
//! columns the reviewer fills in: `verdict` (accept or reject), `reason`, and `fix_<field>` per
//! answer field. Uploaded again, every line is checked as a review in the grid is (the same
//! rules, in [`crate::reviews`]), problems name the line and the column, and nothing is applied
//! from a sheet with problems unless the reviewer asks for the valid lines alone.

use serde::{Deserialize, Serialize};

/// One thing wrong in an uploaded sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetProblem {
    /// The sheet's line (1 is the header).
    pub line: u64,
    /// The column's header, as in the sheet.
    pub column: String,
    pub message: String,
}

/// What an uploaded sheet did, or would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetOutcome {
    /// Whether the reviews were stored (false for a check, or a sheet with problems).
    pub applied: bool,
    pub fixed: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Lines with nothing filled in.
    pub unchanged: u64,
    pub problems: Vec<SheetProblem>,
    /// For people: "37 fixes, 12 rows accepted, 1 rejected".
    pub summary: String,
}

/// What to do with an uploaded sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetApply {
    /// Check it and say what it would do.
    Check,
    /// Apply it if it has no problem at all.
    All,
    /// Apply its valid lines, leaving the others.
    Valid,
}

impl SheetApply {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "check" => Some(SheetApply::Check),
            "all" => Some(SheetApply::All),
            "valid" => Some(SheetApply::Valid),
            _ => None,
        }
    }
}

/// The most lines an uploaded sheet may have.
pub const MAX_SHEET_LINES: usize = 200_000;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "37 fixes, 12 rows accepted, 1 rejected"; "nothing to apply" when the sheet changes nothing.
pub fn summary(fixed: u64, accepted: u64, rejected: u64) -> String {
    let mut parts = Vec::new();
    if fixed > 0 {
        parts.push(plural(fixed, "fix", "fixes"));
    }
    if accepted > 0 {
        parts.push(format!("{} accepted", plural(accepted, "row", "rows")));
    }
    if rejected > 0 {
        parts.push(if parts.is_empty() {
            format!("{} rejected", plural(rejected, "row", "rows"))
        } else {
            format!("{rejected} rejected")
        });
    }
    if parts.is_empty() {
        "nothing to apply".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(feature = "server")]
pub use server::read_fix;

#[cfg(feature = "server")]
mod server {
    use std::collections::HashMap;

    use rowbench_schema::{AnswerValidator, FieldType, SchemaField};
    use rowbench_store::batch_view::{QueueFilter, queue_page};
    use serde_json::Value;

    use super::*;
    use crate::actor::Actor;
    use crate::batch_page::{answer_text, review_label};
    use crate::error::{Error, Result};
    use crate::reviews::{Decision, ReviewInput, Verdict, judge};
    use crate::workbench::Workbench;

    /// Rows read at a time for the download.
    const PAGE: u32 = 1_000;

    /// A `fix_<field>` cell as the value it sets, read as the field's kind; the message says
    /// what is wrong with it otherwise.
    pub fn read_fix(kind: &FieldType, cell: &str) -> std::result::Result<Value, String> {
        let text = cell.trim();
        match kind {
            FieldType::Number => text
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Value::from)
                .ok_or_else(|| format!("\"{text}\" is not a number (write it like 3.5)")),
            FieldType::Integer => text
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("\"{text}\" is not a whole number")),
            FieldType::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "0" => Ok(Value::Bool(false)),
                _ => Err(format!("\"{text}\" is not yes or no (write true or false)")),
            },
            FieldType::StringList => Ok(Value::Array(
                text.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            )),
            FieldType::String | FieldType::Enum { .. } => Ok(Value::String(text.to_string())),
        }
    }

    /// A cell a spreadsheet would run as a formula, made text.
    fn guarded(cell: &str) -> String {
        if rowbench_export::guard::needs_guard(cell.as_bytes()) {
            format!("'{cell}")
        } else {
            cell.to_string()
        }
    }

    /// The sheet's text: decoded from its encoding (a spreadsheet may save windows-1252), its
    /// delimiter found.
    fn decode(bytes: &[u8]) -> Result<(String, u8)> {
        let sniffed = rowbench_ingest::sniff(bytes, rowbench_ingest::SampleEnd::WholeInput)
            .map_err(|e| {
                Error::invalid("invalid_sheet", format!("The sheet cannot be read: {e}"))
            })?;
        let encoding = encoding_rs::Encoding::for_label(sniffed.encoding.as_bytes())
            .unwrap_or(encoding_rs::UTF_8);
        let (text, _, _) = encoding.decode(bytes);
        Ok((text.into_owned(), sniffed.delimiter.byte()))
    }

    /// One line of the sheet, read.
    struct SheetLine {
        line: u64,
        row: i64,
        input: Option<ReviewInput>,
    }

    impl Workbench {
        /// Batch `id`'s name and review sheet as CSV, every finished row in row order.
        pub async fn review_sheet(&self, actor: &Actor, id: i64) -> Result<(String, Vec<u8>)> {
            let batch = self.stored_batch(actor, id).await?;
            let config = &batch.config;
            let fields = &config.recipe.schema.fields;
            let keys: Vec<usize> = config
                .recipe
                .mapping
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_key)
                .map(|(i, _)| i)
                .collect();
            // CRLF, as RFC 4180 and the export write it.
            let mut out = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            let mut header = vec!["row".to_string()];
            header.extend(keys.iter().filter_map(|&i| config.columns.get(i).cloned()));
            header.extend(fields.iter().map(|f| f.name.clone()));
            header.extend(["_review".to_string(), "verdict".into(), "reason".into()]);
            header.extend(fields.iter().map(|f| format!("fix_{}", f.name)));
            let write = |out: &mut csv::Writer<Vec<u8>>, record: &[String]| {
                out.write_record(record)
                    .map_err(|e| Error::internal("writing a review sheet", &e))
            };
            write(&mut out, &header)?;
            let mut after = None;
            loop {
                let filter = QueueFilter {
                    after,
                    limit: PAGE,
                    ..QueueFilter::default()
                };
                let rows = queue_page(&self.db, actor.owner(), id, filter)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("Batch {id}")))?;
                let Some(last) = rows.last() else { break };
                after = Some(last.row_index);
                let full = rows.len() == PAGE as usize;
                for row in rows {
                    if !matches!(row.status.as_str(), "succeeded" | "failed") {
                        continue;
                    }
                    let vouched = row
                        .review
                        .as_ref()
                        .and_then(|r| r.answer.as_ref())
                        .or(row.result.as_ref());
                    let mut record = vec![(row.row_index + 1).to_string()];
                    record.extend(
                        keys.iter()
                            .map(|&i| guarded(row.cells.get(i).map_or("", String::as_str))),
                    );
                    record.extend(fields.iter().map(|f| {
                        guarded(
                            &vouched
                                .and_then(|v| v.get(&f.name))
                                .map(answer_text)
                                .unwrap_or_default(),
                        )
                    }));
                    record.push(
                        row.review
                            .as_ref()
                            .map(|r| review_label(&r.decision).to_string())
                            .unwrap_or_default(),
                    );
                    record.extend(std::iter::repeat_n(String::new(), 2 + fields.len()));
                    write(&mut out, &record)?;
                }
                if !full {
                    break;
                }
            }
            let bytes = out
                .into_inner()
                .map_err(|e| Error::internal("writing a review sheet", &e))?;
            Ok((batch.summary.name, bytes))
        }

        /// Reads an uploaded review sheet for batch `id`, checks every line as a review, and
        /// applies it as `apply` says.
        pub async fn apply_review_sheet(
            &self,
            actor: &Actor,
            id: i64,
            bytes: &[u8],
            apply: SheetApply,
        ) -> Result<SheetOutcome> {
            actor.must_edit("review answers")?;
            let batch = self.stored_batch(actor, id).await?;
            let fields = &batch.config.recipe.schema.fields;
            let validator = AnswerValidator::new(&batch.config.json_schema)
                .map_err(|e| Error::internal("compiling the batch's schema", &e))?;
            let (text, delimiter) = decode(bytes)?;
            let mut problems = Vec::new();
            let lines = read_lines(&text, delimiter, fields, &mut problems)?;
            let total_rows = batch.summary.total_rows;
            let mut seen: HashMap<i64, u64> = HashMap::new();
            let mut verdicts: Vec<(i64, i64, Verdict)> = Vec::new();
            let mut unchanged = 0u64;
            for SheetLine { line, row, input } in lines {
                let problem = |column: &str, message: String| SheetProblem {
                    line,
                    column: column.to_string(),
                    message,
                };
                if !(0..total_rows).contains(&row) {
                    problems.push(problem(
                        "row",
                        format!(
                            "row {} is not in this batch (it has rows 1 to {total_rows})",
                            row + 1
                        ),
                    ));
                    continue;
                }
                if let Some(first) = seen.insert(row, line) {
                    problems.push(problem(
                        "row",
                        format!("row {} is also on line {first}; keep one of them", row + 1),
                    ));
                    continue;
                }
                let Some(mut input) = input else {
                    unchanged += 1;
                    continue;
                };
                let detail =
                    match rowbench_store::queue::row_detail(&self.db, actor.owner(), id, row)
                        .await?
                    {
                        Some(detail) => detail,
                        None => {
                            problems.push(problem(
                                "row",
                                format!("row {} is not in this batch", row + 1),
                            ));
                            continue;
                        }
                    };
                if input.decision == Decision::Fix {
                    // The fixes replace their fields in the answer the row has now.
                    let base = self
                        .review_of(id, row, detail.attempt)
                        .await?
                        .and_then(|r| r.answer)
                        .or_else(|| detail.result.clone());
                    let mut answer = match base {
                        Some(Value::Object(map)) => map,
                        _ => serde_json::Map::new(),
                    };
                    if let Some(Value::Object(fixes)) = input.answer.take() {
                        answer.extend(fixes);
                    }
                    input.answer = Some(Value::Object(answer));
                }
                match judge(row, &detail, &validator, input) {
                    Ok(verdict) => verdicts.push((row, detail.attempt, verdict)),
                    Err(error) => {
                        let field = match &error {
                            Error::Invalid { details, .. } | Error::Conflict { details, .. } => {
                                details
                                    .get("field")
                                    .and_then(Value::as_str)
                                    .map(str::to_string)
                            }
                            _ => None,
                        };
                        let column = field.as_deref().map_or("verdict".to_string(), |f| match f {
                            "reason" => "reason".to_string(),
                            "answer" => "verdict".to_string(),
                            field => format!("fix_{field}"),
                        });
                        problems.push(problem(&column, error.to_string()));
                    }
                }
            }
            problems.sort_by_key(|p| p.line);
            let count =
                |d: Decision| verdicts.iter().filter(|(_, _, v)| v.decision == d).count() as u64;
            let (fixed, accepted, rejected) = (
                count(Decision::Fix),
                count(Decision::Accept),
                count(Decision::Reject),
            );
            let applied = match apply {
                SheetApply::Check => false,
                SheetApply::All => problems.is_empty(),
                SheetApply::Valid => true,
            };
            if applied {
                for (row, attempt, verdict) in &verdicts {
                    self.keep_review(actor, id, *row, *attempt, verdict).await?;
                }
            }
            let outcome = SheetOutcome {
                applied,
                fixed,
                accepted,
                rejected,
                unchanged,
                summary: summary(fixed, accepted, rejected),
                problems,
            };
            if apply == SheetApply::All && !outcome.applied {
                let first = &outcome.problems[0];
                return Err(Error::invalid(
                    "invalid_sheet",
                    format!(
                        "The sheet has {}; nothing was applied. Line {}, column {}: {}",
                        plural(outcome.problems.len() as u64, "problem", "problems"),
                        first.line,
                        first.column,
                        first.message
                    ),
                )
                .with_details(serde_json::to_value(&outcome).unwrap_or(Value::Null)));
            }
            Ok(outcome)
        }
    }

    /// The sheet's lines as reviews; a problem with the header stops the reading, one with a
    /// line is noted and the line left out.
    fn read_lines(
        text: &str,
        delimiter: u8,
        fields: &[SchemaField],
        problems: &mut Vec<SheetProblem>,
    ) -> Result<Vec<SheetLine>> {
        let text = text.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(text.as_bytes());
        // Lines are counted from the records' byte offsets: the reader's own line count is off
        // by one per line on CRLF files (what spreadsheets save).
        let (mut counted_to, mut counted_lines) = (0usize, 1u64);
        let mut line_at = |byte: usize| {
            // A record's position is where the reader started it, before any blank lines.
            let bytes = text.as_bytes();
            let mut byte = byte.min(text.len());
            while byte < bytes.len() && matches!(bytes[byte], b'\r' | b'\n') {
                byte += 1;
            }
            if byte > counted_to {
                counted_lines += text.as_bytes()[counted_to..byte]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u64;
                counted_to = byte;
            }
            counted_lines
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| Error::invalid("invalid_sheet", format!("Line 1 cannot be read: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let at = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let Some(row_at) = at("row") else {
            return Err(Error::invalid(
                "invalid_sheet",
                "Line 1 has no \"row\" column: the sheet needs the row numbers it was downloaded with.",
            )
            .with_details(serde_json::json!({ "line": 1, "column": "row" })));
        };
        for name in &header {
            if let Some(field) = name.strip_prefix("fix_")
                && !fields.iter().any(|f| f.name == field)
            {
                return Err(Error::invalid(
                    "invalid_sheet",
                    format!("Line 1, column {name}: the batch has no answer field \"{field}\"."),
                )
                .with_details(serde_json::json!({ "line": 1, "column": name })));
            }
        }
        let (verdict_at, reason_at) = (at("verdict"), at("reason"));
        let fix_at: Vec<(usize, &SchemaField)> = fields
            .iter()
            .filter_map(|f| at(&format!("fix_{}", f.name)).map(|i| (i, f)))
            .collect();
        let mut lines = Vec::new();
        for record in reader.records() {
            if lines.len() >= MAX_SHEET_LINES {
                return Err(Error::invalid(
                    "invalid_sheet",
                    format!("A review sheet may have at most {MAX_SHEET_LINES} lines."),
                ));
            }
            let record = record.map_err(|e| {
                Error::invalid("invalid_sheet", format!("The sheet cannot be read: {e}"))
            })?;
            let line = record.position().map_or(0, |p| line_at(p.byte() as usize));
            let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let row_text = cell(Some(row_at));
            let Some(row) = row_text.parse::<i64>().ok().filter(|r| *r >= 1) else {
                problems.push(SheetProblem {
                    line,
                    column: header[row_at].clone(),
                    message: format!("\"{row_text}\" is not a row number"),
                });
                continue;
            };
            let mut fixes = serde_json::Map::new();
            let mut bad = false;
            for (i, field) in &fix_at {
                let text = cell(Some(*i));
                if text.is_empty() {
                    continue;
                }
                match read_fix(&field.kind, text) {
                    Ok(value) => {
                        fixes.insert(field.name.clone(), value);
                    }
                    Err(message) => {
                        bad = true;
                        problems.push(SheetProblem {
                            line,
                            column: header[*i].clone(),
                            message,
                        });
                    }
                }
            }
            let verdict = cell(verdict_at).to_ascii_lowercase();
            let reason = Some(cell(reason_at).to_string()).filter(|r| !r.is_empty());
            let decision = match (verdict.as_str(), fixes.is_empty()) {
                ("" | "accept" | "accepted" | "fix" | "fixed", false) => Some(Decision::Fix),
                ("reject" | "rejected", false) => {
                    bad = true;
                    problems.push(SheetProblem {
                        line,
                        column: "verdict".into(),
                        message: "a row cannot be both fixed and rejected; clear the verdict or the fixes".into(),
                    });
                    None
                }
                ("", true) => None,
                ("accept" | "accepted", true) => Some(Decision::Accept),
                ("reject" | "rejected", true) => Some(Decision::Reject),
                (other, _) => {
                    bad = true;
                    problems.push(SheetProblem {
                        line,
                        column: "verdict".into(),
                        message: format!("\"{other}\" is not a verdict: write accept or reject, or leave it empty"),
                    });
                    None
                }
            };
            if bad {
                continue;
            }
            lines.push(SheetLine {
                line,
                row: row - 1,
                input: decision.map(|decision| ReviewInput {
                    decision,
                    answer: (decision == Decision::Fix).then_some(Value::Object(fixes)),
                    reason,
                }),
            });
        }
        Ok(lines)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn problems_name_the_line_the_spreadsheet_shows_with_either_line_ending() {
            let fields = [SchemaField::new("score", FieldType::Integer)];
            for end in ["\n", "\r\n"] {
                let text = ["row,fix_score", "1,2", "2,x", "", "4,y"].join(end);
                let mut problems = Vec::new();
                let lines = read_lines(&text, b',', &fields, &mut problems).expect("read");
                assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [2]);
                assert_eq!(
                    problems
                        .iter()
                        .map(|p| (p.line, p.column.as_str()))
                        .collect::<Vec<_>>(),
                    [(3, "fix_score"), (5, "fix_score")],
                    "{end:?}"
                );
            }
        }

        #[test]
        fn a_fix_cell_is_read_as_its_fields_kind_or_says_why_not() {
            assert_eq!(read_fix(&FieldType::Integer, " 7 "), Ok(Value::from(7)));
            assert!(read_fix(&FieldType::Integer, "7.5").is_err());
            assert_eq!(read_fix(&FieldType::Number, "2.5"), Ok(Value::from(2.5)));
            assert_eq!(
                read_fix(&FieldType::Number, "abc"),
                Err("\"abc\" is not a number (write it like 3.5)".to_string())
            );
            assert_eq!(read_fix(&FieldType::Boolean, "No"), Ok(Value::Bool(false)));
            assert!(read_fix(&FieldType::Boolean, "maybe").is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn the_summary_says_what_the_sheet_did_in_words() {
        assert_eq!(summary(37, 12, 0), "37 fixes, 12 rows accepted");
        assert_eq!(summary(1, 1, 1), "1 fix, 1 row accepted, 1 rejected");
        assert_eq!(summary(0, 0, 2), "2 rows rejected");
        assert_eq!(summary(0, 0, 0), "nothing to apply");
    }
}
