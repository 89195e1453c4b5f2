//! The batches API end to end: a recipe posted over a real upload runs through the durable queue
//! with the offline demo provider, and its state, rows and drill-down read back as JSON.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// How long a four-row demo batch may take.
const WITHIN: Duration = Duration::from_secs(30);

const CSV: &str =
    "id,review,lang\n1,Great <b>phone</b>,en\n2,\"Bad, broke\",en\n3,Gut,de\n4,Okay,en\n";

fn recipe(dataset_id: i64) -> Value {
    json!({
        "dataset_id": dataset_id,
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "review", "role": "include" },
            { "name": "lang", "role": "param", "key": "lang" }
        ]},
        "prompt": { "system": "Answer in {{ system_params.lang }}.", "user": "Review: {{ review }}" },
        "schema": { "fields": [
            { "name": "sentiment", "type": "enum", "options": ["positive", "negative"], "required": true },
            { "name": "score", "type": "number", "required": true }
        ]},
        "settings": { "provider": "demo", "model": "demo-synthetic" }
    })
}

async fn uploaded(app: &TestApp) -> i64 {
    let (status, dataset) = app.upload_csv("?name=reviews", CSV).await;
    assert_eq!(status, 201, "{dataset}");
    dataset["id"].as_i64().expect("dataset id")
}

#[tokio::test]
async fn a_posted_recipe_runs_every_row_to_a_schema_valid_answer_with_the_demo_provider() {
    let app = spawn_app().await;
    let dataset = uploaded(&app).await;
    let (status, batch) = app.post_json("/api/batches", &recipe(dataset)).await;
    assert_eq!(status, 201, "{batch}");
    let id = batch["id"].as_i64().expect("batch id");
    assert_eq!(batch["total_rows"], 4);

    let done = app.wait_for_batch(id, "completed", WITHIN).await;
    assert_eq!(done["counts"]["succeeded"], 4, "{done}");
    assert_eq!(done["done_rows"], 4);
    assert!(done["totals"]["input_tokens"].as_i64().expect("tokens") > 0);

    let rows = app
        .get_json(&format!("/api/batches/{id}/rows?limit=3"))
        .await;
    let listed: Vec<i64> = rows["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["row_index"].as_i64().expect("index"))
        .collect();
    assert_eq!(listed, [0, 1, 2]);
    assert_eq!(rows["next_after"], 2);
    for r in rows["rows"].as_array().expect("rows") {
        assert!(
            ["positive", "negative"]
                .contains(&r["result"]["sentiment"].as_str().expect("sentiment"))
        );
        assert!(r["result"]["score"].is_number());
    }

    let detail = app.get_json(&format!("/api/batches/{id}/rows/2")).await;
    assert_eq!(detail["cells"], json!(["3", "Gut", "de"]));
    assert_eq!(detail["messages"]["system"], "Answer in de.");
    assert_eq!(detail["messages"]["user"], "Review: Gut");
    let attempts = detail["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "ok");
}

#[tokio::test]
async fn the_answer_charts_have_a_json_twin_and_a_deleted_batch_is_gone() {
    let app = spawn_app().await;
    let dataset = uploaded(&app).await;
    let (_, batch) = app.post_json("/api/batches", &recipe(dataset)).await;
    let id = batch["id"].as_i64().expect("batch id");
    app.wait_for_batch(id, "completed", WITHIN).await;

    let charts = app.get_json(&format!("/api/batches/{id}/charts")).await;
    let charts = charts["charts"].as_array().expect("charts");
    assert_eq!(charts.len(), 2, "{charts:?}");
    assert_eq!(
        (&charts[0]["field"], &charts[0]["kind"]),
        (&json!("sentiment"), &json!("counts"))
    );
    let rows_in = |list: &Value| -> i64 {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|entry| entry["rows"].as_i64().expect("rows"))
            .sum()
    };
    assert_eq!(rows_in(&charts[0]["counts"]), 4, "{charts:?}");
    for count in charts[0]["counts"].as_array().expect("counts") {
        assert!(["positive", "negative"].contains(&count["answer"].as_str().expect("answer")));
    }
    assert_eq!(
        (&charts[1]["field"], &charts[1]["kind"]),
        (&json!("score"), &json!("histogram"))
    );
    assert_eq!(rows_in(&charts[1]["bins"]), 4, "{charts:?}");

    let deleted = app
        .client
        .delete(app.url(&format!("/api/batches/{id}")))
        .send()
        .await
        .expect("answered");
    assert_eq!(deleted.status().as_u16(), 204);
    assert_eq!(
        app.get(&format!("/api/batches/{id}"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.get(&format!("/api/batches/{id}/charts"))
            .await
            .status()
            .as_u16(),
        404
    );
    let again = app
        .client
        .delete(app.url(&format!("/api/batches/{id}")))
        .send()
        .await
        .expect("answered");
    assert_eq!(again.status().as_u16(), 404);
    let dataset = app.get_json(&format!("/api/datasets/{dataset}")).await;
    assert_eq!(dataset["row_count"], 4, "the dataset stays: {dataset}");
}

#[tokio::test]
async fn a_recipe_with_an_unknown_name_is_refused_with_where_it_is() {
    let app = spawn_app().await;
    let dataset = uploaded(&app).await;
    let mut body = recipe(dataset);
    body["prompt"]["user"] = json!("Review: {{ reveiw }}");
    let (status, error) = app.post_json("/api/batches", &body).await;
    assert_eq!(status, 422, "{error}");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("In the user message, line 1, column"),
        "{message}"
    );
    assert!(
        error["error"]["details"]["blockers"][0]["step"] == "Prompt",
        "{error}"
    );
    let list = app.get_json("/api/batches").await;
    assert_eq!(list["batches"], json!([]));
}

#[tokio::test]
async fn a_recipe_over_a_missing_dataset_is_not_found_and_a_model_the_server_lacks_is_named() {
    let app = spawn_app().await;
    let (status, error) = app.post_json("/api/batches", &recipe(999)).await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["error"]["code"], "not_found", "{error}");

    let dataset = uploaded(&app).await;
    let mut body = recipe(dataset);
    body["settings"]["model"] = json!("no-such-model");
    let (status, error) = app.post_json("/api/batches", &body).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "invalid_recipe", "{error}");
    assert_eq!(error["error"]["details"]["field"], "settings", "{error}");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(message.contains("\"no-such-model\""), "{message}");
}

