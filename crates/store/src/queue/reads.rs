//! The reads the batch pages and the worker need: pages of rows, one row in full with its calls
//! and earlier answers, what a batch has spent, and its frozen configuration.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::FromRow;

use crate::database::on_pool;
use crate::{Database, StoreError, Timestamp};

use rowbench_recipe::BatchConfig;

use super::{AttemptOutcome, AttemptRecord, RowStatus, parse_json};

/// A row as the batch page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowSummary {
    pub row_index: i64,
    pub status: RowStatus,
    /// How many times the row has been claimed.
    pub attempt: i64,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub finished_at: Option<Timestamp>,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

/// Everything known about one row, for its drill-down view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowDetail {
    pub row_index: i64,
    pub status: RowStatus,
    pub attempt: i64,
    /// The dataset row's cells; `None` if the dataset row is gone.
    pub cells: Option<Vec<String>>,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    /// Every call made for the row, oldest first.
    pub attempts: Vec<AttemptRecord>,
    /// The answers a retry replaced, oldest first.
    pub earlier: Vec<EarlierAnswer>,
    /// The few-shot generation its call takes worked examples from (a re-run's); `None` for
    /// none.
    pub few_shot: Option<i64>,
}

/// An answer (or error) a row had before a retry sent it back to the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierAnswer {
    /// The claim that reached it.
    pub claim: i64,
    /// `succeeded` or `failed`.
    pub status: RowStatus,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    /// When the retry replaced it.
    pub replaced_at: Timestamp,
}

/// What a batch has spent so far (every call, retries and abandoned claims included), and why
/// it is paused if it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchTotals {
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub pause_reason: Option<String>,
}

/// The frozen configuration of batch `batch_id`, for the worker (no owner check); `None` when
/// the batch is gone, [`StoreError::CorruptBatch`] when what is stored does not parse.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn batch_config(db: &Database, batch_id: i64) -> Result<Option<BatchConfig>, StoreError> {
    let text: Option<String> = on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar("SELECT config FROM batches WHERE id = $1")
            .bind(batch_id)
            .fetch_optional(pool)
            .await?
    });
    text.map(|text| crate::batches::parse_config(batch_id, &text))
        .transpose()
}

#[derive(FromRow)]
struct RowRecord {
    row_index: i64,
    status: RowStatus,
    attempt: i64,
    result: Option<String>,
    error: Option<String>,
    finished_at: Option<Timestamp>,
    latency_ms: Option<i64>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<f64>,
}

impl TryFrom<RowRecord> for RowSummary {
    type Error = StoreError;

    fn try_from(r: RowRecord) -> Result<Self, StoreError> {
        Ok(RowSummary {
            row_index: r.row_index,
            status: r.status,
            attempt: r.attempt,
            result: parse_json("row result", r.result)?,
            error: r.error,
            finished_at: r.finished_at,
            latency_ms: r.latency_ms,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cost_usd: r.cost_usd,
        })
    }
}

const ROW_COLUMNS: &str = "row_index, status, attempt, result, error, finished_at, latency_ms, \
     input_tokens, output_tokens, cost_usd";

