//! The export end to end: a tricky CSV is uploaded, run through the demo provider, and downloaded
//! as CSV, JSON and JSON Lines; every cell is checked against what was uploaded, the answers and
//! metadata are read back, and partial exports are marked.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const HEADER: [&str; 4] = ["id", "text", "amount", "note"];

/// The uploaded rows, and for each cell whether the formula guard must prefix it.
const ROWS: [[(&str, bool); 4]; 6] = [
    [
        ("1", false),
        ("Zoë 🙂 日本語", false),
        ("-12.5", false),
        ("plain", false),
    ],
    [
        ("2", false),
        ("She said \"hi\", then left", false),
        ("+1", false),
        ("=SUM(A1)", true),
    ],
    [
        ("3", false),
        ("multi\r\nline\nwith, commas; and \"quotes\"", false),
        ("-2", false),
        ("@x", true),
    ],
    [
        ("4", false),
        ("  padded  ", false),
        ("+3", false),
        ("-2+3", true),
    ],
    [
        ("5", false),
        ("\ttab first", true),
        ("0", false),
        ("+A1", true),
    ],
    [
        ("6", false),
        ("'quoted already", false),
        ("1e3", false),
        ("", false),
    ],
];

/// The answer fields; `note` clashes with a dataset column and exports as `note_result`.
const FIELDS: [&str; 5] = ["sentiment", "score", "tags", "flagged", "note"];
const FIELD_COLUMNS: [&str; 5] = ["sentiment", "score", "tags", "flagged", "note_result"];
const METADATA: [&str; 12] = [
    "_row",
    "_status",
    "_error",
    "_attempts",
    "_latency_ms",
    "_input_tokens",
    "_output_tokens",
    "_cost_usd",
    "_model",
    "_review",
    "_reviewed_by",
    "_reviewed_at",
];

/// Every cell quoted, quotes doubled: a CSV any reader takes back exactly.
fn upload_body() -> String {
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut body = line(HEADER.to_vec()) + "\r\n";
    for row in ROWS {
        body += &(line(row.iter().map(|(cell, _)| *cell).collect()) + "\r\n");
    }
    body
}

/// RFC 4180, read independently of the writer: quoted fields with doubled quotes and any
/// character inside, records ending in CRLF.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            c => field.push(c),
        }
    }
    assert!(!quoted, "the CSV ends inside a quoted field");
    assert!(
        field.is_empty() && record.is_empty(),
        "the CSV ends mid-record"
    );
    records
}

fn recipe(dataset_id: i64, concurrency: u32) -> Value {
    json!({
        "dataset_id": dataset_id,
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "text", "role": "include" },
            { "name": "amount", "role": "include" },
            { "name": "note", "role": "include" }
        ]},
        "prompt": { "system": "Classify.", "user": "{{ text }} {{ amount }} {{ note }}" },
        "schema": { "fields": [
            { "name": "sentiment", "type": "enum", "options": ["positive", "negative"] },
            { "name": "score", "type": "number" },
            { "name": "tags", "type": "string_list" },
            { "name": "flagged", "type": "boolean" },
            { "name": "note", "type": "string" }
        ]},
        "settings": { "provider": "demo", "model": "demo-synthetic", "concurrency": concurrency }
    })
}

/// A batch over the tricky upload; `concurrency` 1 keeps it slow enough to stop half way.
async fn start_batch(app: &TestApp, concurrency: u32) -> i64 {
    let (status, dataset) = app
        .upload_csv("?name=Zürich%20reviews&delimiter=comma", upload_body())
        .await;
    assert_eq!(status, 201, "{dataset}");
    let dataset = dataset["id"].as_i64().expect("dataset id");
    let (status, batch) = app
        .post_json("/api/batches", &recipe(dataset, concurrency))
        .await;
    assert_eq!(status, 201, "{batch}");
    batch["id"].as_i64().expect("batch id")
}

/// `GET` the export with `query`; the response, asserting 200.
async fn export(app: &TestApp, id: i64, query: &str) -> reqwest::Response {
    let response = app.get(&format!("/api/batches/{id}/export{query}")).await;
    assert_eq!(response.status().as_u16(), 200, "export{query}");
    response
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ASCII header")
}

