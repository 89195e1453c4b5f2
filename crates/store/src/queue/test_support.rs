//! The batches, claims and outcomes the queue's tests start from.

use std::time::Duration;

use crate::batches::{self, BatchStatus, DatasetBatch};
use crate::{Database, Timestamp, datasets};

use super::{AttemptOutcome, AttemptRecord, ClaimedRow, RowOutcome, claim_next};

pub(crate) const LEASE: Duration = Duration::from_secs(60);

async fn dataset(db: &Database, owner: &str, rows: i64) -> i64 {
    datasets::create_from_cells(db, owner, "d", (0..rows).map(|i| vec![format!("cell {i}")]))
        .await
        .expect("dataset")
}

/// A running batch of `rows` rows for `owner` that runs `concurrency` rows at once.
pub(crate) async fn batch(db: &Database, owner: &str, rows: i64, concurrency: u32) -> i64 {
    let dataset_id = dataset(db, owner, rows).await;
    let config = crate::fixtures::config_json(|c| c.recipe.settings.concurrency = concurrency);
    batches::start_over_dataset(
        db,
        DatasetBatch {
            owner,
            name: "run",
            dataset_id,
            first_rows: None,
            config: &config,
        },
    )
    .await
    .expect("query")
    .expect("started")
}

pub(crate) async fn claim(db: &Database) -> ClaimedRow {
    claim_next(db, LEASE)
        .await
        .expect("claim")
        .expect("a row to claim")
}

/// A claim whose lease has already run out: the next claim takes its row again.
pub(crate) async fn claim_expired(db: &Database) -> ClaimedRow {
    claim_next(db, Duration::ZERO)
        .await
        .expect("claim")
        .expect("a row to claim")
}

pub(crate) async fn nothing_to_claim(db: &Database) -> bool {
    claim_next(db, LEASE).await.expect("claim").is_none()
}

pub(crate) fn succeeded(answer: i64) -> RowOutcome {
    RowOutcome::Succeeded {
        result: serde_json::json!({ "answer": answer }),
        latency_ms: 12,
        input_tokens: Some(10),
        output_tokens: Some(5),
        cost_usd: Some(0.001),
    }
}

pub(crate) fn failed(error: &str) -> RowOutcome {
    RowOutcome::Failed {
        error: error.to_string(),
        latency_ms: 3,
        input_tokens: None,
        output_tokens: None,
        cost_usd: None,
    }
}

pub(crate) async fn status_of(db: &Database, id: i64) -> BatchStatus {
    summary(db, id).await.status
}

pub(crate) async fn summary(db: &Database, id: i64) -> batches::BatchSummary {
    batches::find(db, "alice", id)
        .await
        .expect("query")
        .expect("batch")
        .summary
}

pub(crate) fn attempt(
    batch_id: i64,
    claim: i64,
    call_no: i64,
    outcome: AttemptOutcome,
) -> AttemptRecord {
    AttemptRecord {
        batch_id,
        row_index: 0,
        claim,
        call_no,
        started_at: Timestamp(1_000 + call_no),
        latency_ms: Some(40),
        http_status: Some(200),
        request: Some(serde_json::json!({ "model": "m" })),
        raw_response: Some("{}".into()),
        outcome,
        error: None,
        input_tokens: Some(100),
        output_tokens: Some(20),
        cost_usd: Some(0.5),
    }
}