/// Up to `limit` rows of the `owner`'s batch with an index greater than `after`, in order,
/// optionally only those in `status` (keyset paging: every page costs the same). `None` if the
/// batch is not theirs.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn rows_page(
    db: &Database,
    owner: &str,
    batch_id: i64,
    status: Option<RowStatus>,
    after: Option<i64>,
    limit: u32,
) -> Result<Option<Vec<RowSummary>>, StoreError> {
    let after = after.unwrap_or(-1);
    let limit = i64::from(limit);
    let records: Option<Vec<RowRecord>> = on_pool!(db, |pool, _dialect| {
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT id FROM batches WHERE id = $1 AND owner = $2")
                .bind(batch_id)
                .bind(owner)
                .fetch_optional(pool)
                .await?;
        match (owned, status) {
            (None, _) => None,
            // Two statements rather than `($2 IS NULL OR status = $2)`, which would hide the index.
            (Some(_), Some(status)) => Some(
                sqlx::query_as(&format!(
                    "SELECT {ROW_COLUMNS} FROM batch_rows WHERE batch_id = $1 AND status = $2 \
                     AND row_index > $3 ORDER BY row_index LIMIT $4"
                ))
                .bind(batch_id)
                .bind(status)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?,
            ),
            (Some(_), None) => Some(
                sqlx::query_as(&format!(
                    "SELECT {ROW_COLUMNS} FROM batch_rows \
                     WHERE batch_id = $1 AND row_index > $2 ORDER BY row_index LIMIT $3"
                ))
                .bind(batch_id)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?,
            ),
        }
    });
    let Some(records) = records else {
        return Ok(None);
    };
    records
        .into_iter()
        .map(RowSummary::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[derive(FromRow)]
struct AttemptRow {
    batch_id: i64,
    row_index: i64,
    claim: i64,
    call_no: i64,
    started_at: Timestamp,
    latency_ms: Option<i64>,
    http_status: Option<i64>,
    request: Option<String>,
    raw_response: Option<String>,
    outcome: AttemptOutcome,
    error: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<f64>,
}

impl TryFrom<AttemptRow> for AttemptRecord {
    type Error = StoreError;

    fn try_from(r: AttemptRow) -> Result<Self, StoreError> {
        Ok(AttemptRecord {
            batch_id: r.batch_id,
            row_index: r.row_index,
            claim: r.claim,
            call_no: r.call_no,
            started_at: r.started_at,
            latency_ms: r.latency_ms,
            http_status: r.http_status,
            request: parse_json("attempt request", r.request)?,
            raw_response: r.raw_response,
            outcome: r.outcome,
            error: r.error,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cost_usd: r.cost_usd,
        })
    }
}

#[derive(FromRow)]
struct EarlierRecord {
    claim: i64,
    status: RowStatus,
    result: Option<String>,
    error: Option<String>,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    latency_ms: Option<i64>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<f64>,
    replaced_at: Timestamp,
}

impl TryFrom<EarlierRecord> for EarlierAnswer {
    type Error = StoreError;

    fn try_from(r: EarlierRecord) -> Result<Self, StoreError> {
        Ok(EarlierAnswer {
            claim: r.claim,
            status: r.status,
            result: parse_json("earlier row result", r.result)?,
            error: r.error,
            started_at: r.started_at,
            finished_at: r.finished_at,
            latency_ms: r.latency_ms,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cost_usd: r.cost_usd,
            replaced_at: r.replaced_at,
        })
    }
}

#[derive(FromRow)]
struct DetailRecord {
    #[sqlx(flatten)]
    row: RowRecord,
    started_at: Option<Timestamp>,
    cells: Option<String>,
    few_shot: Option<i64>,
}

/// Row `row_index` of the `owner`'s batch with every call made for it and the answers retries
/// replaced; `None` if the batch is not theirs or has no such row.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn row_detail(
    db: &Database,
    owner: &str,
    batch_id: i64,
    row_index: i64,
) -> Result<Option<RowDetail>, StoreError> {
    let found: Option<(DetailRecord, Vec<AttemptRow>, Vec<EarlierRecord>)> = on_pool!(
        db,
        |pool, _dialect| {
            let record: Option<DetailRecord> = sqlx::query_as(
                "SELECT r.row_index, r.status, r.attempt, r.result, r.error, r.finished_at, \
                 r.latency_ms, r.input_tokens, r.output_tokens, r.cost_usd, r.started_at, d.cells, \
                 r.few_shot \
                 FROM batch_rows r JOIN batches b ON b.id = r.batch_id \
                 LEFT JOIN dataset_rows d ON d.dataset_id = b.dataset_id AND d.row_index = r.row_index \
                 WHERE r.batch_id = $1 AND r.row_index = $2 AND b.owner = $3",
            )
            .bind(batch_id)
            .bind(row_index)
            .bind(owner)
            .fetch_optional(pool)
            .await?;
            match record {
                None => None,
                Some(record) => {
                    let attempts: Vec<AttemptRow> = sqlx::query_as(
                        "SELECT batch_id, row_index, claim, call_no, started_at, latency_ms, \
                         http_status, request, raw_response, outcome, error, input_tokens, \
                         output_tokens, cost_usd FROM row_attempts \
                         WHERE batch_id = $1 AND row_index = $2 ORDER BY claim, call_no",
                    )
                    .bind(batch_id)
                    .bind(row_index)
                    .fetch_all(pool)
                    .await?;
                    let earlier: Vec<EarlierRecord> = sqlx::query_as(
                        "SELECT claim, status, result, error, started_at, finished_at, latency_ms, \
                         input_tokens, output_tokens, cost_usd, replaced_at FROM row_history \
                         WHERE batch_id = $1 AND row_index = $2 ORDER BY claim",
                    )
                    .bind(batch_id)
                    .bind(row_index)
                    .fetch_all(pool)
                    .await?;
                    Some((record, attempts, earlier))
                }
            }
        }
    );
    let Some((record, attempts, earlier)) = found else {
        return Ok(None);
    };
    let summary = RowSummary::try_from(record.row)?;
    Ok(Some(RowDetail {
        row_index: summary.row_index,
        status: summary.status,
        attempt: summary.attempt,
        cells: parse_json("row cells", record.cells)?,
        result: summary.result,
        error: summary.error,
        started_at: record.started_at,
        finished_at: summary.finished_at,
        latency_ms: summary.latency_ms,
        input_tokens: summary.input_tokens,
        output_tokens: summary.output_tokens,
        cost_usd: summary.cost_usd,
        few_shot: record.few_shot,
        attempts: attempts
            .into_iter()
            .map(AttemptRecord::try_from)
            .collect::<Result<_, _>>()?,
        earlier: earlier
            .into_iter()
            .map(EarlierAnswer::try_from)
            .collect::<Result<_, _>>()?,
    }))
}

/// What batch `batch_id` has spent on calls so far and why it is paused (no owner check: call it
/// after [`crate::batches::find`]).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn totals(db: &Database, batch_id: i64) -> Result<BatchTotals, StoreError> {
    // SUM of a BIGINT column is NUMERIC on PostgreSQL: cast back (a no-op on SQLite).
    let ((calls, input_tokens, output_tokens, cost_usd), pause_reason): (
        (i64, i64, i64, f64),
        Option<Option<String>>,
    ) = on_pool!(db, |pool, _dialect| {
        let spent = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), \
             CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), COALESCE(SUM(cost_usd), 0.0) \
             FROM row_attempts WHERE batch_id = $1",
        )
        .bind(batch_id)
        .fetch_one(pool)
        .await?;
        let pause_reason = sqlx::query_scalar("SELECT pause_reason FROM batches WHERE id = $1")
            .bind(batch_id)
            .fetch_optional(pool)
            .await?;
        (spent, pause_reason)
    });
    Ok(BatchTotals {
        calls,
        input_tokens,
        output_tokens,
        cost_usd,
        pause_reason: pause_reason.flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;
    use crate::queue::test_support::{attempt, batch, claim, failed, succeeded};
    use crate::queue::{finish_row, record_attempt};

    #[tokio::test]
    async fn every_call_is_listed_with_its_row_and_summed_in_the_totals() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let row = claim(&db).await;
        let calls = [
            attempt(id, row.claim, 1, AttemptOutcome::Retryable),
            attempt(id, row.claim, 2, AttemptOutcome::Invalid),
            attempt(id, row.claim, 3, AttemptOutcome::Ok),
        ];
        for call in &calls {
            record_attempt(&db, call).await.expect("record");
        }
        finish_row(&db, id, 0, row.claim, succeeded(1))
            .await
            .expect("finish");
        let detail = row_detail(&db, "alice", id, 0)
            .await
            .expect("query")
            .expect("row");
        assert_eq!(detail.attempts, calls);
        assert_eq!(detail.status, RowStatus::Succeeded);
        assert_eq!(detail.cells, Some(vec!["cell 0".to_string()]));
        assert!(detail.started_at.is_some() && detail.finished_at.is_some());
        let totals = totals(&db, id).await.expect("totals");
        assert_eq!(
            (totals.calls, totals.input_tokens, totals.output_tokens),
            (3, 300, 60)
        );
        assert!((totals.cost_usd - 1.5).abs() < 1e-9);
    }

    #[tokio::test]
    async fn row_pages_follow_the_index_and_filter_by_status() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 5, 2).await;
        let row = claim(&db).await;
        finish_row(&db, id, 0, row.claim, failed("broken"))
            .await
            .expect("finish");
        let page = |after, status| rows_page(&db, "alice", id, status, after, 2);
        let first = page(None, None).await.expect("query").expect("owned");
        assert_eq!(
            first.iter().map(|r| r.row_index).collect::<Vec<_>>(),
            [0, 1]
        );
        assert_eq!(first[0].error.as_deref(), Some("broken"));
        let next = page(Some(1), None).await.expect("query").expect("owned");
        assert_eq!(next.iter().map(|r| r.row_index).collect::<Vec<_>>(), [2, 3]);
        let failed_rows = page(None, Some(RowStatus::Failed))
            .await
            .expect("query")
            .expect("owned");
        assert_eq!(failed_rows.len(), 1);
        assert_eq!(RowStatus::parse("failed"), Some(RowStatus::Failed));
        assert_eq!(RowStatus::parse("nope"), None);
    }
}
