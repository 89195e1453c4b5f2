//! Live progress end to end: the raw server-sent-event stream of a batch that runs through the
//! demo provider, read as a browser's `EventSource` would.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const ROWS: i64 = 6;

async fn running_batch(app: &TestApp) -> i64 {
    let mut csv = String::from("id,review\n");
    for i in 0..ROWS {
        csv += &format!("{i},\"Review {i}, with a comma\"\n");
    }
    let (status, dataset) = app.upload_csv("?name=reviews", csv).await;
    assert_eq!(status, 201, "{dataset}");
    let recipe = json!({
        "dataset_id": dataset["id"],
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "review", "role": "include" }
        ]},
        "prompt": { "system": "Classify.", "user": "{{ review }}" },
        "schema": { "fields": [
            { "name": "sentiment", "type": "enum", "options": ["positive", "negative"] }
        ]},
        // One row at a time, 150 ms each: long enough to see several events.
        "settings": { "provider": "demo", "model": "demo-synthetic", "concurrency": 1 }
    });
    let (status, batch) = app.post_json("/api/batches", &recipe).await;
    assert_eq!(status, 201, "{batch}");
    batch["id"].as_i64().expect("batch id")
}

/// One server-sent event: its name and its data.
#[derive(Debug)]
struct SseEvent {
    name: String,
    data: String,
}

/// Every event of the stream at `path`, read until the server closes it.
async fn read_stream(app: &TestApp, path: &str) -> Vec<SseEvent> {
    let response = app
        .client
        .get(app.url(path))
        .header("accept", "text/event-stream")
        // As browsers send it: the stream must come through the compression layer unharmed.
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    assert!(
        response.headers().get("content-encoding").is_none(),
        "events are never compressed (a compressor would hold them back)"
    );
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let read_all = async {
        while let Some(chunk) = body.next().await {
            text.push_str(std::str::from_utf8(&chunk.expect("chunk")).expect("UTF-8"));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_all)
        .await
        .expect("the stream ends once the batch is over");
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = String::from("message");
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_string();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.trim_start().to_string());
                }
            }
            (!data.is_empty()).then(|| SseEvent {
                name,
                data: data.join("\n"),
            })
        })
        .collect()
}

#[tokio::test]
async fn a_running_batch_streams_progress_until_a_last_event_says_it_completed() {
    let app = spawn_app().await;
    let id = running_batch(&app).await;
    let events = read_stream(&app, &format!("/api/batches/{id}/events")).await;

    assert!(!events.is_empty(), "at least one event");
    let progress: Vec<Value> = events
        .iter()
        .map(|event| {
            assert_eq!(event.name, "progress", "{event:?}");
            serde_json::from_str(&event.data).expect("JSON data")
        })
        .collect();
    let last = progress.last().expect("a last event");
    assert_eq!(last["status"], "completed", "{last}");
    assert_eq!(last["total_rows"], ROWS);
    assert_eq!(last["done_rows"], ROWS);
    assert_eq!(last["failed_rows"], 0);
    assert_eq!(
        last["counts"],
        json!({ "queued": 0, "running": 0, "succeeded": ROWS, "failed": 0, "cancelled": 0 })
    );
    assert!(last["input_tokens"].as_i64().expect("tokens") > 0, "{last}");
    assert!(
        last["output_tokens"].as_i64().expect("tokens") > 0,
        "{last}"
    );
    assert!(last["cost_usd"].is_number(), "{last}");
    assert!(
        last["rows_per_minute"].as_f64().expect("rate") > 0.0,
        "{last}"
    );
    assert_eq!(last["eta_seconds"], 0);
    assert_eq!(last["pause_reason"], Value::Null);

    // Each finished row is fed once, in some event, with its answer.
    let mut fed = Vec::new();
    for event in &progress {
        for row in event["finished_rows_since"].as_array().expect("feed") {
            assert_eq!(row["status"], "succeeded", "{row}");
            assert!(row["result"]["sentiment"].is_string(), "{row}");
            assert!(row["finished_at"].as_i64().is_some(), "{row}");
            assert!(row["latency_ms"].as_i64().is_some(), "{row}");
            fed.push(row["row_index"].as_i64().expect("index"));
        }
    }
    let unique: BTreeSet<i64> = fed.iter().copied().collect();
    assert_eq!(unique.len(), fed.len(), "no row is fed twice: {fed:?}");
    assert_eq!(unique, (0..ROWS).collect::<BTreeSet<_>>());
    let done: Vec<i64> = progress
        .iter()
        .map(|p| p["done_rows"].as_i64().expect("count"))
        .collect();
    assert!(done.is_sorted(), "progress only moves forward: {done:?}");
}

#[tokio::test]
async fn a_finished_batch_sends_one_last_event_and_closes() {
    let app = spawn_app().await;
    let id = running_batch(&app).await;
    let response = app
        .client
        .post(app.url(&format!("/api/batches/{id}/cancel")))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);

    let events = read_stream(&app, &format!("/api/batches/{id}/events")).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let only: Value = serde_json::from_str(&events[0].data).expect("JSON");
    assert_eq!(only["status"], "cancelled");
    assert_eq!(only["eta_seconds"], Value::Null);
    let counts = &only["counts"];
    let total: i64 = ["queued", "running", "succeeded", "failed", "cancelled"]
        .iter()
        .map(|k| counts[k].as_i64().expect("count"))
        .sum();
    assert_eq!(total, ROWS, "{only}");
    assert!(counts["cancelled"].as_i64().expect("count") > 0, "{only}");
}

#[tokio::test]
async fn the_events_of_an_unknown_batch_are_not_found() {
    let app = spawn_app().await;
    let response = app.get("/api/batches/4242/events").await;
    assert_eq!(response.status().as_u16(), 404);
    let error: Value = response.json().await.expect("JSON error");
    assert_eq!(error["error"]["code"], "not_found");
}
