//! The durable queue through the real server and its JSON API, against our own mock LLM: a fault
//! mix, a refused key, failed rows retried, and a provider's rate limit.

use std::time::Duration;

use rowbench_mock_llm::{FaultRates, MockConfig, MockServer};
use rowbench_providers::catalog::Catalog;
use rowbench_providers::{
    BackoffPolicy, ModelInfo, ProviderConfig, ProviderKind, RateLimit, StructuredOutput,
};
use rowbench_schema::{AnswerValidator, ResponseSchema};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

/// The real server, whose only provider is `mock` (model `mock-model`), with short retry waits.
async fn app_against(mock: &MockServer, timeout: Duration, rate_limit: RateLimit) -> TestApp {
    let base_url = format!("{}/v1", mock.url());
    spawn_app_with(move |config| {
        config.catalog = Catalog {
            providers: vec![ProviderConfig {
                id: "mock".into(),
                label: "Mock".into(),
                kind: ProviderKind::OpenAi,
                base_url,
                api_key: None,
                models: vec![ModelInfo {
                    id: "mock-model".into(),
                    label: "Mock model".into(),
                    input_usd_per_mtok: 1.0,
                    output_usd_per_mtok: 2.0,
                    structured: StructuredOutput::Native,
                }],
                rate_limit,
                timeout,
                connect_timeout: timeout,
            }],
        };
        config.queue.backoff = BackoffPolicy {
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
            max_retry_after: Duration::from_millis(100),
        };
    })
    .await
}

fn schema() -> Value {
    json!({ "fields": [
        { "name": "label", "type": "enum", "options": ["billing", "shipping", "other"], "required": true },
        { "name": "urgency", "type": "integer", "required": true }
    ]})
}

/// Uploads `rows` tickets and starts a batch over them at `concurrency`; the batch's id.
async fn start(app: &TestApp, rows: usize, concurrency: u32) -> i64 {
    let csv: String = std::iter::once("id,text\n".to_owned())
        .chain((0..rows).map(|i| format!("{i},\"ticket number {i}, \"\"urgent\"\"?\"\n")))
        .collect();
    let (status, dataset) = app.upload_csv("?name=tickets", csv).await;
    assert_eq!(status, 201, "{dataset}");
    let (status, batch) = app.post_json("/api/batches",
        &json!({
            "dataset_id": dataset["id"],
            "mapping": { "columns": [
                { "name": "id", "role": "ignore", "is_key": true },
                { "name": "text", "role": "include" }
            ]},
            "prompt": { "system": "Triage the ticket.", "user": "Ticket: {{ text }}" },
            "schema": schema(),
            "settings": { "provider": "mock", "model": "mock-model", "concurrency": concurrency }
        }),
    )
    .await;
    assert_eq!(status, 201, "{batch}");
    batch["id"].as_i64().expect("batch id")
}

/// Every row's drill-down, read through the rows list (keyset pages) and the row resource.
async fn drill_downs(app: &TestApp, id: i64) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut after = String::new();
    loop {
        let page = app
            .get_json(&format!("/api/batches/{id}/rows?limit=50{after}"))
            .await;
        for row in page["rows"].as_array().expect("rows") {
            let index = row["row_index"].as_i64().expect("index");
            rows.push(
                app.get_json(&format!("/api/batches/{id}/rows/{index}"))
                    .await,
            );
        }
        match page["next_after"].as_i64() {
            Some(next) => after = format!("&after={next}"),
            None => return rows,
        }
    }
}