fn guarded(cell: &str, guard: bool) -> String {
    if guard {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// The metadata and answer columns of one exported CSV row, checked for shape.
fn check_csv_answers(names: &[String], record: &[String], index: usize, status: &str) {
    let at = |name: &str| {
        let column = names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        record[column].as_str()
    };
    assert_eq!(at("_row"), (index + 1).to_string());
    assert_eq!(at("_status"), status);
    assert_eq!(at("_model"), "demo-synthetic");
    if status == "succeeded" {
        assert!(["positive", "negative"].contains(&at("sentiment")));
        at("score").parse::<f64>().expect("score is a number");
        assert!(["true", "false"].contains(&at("flagged")));
        assert_eq!(at("_error"), "");
        assert_eq!(at("_attempts"), "1");
        at("_latency_ms").parse::<i64>().expect("latency");
        assert!(at("_input_tokens").parse::<i64>().expect("tokens") > 0);
        at("_output_tokens").parse::<i64>().expect("tokens");
        let cost = at("_cost_usd");
        assert!(cost.is_empty() || cost.parse::<f64>().is_ok(), "{cost}");
    } else {
        assert_eq!(at("sentiment"), "");
        assert_eq!(at("score"), "");
    }
}

#[tokio::test]
async fn the_csv_export_has_every_cell_as_uploaded_with_formulas_guarded_and_the_answers_beside() {
    let app = spawn_app().await;
    let id = start_batch(&app, 4).await;
    app.wait_for_batch(id, "completed", Duration::from_secs(30))
        .await;

    let response = export(&app, id, "").await;
    assert_eq!(header(&response, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"z-rich-reviews-results.csv\"; \
         filename*=UTF-8''z%C3%BCrich-reviews-results.csv"
    );
    assert_eq!(header(&response, "x-rowbench-partial"), "false");
    assert_eq!(header(&response, "x-rowbench-rows-finished"), "6");
    let records = parse_csv(&response.text().await.expect("body"));

    let names = &records[0];
    let expected_names: Vec<&str> = HEADER
        .iter()
        .chain(FIELD_COLUMNS.iter())
        .chain(METADATA.iter())
        .copied()
        .collect();
    assert_eq!(names, &expected_names);
    assert_eq!(records.len(), 1 + ROWS.len());
    for (i, (record, row)) in records[1..].iter().zip(ROWS).enumerate() {
        assert_eq!(record.len(), names.len(), "row {i}");
        for (column, (cell, guard)) in row.iter().enumerate() {
            assert_eq!(
                record[column],
                guarded(cell, *guard),
                "row {i}, column {}",
                HEADER[column]
            );
        }
        check_csv_answers(names, record, i, "succeeded");
    }
}

#[tokio::test]
async fn switching_the_guard_off_leaves_every_cell_raw_and_metadata_can_be_left_out() {
    let app = spawn_app().await;
    let id = start_batch(&app, 4).await;
    app.wait_for_batch(id, "completed", Duration::from_secs(30))
        .await;

    let response = export(&app, id, "?format=csv&formula_guard=false&metadata=false").await;
    let records = parse_csv(&response.text().await.expect("body"));
    let expected_names: Vec<&str> = HEADER.iter().chain(FIELD_COLUMNS.iter()).copied().collect();
    assert_eq!(records[0], expected_names);
    for (record, row) in records[1..].iter().zip(ROWS) {
        for (column, (cell, _)) in row.iter().enumerate() {
            assert_eq!(record[column], *cell);
        }
    }
}

/// The dataset cells of an exported JSON row, which must be exactly as uploaded (JSON is never
/// guarded), and its answer and metadata values, which must be typed.
fn check_json_row(object: &Value, index: usize) {
    for (column, (cell, _)) in ROWS[index].iter().enumerate() {
        assert_eq!(object[HEADER[column]], *cell, "row {index}: {object}");
    }
    assert!(["positive", "negative"].contains(&object["sentiment"].as_str().expect("enum")));
    assert!(object["score"].is_number(), "{object}");
    assert!(object["tags"].as_array().is_some(), "{object}");
    assert!(object["flagged"].is_boolean(), "{object}");
    assert!(object["note_result"].is_string(), "{object}");
    assert_eq!(object["_row"], index + 1);
    assert_eq!(object["_status"], "succeeded");
    assert_eq!(object["_error"], Value::Null);
    assert_eq!(object["_attempts"], 1);
    assert!(object["_input_tokens"].as_i64().expect("tokens") > 0);
    assert_eq!(object["_model"], "demo-synthetic");
    let keys: Vec<&str> = object
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let expected: Vec<&str> = HEADER
        .iter()
        .chain(FIELD_COLUMNS.iter())
        .chain(METADATA.iter())
        .copied()
        .collect();
    assert_eq!(keys, expected, "columns in order");
}

#[tokio::test]
async fn the_json_and_json_lines_exports_carry_every_cell_raw_and_the_answers_typed() {
    let app = spawn_app().await;
    let id = start_batch(&app, 4).await;
    app.wait_for_batch(id, "completed", Duration::from_secs(30))
        .await;

    let response = export(&app, id, "?format=json").await;
    assert_eq!(header(&response, "content-type"), "application/json");
    assert!(header(&response, "content-disposition").contains("z-rich-reviews-results.json"));
    let array: Value = response.json().await.expect("one JSON document");
    let rows = array.as_array().expect("a plain array of rows");
    assert_eq!(rows.len(), ROWS.len());
    for (i, object) in rows.iter().enumerate() {
        check_json_row(object, i);
    }

    let response = export(&app, id, "?format=jsonl").await;
    assert_eq!(header(&response, "content-type"), "application/x-ndjson");
    let text = response.text().await.expect("body");
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), ROWS.len());
    for (i, line) in lines.iter().enumerate() {
        let object: Value = serde_json::from_str(line).expect("one object per line");
        check_json_row(&object, i);
        assert_eq!(object, rows[i], "JSON Lines and JSON agree");
    }
    assert_eq!(FIELDS.len(), FIELD_COLUMNS.len());
}

#[tokio::test]
async fn an_unfinished_batch_exports_every_row_marked_partial() {
    let app = spawn_app().await;
    let id = start_batch(&app, 1).await;
    let (status, cancelled) = app
        .post_json(&format!("/api/batches/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");

    let response = export(&app, id, "").await;
    assert_eq!(header(&response, "x-rowbench-partial"), "true");
    let finished: usize = header(&response, "x-rowbench-rows-finished")
        .parse()
        .expect("a count");
    assert!(finished < ROWS.len());
    assert!(
        header(&response, "content-disposition")
            .contains("filename=\"z-rich-reviews-partial.csv\"")
    );
    let records = parse_csv(&response.text().await.expect("body"));
    assert_eq!(
        records.len(),
        1 + ROWS.len(),
        "unfinished rows are exported too"
    );
    let status = records[0]
        .iter()
        .position(|n| n == "_status")
        .expect("status column");
    let cancelled = records[1..]
        .iter()
        .filter(|r| r[status] == "cancelled")
        .count();
    assert_eq!(cancelled, ROWS.len() - finished, "{records:?}");
    for (i, (record, row)) in records[1..].iter().zip(ROWS).enumerate() {
        for (column, (cell, guard)) in row.iter().enumerate() {
            assert_eq!(record[column], guarded(cell, *guard));
        }
        let state = record[status].clone();
        check_csv_answers(&records[0], record, i, &state);
    }

    let json = export(&app, id, "?format=json").await;
    assert_eq!(header(&json, "x-rowbench-partial"), "true");
    assert!(header(&json, "content-disposition").contains("z-rich-reviews-partial.json"));
    let rows: Value = json.json().await.expect("still a plain array");
    assert_eq!(rows.as_array().map(Vec::len), Some(ROWS.len()));
}

#[tokio::test]
async fn a_compressed_download_runs_to_its_end() {
    let app = spawn_app().await;
    let id = start_batch(&app, 4).await;
    app.wait_for_batch(id, "completed", Duration::from_secs(30))
        .await;
    for format in ["csv", "json", "jsonl"] {
        let response = app
            .client
            .get(app.url(&format!("/api/batches/{id}/export?format={format}")))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(header(&response, "content-encoding"), "gzip");
        let body = response.bytes().await.expect("the whole compressed body");
        assert!(body.starts_with(&[0x1f, 0x8b]), "a gzip stream");
    }
}

#[tokio::test]
async fn a_bad_format_is_refused_and_someone_elses_batch_is_not_found() {
    let app = spawn_app().await;
    let id = start_batch(&app, 4).await;

    let response = app
        .get(&format!("/api/batches/{id}/export?format=xlsx"))
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.expect("JSON error");
    assert_eq!(error["error"]["code"], "invalid_format", "{error}");

    let response = app
        .get(&format!("/api/batches/{id}/export?metadata=maybe"))
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.expect("JSON error");
    assert_eq!(error["error"]["code"], "invalid_parameter", "{error}");

    let db = app.database().await;
    let config = json!({});
    let theirs = rowbench_store::batches::create(
        &db,
        rowbench_store::batches::NewBatch {
            owner: "someone-else",
            name: "theirs",
            total_rows: 0,
            config: &config,
        },
    )
    .await
    .expect("insert");
    for other in [theirs, 999] {
        let response = app.get(&format!("/api/batches/{other}/export")).await;
        assert_eq!(response.status().as_u16(), 404);
        let error: Value = response.json().await.expect("JSON error");
        assert_eq!(error["error"]["code"], "not_found", "{error}");
    }
}
