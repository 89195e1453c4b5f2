//! Trials end to end through the JSON API: a batch over the first rows of a dataset goes on over
//! the rest in the same batch, its answers kept, and a retried row keeps its earlier answer.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// How long a small demo batch may take.
const WITHIN: Duration = Duration::from_secs(30);

/// Uploads `rows` rows of `id,review` and starts a demo batch over the first `first_rows`.
async fn trial(app: &TestApp, rows: usize, first_rows: u64) -> i64 {
    let csv: String = std::iter::once("id,review\n".to_string())
        .chain((0..rows).map(|i| format!("{i},review number {i}\n")))
        .collect();
    let (status, dataset) = app.upload_csv("?name=reviews", csv).await;
    assert_eq!(status, 201, "{dataset}");
    let recipe = json!({
        "dataset_id": dataset["id"],
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "review", "role": "include" }
        ]},
        "prompt": { "system": "Classify the review.", "user": "Review: {{ review }}" },
        "schema": { "fields": [
            { "name": "sentiment", "type": "enum", "options": ["positive", "negative"], "required": true }
        ]},
        "settings": { "provider": "demo", "model": "demo-synthetic", "first_rows": first_rows }
    });
    let (status, batch) = app.post_json("/api/batches", &recipe).await;
    assert_eq!(status, 201, "{batch}");
    assert_eq!(batch["total_rows"], first_rows);
    batch["id"].as_i64().expect("batch id")
}

async fn rows(app: &TestApp, id: i64) -> Vec<Value> {
    let page = app.get_json(&format!("/api/batches/{id}/rows")).await;
    page["rows"].as_array().expect("rows").clone()
}

#[tokio::test]
async fn a_finished_trial_runs_its_remaining_rows_in_the_same_batch_keeping_its_answers() {
    let app = spawn_app().await;
    let id = trial(&app, 5, 2).await;
    app.wait_for_batch(id, "completed", WITHIN).await;
    let tried = rows(&app, id).await;
    assert_eq!(tried.len(), 2);

    let (status, grown) = app
        .post_json(&format!("/api/batches/{id}/run-remaining"), &json!({}))
        .await;
    assert_eq!(status, 200, "{grown}");
    assert_eq!(grown["id"], id);
    assert_eq!(grown["total_rows"], 5);
    assert_eq!(grown["status"], "running");
    assert_eq!(grown["settings"]["first_rows"], Value::Null);

    let done = app.wait_for_batch(id, "completed", WITHIN).await;
    assert_eq!(done["counts"]["succeeded"], 5, "{done}");
    assert_eq!(done["done_rows"], 5);
    let all = rows(&app, id).await;
    assert_eq!(
        all.iter()
            .map(|r| r["row_index"].clone())
            .collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(all[..2], tried[..], "the trial's answers are untouched");
    let list = app.get_json("/api/batches").await;
    assert_eq!(list["batches"].as_array().expect("list").len(), 1);

    let (status, again) = app
        .post_json(&format!("/api/batches/{id}/run-remaining"), &json!({}))
        .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "not_applicable");
    assert!(
        again["error"]["message"]
            .as_str()
            .expect("message")
            .contains("already covers every row"),
        "{again}"
    );
    assert_eq!(rows(&app, id).await.len(), 5, "no row is added twice");
}

#[tokio::test]
async fn a_cancelled_trial_cannot_run_its_remaining_rows() {
    let app = spawn_app().await;
    // 150 ms a row, one at a time: still running when it is cancelled.
    let id = trial(&app, 60, 50).await;
    let (status, cancelled) = app
        .post_json(&format!("/api/batches/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    let (status, refused) = app
        .post_json(&format!("/api/batches/{id}/run-remaining"), &json!({}))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["details"]["status"], "cancelled");
    assert!(
        refused["error"]["message"]
            .as_str()
            .expect("message")
            .contains("was cancelled"),
        "{refused}"
    );
    let after = app.get_json(&format!("/api/batches/{id}")).await;
    assert_eq!(after["total_rows"], 50);
    let (status, _) = app
        .post_json("/api/batches/999/run-remaining", &json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_retried_row_keeps_its_earlier_answer_and_shows_the_new_one() {
    let app = spawn_app().await;
    let id = trial(&app, 3, 3).await;
    app.wait_for_batch(id, "completed", WITHIN).await;
    let before = app.get_json(&format!("/api/batches/{id}/rows/1")).await;
    assert_eq!(before["earlier"], json!([]));

    let (status, retried) = app
        .post_json(&format!("/api/batches/{id}/rows/1/retry"), &json!({}))
        .await;
    assert_eq!(status, 200, "{retried}");
    app.wait_for_batch(id, "completed", WITHIN).await;
    let after = app.get_json(&format!("/api/batches/{id}/rows/1")).await;
    assert_eq!(after["attempt"], 2, "{after}");
    let earlier = after["earlier"].as_array().expect("earlier answers");
    assert_eq!(earlier.len(), 1, "{after}");
    assert_eq!(earlier[0]["claim"], 1);
    assert_eq!(earlier[0]["status"], "succeeded");
    assert_eq!(earlier[0]["result"], before["result"]);
    assert_eq!(earlier[0]["finished_at"], before["finished_at"]);
    assert!(after["finished_at"].as_i64() > before["finished_at"].as_i64());
}