#[tokio::test]
async fn a_batch_is_paused_resumed_and_its_failed_rows_retried_through_the_api() {
    let app = spawn_app().await;
    let dataset = uploaded(&app).await;
    let (_, batch) = app.post_json("/api/batches", &recipe(dataset)).await;
    let id = batch["id"].as_i64().expect("batch id");

    let (status, paused) = app
        .post_json(&format!("/api/batches/{id}/pause"), &json!({}))
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["status"], "paused");
    let (status, again) = app
        .post_json(&format!("/api/batches/{id}/pause"), &json!({}))
        .await;
    assert_eq!(status, 409, "{again}");

    let (status, resumed) = app
        .post_json(&format!("/api/batches/{id}/resume"), &json!({}))
        .await;
    assert_eq!(status, 200, "{resumed}");
    app.wait_for_batch(id, "completed", WITHIN).await;

    let (status, retried) = app
        .post_json(&format!("/api/batches/{id}/rows/1/retry"), &json!({}))
        .await;
    assert_eq!(status, 200, "{retried}");
    let done = app.wait_for_batch(id, "completed", WITHIN).await;
    assert_eq!(done["counts"]["succeeded"], 4, "{done}");
    let detail = app.get_json(&format!("/api/batches/{id}/rows/1")).await;
    assert_eq!(detail["attempt"], 2, "the row ran a second time: {detail}");

    let (status, unknown) = app
        .post_json(&format!("/api/batches/{id}/explode"), &json!({}))
        .await;
    assert_eq!(status, 404, "{unknown}");
    let (status, _) = app.post_json("/api/batches/999/pause", &json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn cancelling_a_batch_stops_its_queued_rows() {
    let app = spawn_app().await;
    let dataset = uploaded(&app).await;
    let mut body = recipe(dataset);
    body["settings"]["concurrency"] = json!(1);
    let (_, batch) = app.post_json("/api/batches", &body).await;
    let id = batch["id"].as_i64().expect("batch id");
    let (status, cancelled) = app
        .post_json(&format!("/api/batches/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = app.get_json(&format!("/api/batches/{id}")).await;
    assert_eq!(after["counts"]["queued"], 0, "{after}");
    assert!(
        after["counts"]["cancelled"].as_i64().expect("count") >= 3,
        "{after}"
    );
}
