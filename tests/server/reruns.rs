//! "Run again" through the JSON API: rejected, failed or every row back in the queue, with
//! worked examples from the reviewed rows chosen per row, in the prompt its call was sent with
//! and in its drill-down.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::teams::run_batch;

const REVIEWS: [&str; 6] = [
    "The battery died after a week",
    "Lovely bright screen and quick delivery",
    "My battery died within a week too",
    "Screen cracked and the screen went dark",
    "Quick delivery and a lovely screen",
    "Speaker crackles at any volume",
];

fn reviews_csv() -> String {
    let mut csv = String::from("id,review\n");
    for (i, text) in REVIEWS.iter().enumerate() {
        csv.push_str(&format!("R-{i},{text}\n"));
    }
    csv
}

async fn rerun(app: &TestApp, batch: i64, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/batches/{batch}/rerun"), &body)
        .await
}

async fn review(app: &TestApp, batch: i64, row: i64, body: Value) {
    let (status, answer) = app
        .post_json(&format!("/api/batches/{batch}/rows/{row}/review"), &body)
        .await;
    assert_eq!(status, 200, "{answer}");
}

async fn row(app: &TestApp, batch: i64, row: i64) -> Value {
    app.get_json(&format!("/api/batches/{batch}/rows/{row}"))
        .await
}

/// The system prompt of the last call the row's model was sent, as the call recorded it.
fn sent_system(row: &Value) -> String {
    let last = row["attempts"]
        .as_array()
        .and_then(|calls| calls.last())
        .cloned()
        .unwrap_or_default();
    last["request"].to_string()
}

#[tokio::test]
async fn rejected_rows_run_again_shown_the_closest_reviewed_rows_as_worked_examples() {
    let app = spawn_app().await;
    let client = app.client.clone();
    let (_, batch) = run_batch(&app, &client, "rerun", &reviews_csv()).await;

    // Nothing reviewed yet: nothing to show.
    let body = json!({ "rows": "all", "examples": { "count": 1 } });
    let (status, error) = rerun(&app, batch, body).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (409, &json!("no_examples")),
        "{error}"
    );

    review(&app, batch, 0, json!({ "decision": "accept" })).await;
    review(
        &app,
        batch,
        1,
        json!({ "decision": "fix", "answer": { "sentiment": "positive" } }),
    )
    .await;
    for rejected in [2, 3] {
        review(&app, batch, rejected, json!({ "decision": "reject" })).await;
    }

    // Refusals name the field, and change nothing.
    for (body, field) in [
        (
            json!({ "rows": "rejected", "examples": { "count": 0 } }),
            "examples.count",
        ),
        (
            json!({ "rows": "rejected", "examples": { "count": 11 } }),
            "examples.count",
        ),
        (
            json!({ "rows": "rejected", "examples": { "count": 1, "by": ["colour"] } }),
            "examples.by",
        ),
    ] {
        let (status, error) = rerun(&app, batch, body.clone()).await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
    }
    let (status, error) = rerun(&app, batch, json!({ "rows": "some" })).await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["error"]["message"].to_string().contains("rows"),
        "{error}"
    );
    let (status, error) = rerun(
        &app,
        batch,
        json!({ "rows": "rejected", "examples": { "count": 1, "colour": "red" } }),
    )
    .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (422, &json!("unknown_field"))
    );
    let (status, error) = rerun(&app, batch, json!({ "rows": "failed" })).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (409, &json!("nothing_to_rerun")),
        "{error}"
    );
    assert_eq!(
        app.get_json(&format!("/api/batches/{batch}")).await["status"],
        "completed"
    );

    let body = json!({
        "rows": "rejected",
        "examples": { "count": 1, "choose": "closest", "by": ["review"] }
    });
    let (status, started) = rerun(&app, batch, body).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["rerun"]["rows"], 2, "{started}");
    assert_eq!(
        started["rerun"]["examples"],
        json!({ "generation": 1, "count": 1, "choose": "closest", "by": ["review"], "pool": 2 })
    );
    app.wait_for_batch(batch, "completed", Duration::from_secs(30))
        .await;

    // Row 2 (a battery) is shown row 0 (a battery), row 3 (a screen) row 1 (a screen), with the
    // answer the reviewer vouched for; the call went out with them.
    let battery = row(&app, batch, 2).await;
    assert_eq!(battery["examples"]["rows"], json!([0]), "{battery}");
    let system = battery["messages"]["system"].as_str().expect("system");
    assert!(
        system.starts_with("Classify.\n\nWorked examples"),
        "{system}"
    );
    assert!(
        system.contains(&format!("Review: {}", REVIEWS[0])),
        "{system}"
    );
    assert!(
        !system.contains(REVIEWS[2]),
        "a row is not its own example: {system}"
    );
    assert!(sent_system(&battery).contains(REVIEWS[0]), "{battery}");
    assert_eq!(
        battery["review"]["model_changed"], true,
        "the new answer awaits a review"
    );
    assert_eq!(battery["earlier"].as_array().map(Vec::len), Some(1));

    let screen = row(&app, batch, 3).await;
    assert_eq!(screen["examples"]["rows"], json!([1]), "{screen}");
    let system = screen["messages"]["system"].as_str().expect("system");
    assert!(system.contains("{\"sentiment\":\"positive\"}"), "{system}");

    // Rows that did not run again have no examples.
    let untouched = row(&app, batch, 5).await;
    assert_eq!(untouched["examples"], Value::Null);
    assert_eq!(untouched["messages"]["system"], "Classify.");

    // Every row again, at random and without examples: the examples are gone from the prompt.
    let body = json!({ "rows": "all", "examples": { "count": 2, "choose": "random" } });
    let (status, started) = rerun(&app, batch, body).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["rerun"]["rows"], REVIEWS.len());
    assert_eq!(started["rerun"]["examples"]["generation"], 2);
    app.wait_for_batch(batch, "completed", Duration::from_secs(30))
        .await;
    let first = row(&app, batch, 4).await;
    assert_eq!(first["examples"]["choose"], "random");
    assert_eq!(first["examples"]["rows"].as_array().map(Vec::len), Some(2));
    assert_eq!(row(&app, batch, 4).await["messages"], first["messages"]);
    // Row 0's own review went with its new answer: the examples were frozen before.
    let zero = row(&app, batch, 0).await;
    assert!(
        !zero["examples"]["rows"]
            .as_array()
            .expect("rows")
            .contains(&json!(0))
    );

    let (status, started) = rerun(&app, batch, json!({ "rows": "all" })).await;
    assert_eq!((status, &started["rerun"]["examples"]), (200, &Value::Null));
    app.wait_for_batch(batch, "completed", Duration::from_secs(30))
        .await;
    let plain = row(&app, batch, 2).await;
    assert_eq!(plain["examples"], Value::Null);
    assert_eq!(plain["messages"]["system"], "Classify.");
}
