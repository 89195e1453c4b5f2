//! The durable row queue over `batch_rows`, and the types its parts share: claiming rows under a
//! lease (`lease`), fenced results and the record of every provider call (`finish`), batch
//! control: pause, resume, cancel, retry (`control`) and the reads the batch pages need
//! (`reads`).
//!
//! A claim bumps the row's `attempt`; every later write for that claim names the value it got
//! (the fence), so a worker whose lease expired, and whose row was claimed again, can never
//! overwrite the newer claim's result.

mod control;
mod finish;
mod lease;
mod reads;
#[cfg(test)]
pub(crate) mod test_support;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{StoreError, Timestamp};

pub use control::{
    NewFewShots, Rerun, RerunRows, cancel, pause, pause_after_failures, pause_for, rerun, resume,
    retry_failed, retry_row, set_concurrency,
};
pub use finish::{RowResult, finish_row, finish_rows, finish_rows_quietly, record_attempt};
pub use lease::{
    Claim, ClaimedRow, claim, claim_next, heartbeat, reclaim_leases_at_startup, release_row,
};
pub use reads::{
    BatchTotals, EarlierAnswer, RowDetail, RowSummary, batch_config, row_detail, rows_page, totals,
};

/// Where a row of a batch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Queued => "queued",
            RowStatus::Running => "running",
            RowStatus::Succeeded => "succeeded",
            RowStatus::Failed => "failed",
            RowStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `text` (as in URLs: `?status=failed`).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => RowStatus::Queued,
            "running" => RowStatus::Running,
            "succeeded" => RowStatus::Succeeded,
            "failed" => RowStatus::Failed,
            "cancelled" => RowStatus::Cancelled,
            _ => return None,
        })
    }
}

/// How one provider call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum AttemptOutcome {
    /// A schema-valid answer.
    Ok,
    /// An answer that could not be read as JSON or broke the schema.
    Invalid,
    /// A failure worth retrying (timeout, 5xx, 429, broken connection).
    Retryable,
    /// A failure that retrying would repeat.
    Failed,
    /// The provider refused the key.
    Auth,
}

impl AttemptOutcome {
    /// The name the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Ok => "ok",
            AttemptOutcome::Invalid => "invalid",
            AttemptOutcome::Retryable => "retryable",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Auth => "auth",
        }
    }
}

/// One provider call made for a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub batch_id: i64,
    pub row_index: i64,
    /// The claim the call was made under.
    pub claim: i64,
    /// 1-based within the claim.
    pub call_no: i64,
    pub started_at: Timestamp,
    pub latency_ms: Option<i64>,
    /// `None` when no response arrived.
    pub http_status: Option<i64>,
    /// The body as sent; never holds a key (keys travel in headers).
    pub request: Option<Value>,
    pub raw_response: Option<String>,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

/// How a claim ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    Succeeded {
        /// The schema-valid answer.
        result: Value,
        latency_ms: i64,
        input_tokens: Option<i64>,
        output_tokens: Option<i64>,
        cost_usd: Option<f64>,
    },
    Failed {
        /// Why, in words for the user.
        error: String,
        latency_ms: i64,
        input_tokens: Option<i64>,
        output_tokens: Option<i64>,
        cost_usd: Option<f64>,
    },
}

fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: Option<String>,
) -> Result<Option<T>, StoreError> {
    text.map(|text| serde_json::from_str(&text).map_err(|e| StoreError::corrupt(what, e)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::{AttemptOutcome, finish_row, record_attempt, retry_row};
    use crate::database::tests::fresh_database;
    use crate::queue::test_support::{attempt, batch, claim, succeeded};
    use crate::testing::{execute, scalar_i64};

    #[tokio::test]
    async fn deleting_a_batch_deletes_its_call_records_and_earlier_answers() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let row = claim(&db).await;
        record_attempt(&db, &attempt(id, row.claim, 1, AttemptOutcome::Ok))
            .await
            .expect("record");
        finish_row(&db, id, 0, row.claim, succeeded(0))
            .await
            .expect("finish");
        assert!(retry_row(&db, "alice", id, 0).await.expect("retry"));
        execute(&db, "DELETE FROM batches WHERE id = $1", &[id]).await;
        let left = scalar_i64(
            &db,
            "SELECT (SELECT COUNT(*) FROM row_attempts) + (SELECT COUNT(*) FROM row_history)",
            &[],
        )
        .await;
        assert_eq!(left, 0);
    }
}