fn validator() -> AnswerValidator {
    let schema: ResponseSchema = serde_json::from_value(schema()).expect("schema fields");
    AnswerValidator::new(&schema.to_json_schema()).expect("schema compiles")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_row_batch_under_a_fault_mix_ends_with_every_row_answered_or_failed_with_its_reason()
{
    let mock = MockServer::start(MockConfig {
        faults: FaultRates {
            server_error: 0.20,
            rate_limited: 0.10,
            hang: 0.05,
            invalid_json: 0.10,
            ..FaultRates::default()
        },
        seed: 11,
        hang_ms: 2_000,
        retry_after_ms: 20,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let app = app_against(&mock, Duration::from_millis(500), RateLimit::default()).await;
    let id = start(&app, 200, 8).await;

    let done = app
        .wait_for_batch(id, "completed", Duration::from_secs(90))
        .await;
    let (succeeded, failed) = (
        done["counts"]["succeeded"].as_i64().expect("count"),
        done["counts"]["failed"].as_i64().expect("count"),
    );
    assert_eq!(succeeded + failed, 200, "{done}");
    assert!(succeeded > 150, "most rows get through: {done}");

    let validator = validator();
    let mut calls = 0;
    let mut retried = 0;
    for row in drill_downs(&app, id).await {
        let index = &row["row_index"];
        match row["status"].as_str() {
            Some("succeeded") => assert!(validator.is_valid(&row["result"]), "row {index}: {row}"),
            Some("failed") => assert!(
                row["error"].as_str().is_some_and(|e| !e.is_empty()),
                "row {index} failed without a reason: {row}"
            ),
            other => panic!("row {index} ended {other:?}"),
        }
        let attempts = row["attempts"].as_array().expect("attempts");
        assert!((1..=6).contains(&attempts.len()), "row {index}: {row}");
        for call in attempts {
            assert!(call["request"].is_object(), "the request is kept: {call}");
            if call["outcome"] != "ok" {
                assert!(call["error"].is_string(), "a failed call says why: {call}");
            }
        }
        calls += attempts.len();
        retried += usize::from(attempts.len() > 1);
    }
    let stats = mock.stats();
    assert_eq!(
        calls as u64, stats.requests,
        "every call the mock saw is recorded"
    );
    assert!(
        stats.server_errors > 0
            && stats.rate_limited > 0
            && stats.hangs > 0
            && stats.invalid_json > 0,
        "{stats:?}"
    );
    assert!(retried > 40, "{retried} rows needed more than one call");
    assert_eq!(
        done["totals"]["calls"].as_u64(),
        Some(stats.requests),
        "the batch counts its retries: {done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_pauses_the_batch_with_a_reason_and_resuming_finishes_it() {
    let mock = MockServer::start(MockConfig {
        faults: FaultRates {
            unauthorized: 1.0,
            ..FaultRates::default()
        },
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let app = app_against(&mock, Duration::from_secs(2), RateLimit::default()).await;
    let id = start(&app, 10, 2).await;

    let paused = app
        .wait_for_batch(id, "paused", Duration::from_secs(10))
        .await;
    let reason = paused["pause_reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("The provider refused the API key (HTTP 401)")
            && reason.ends_with("Fix the key in the server configuration, then resume."),
        "{paused}"
    );
    assert_eq!(paused["counts"]["failed"], 0, "no row fails for a bad key");

    mock.set_config(MockConfig::default());
    let (status, resumed) = app
        .post_json(&format!("/api/batches/{id}/resume"), &json!({}))
        .await;
    assert_eq!(status, 200, "{resumed}");
    let done = app
        .wait_for_batch(id, "completed", Duration::from_secs(10))
        .await;
    assert_eq!(done["counts"]["succeeded"], 10, "{done}");
    assert_eq!(done["pause_reason"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_rows_retried_through_the_api_run_again_and_succeed() {
    // Every answer breaks the schema, the repair's too: each row fails after two calls.
    let mock = MockServer::start(MockConfig {
        faults: FaultRates {
            schema_violation: 1.0,
            ..FaultRates::default()
        },
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let app = app_against(&mock, Duration::from_secs(2), RateLimit::default()).await;
    let id = start(&app, 12, 4).await;
    let done = app
        .wait_for_batch(id, "completed", Duration::from_secs(10))
        .await;
    assert_eq!(done["counts"]["failed"], 12, "{done}");
    let row = app.get_json(&format!("/api/batches/{id}/rows/3")).await;
    assert!(
        row["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("The answer does not match the schema")),
        "{row}"
    );
    assert_eq!(
        row["attempts"].as_array().map(Vec::len),
        Some(2),
        "one repair"
    );

    mock.set_config(MockConfig::default());
    let (status, retried) = app
        .post_json(&format!("/api/batches/{id}/retry-failed"), &json!({}))
        .await;
    assert_eq!(status, 200, "{retried}");
    let done = app
        .wait_for_batch(id, "completed", Duration::from_secs(10))
        .await;
    assert_eq!(
        (&done["counts"]["succeeded"], &done["counts"]["failed"]),
        (&json!(12), &json!(0)),
        "{done}"
    );
    let row = app.get_json(&format!("/api/batches/{id}/rows/3")).await;
    assert_eq!(row["attempt"], 2, "claimed a second time: {row}");
    assert_eq!(row["attempts"].as_array().map(Vec::len), Some(3), "{row}");
    let (status, again) = app
        .post_json(&format!("/api/batches/{id}/retry-failed"), &json!({}))
        .await;
    assert_eq!(status, 409, "nothing left to retry: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_limited_to_600_requests_a_minute_gets_ten_a_second_from_the_server() {
    let mock = MockServer::start(MockConfig::default())
        .await
        .expect("mock starts");
    let limit = RateLimit {
        requests_per_minute: Some(600),
        tokens_per_minute: None,
    };
    let app = app_against(&mock, Duration::from_secs(2), limit).await;
    let id = start(&app, 41, 16).await;
    app.wait_for_batch(id, "completed", Duration::from_secs(20))
        .await;

    let mut times = mock.stats().request_times_ms;
    times.sort_unstable();
    assert_eq!(times.len(), 41);
    // The typical gap between calls, not the first-to-last span: on a loaded machine one call
    // that waited for its connection to open shortens the span without any call going early.
    let mut gaps: Vec<u64> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    gaps.sort_unstable();
    let median_ms = gaps[gaps.len() / 2] as f64;
    let per_minute = 60_000.0 / median_ms;
    assert!(
        (540.0..=660.0).contains(&per_minute),
        "{per_minute:.0} requests a minute (gaps {gaps:?} ms)"
    );
    let span_ms = (times[times.len() - 1] - times[0]) as f64;
    assert!(
        span_ms >= 40.0 * 100.0 * 0.85,
        "41 calls spread over {span_ms} ms, far less than 40 gaps of 100 ms"
    );
}
