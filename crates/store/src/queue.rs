//! The durable row queue over `batch_rows`: claiming rows under a lease, fenced results, the record
//! of every provider call, batch control (pause, resume, cancel, retry) and the reads the batch
//! pages need.
//!
//! A claim bumps the row's `attempt`; every later write for that claim names the value it got
//! (the fence), so a worker whose lease expired, and whose row was claimed again, can never
//! overwrite the newer claim's result.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::query_builder::Separated;
use sqlx::{Connection, FromRow, QueryBuilder, Sqlite, Transaction};

use crate::{Database, StoreError, Timestamp};

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

/// A row the caller now holds under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRow {
    pub batch_id: i64,
    pub row_index: i64,
    /// The row's new `attempt` value: the fence every write for this claim must name.
    pub claim: i64,
    /// The dataset row's cells, in column order.
    pub cells: Vec<String>,
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

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn corrupt(what: &'static str, error: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: error.to_string(),
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: Option<String>,
) -> Result<Option<T>, StoreError> {
    text.map(|text| serde_json::from_str(&text).map_err(|e| corrupt(what, e)))
        .transpose()
}

/// Claims up to ?3 rows, holding each until ?1 + ?2, from the lowest running batch that has a
/// free slot (fewer unexpired leases than its concurrency) and a row to run: queued rows whose
/// `not_before` has passed, and running rows whose lease expired, lowest row index first, never
/// more than the batch's free slots. SQLite runs one writer at a time, so two workers can never
/// claim the same row or push a batch over its limit. `more` says another batch after it could
/// also run a row now. Each lookup is an index seek on `batch_rows_by_status`, so a claim costs
/// the same at row 10 as at row 100,000; `INDEXED BY` because the planner, unaided, walks the
/// primary key past every finished row instead.
const CLAIM: &str = "
WITH slots AS (
    SELECT b.id AS id,
        COALESCE(b.concurrency, json_extract(b.config, '$.recipe.settings.concurrency'), 1)
        - (SELECT COUNT(*) FROM batch_rows r INDEXED BY batch_rows_by_status
           WHERE r.batch_id = b.id AND r.status = 'running' AND r.lease_expires_at > ?1) AS free
    FROM batches b
    WHERE b.status = 'running'
),
ready AS (
    SELECT id, free FROM slots
    WHERE free > 0 AND (
        EXISTS (SELECT 1 FROM batch_rows q INDEXED BY batch_rows_by_status
                WHERE q.batch_id = slots.id AND q.status = 'queued'
                  AND (q.not_before IS NULL OR q.not_before <= ?1))
        OR EXISTS (SELECT 1 FROM batch_rows e INDEXED BY batch_rows_by_status
                   WHERE e.batch_id = slots.id AND e.status = 'running'
                     AND e.lease_expires_at <= ?1))
),
target AS (
    SELECT id, min(free, ?3) AS take,
        EXISTS (SELECT 1 FROM ready later WHERE later.id > ready.id) AS more
    FROM ready ORDER BY id LIMIT 1
)
UPDATE batch_rows
SET status = 'running', attempt = attempt + 1, lease_expires_at = ?1 + ?2,
    started_at = COALESCE(started_at, ?1), not_before = NULL
WHERE batch_id = (SELECT id FROM target)
AND row_index IN (
    SELECT row_index FROM (
        SELECT q.row_index FROM batch_rows q INDEXED BY batch_rows_by_status
        WHERE q.batch_id = (SELECT id FROM target) AND q.status = 'queued'
          AND (q.not_before IS NULL OR q.not_before <= ?1)
        ORDER BY q.row_index LIMIT (SELECT take FROM target))
    UNION ALL
    SELECT row_index FROM (
        SELECT e.row_index FROM batch_rows e INDEXED BY batch_rows_by_status
        WHERE e.batch_id = (SELECT id FROM target) AND e.status = 'running'
          AND e.lease_expires_at <= ?1
        ORDER BY e.row_index LIMIT (SELECT take FROM target))
    ORDER BY 1 LIMIT (SELECT take FROM target)
)
AND (status = 'queued' OR (status = 'running' AND lease_expires_at <= ?1))
RETURNING batch_id, row_index, attempt,
    (SELECT d.cells FROM batches b JOIN dataset_rows d ON d.dataset_id = b.dataset_id
     WHERE b.id = batch_rows.batch_id AND d.row_index = batch_rows.row_index),
    (SELECT more FROM target)";

/// What one claim handed out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claim {
    /// The rows now held, in row order; all of one batch.
    pub rows: Vec<ClaimedRow>,
    /// Another running batch could run a row now too: claim again before waiting.
    pub more: bool,
}

/// Claims up to `max` rows to run, holding each for `lease` (the heartbeat extends it): the
/// lowest queued rows, or running rows whose lease expired, of the lowest running batch that has
/// fewer rows in flight than its concurrency and a row to run, as many as it has free slots. A
/// batch with concurrency 1 thus runs in row order. No rows when there is nothing to do.
#[tracing::instrument(skip_all)]
pub async fn claim(db: &Database, lease: Duration, max: usize) -> Result<Claim, StoreError> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    if max == 0 {
        return Ok(Claim::default());
    }
    let now = Timestamp::now();
    let claimed: Vec<(i64, i64, i64, Option<String>, bool)> = sqlx::query_as(CLAIM)
        .bind(now)
        .bind(millis(lease))
        .bind(max)
        .fetch_all(&mut *db.writer().await?)
        .await?;
    let mut claim = Claim {
        more: claimed.first().is_some_and(|row| row.4),
        rows: Vec::with_capacity(claimed.len()),
    };
    for (batch_id, row_index, attempt, cells, _) in claimed {
        let Some(cells) = cells else {
            // Nothing could ever run this row; failing it keeps it from being claimed forever.
            tracing::warn!(batch_id, row_index, "the batch's dataset row is missing");
            let outcome = RowOutcome::Failed {
                error: format!("Row {} of the dataset is missing.", row_index + 1),
                latency_ms: 0,
                input_tokens: None,
                output_tokens: None,
                cost_usd: None,
            };
            finish_row(db, batch_id, row_index, attempt, outcome).await?;
            // Its slot is free again.
            claim.more = true;
            continue;
        };
        claim.rows.push(ClaimedRow {
            batch_id,
            row_index,
            claim: attempt,
            cells: serde_json::from_str(&cells).map_err(|e| corrupt("row cells", e))?,
        });
    }
    // RETURNING promises no order.
    claim.rows.sort_by_key(|row| row.row_index);
    Ok(claim)
}

/// Claims the next row to run, as [`claim`] does with room for one. `None` when there is
/// nothing to do.
pub async fn claim_next(db: &Database, lease: Duration) -> Result<Option<ClaimedRow>, StoreError> {
    loop {
        let claim = claim(db, lease, 1).await?;
        match claim.rows.into_iter().next() {
            Some(row) => return Ok(Some(row)),
            // The claimed row was failed for a missing dataset row: look again.
            None if claim.more => continue,
            None => return Ok(None),
        }
    }
}

/// Extends the lease of a claimed row to `lease` from now. False when the claim is no longer
/// the row's (its lease expired and the row was claimed again, or the batch was cancelled): the
/// holder should stop working on it.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn heartbeat(
    db: &Database,
    batch_id: i64,
    row_index: i64,
    claim: i64,
    lease: Duration,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE batch_rows SET lease_expires_at = ? \
         WHERE batch_id = ? AND row_index = ? AND attempt = ? AND status = 'running'",
    )
    .bind(Timestamp::now().as_millis().saturating_add(millis(lease)))
    .bind(batch_id)
    .bind(row_index)
    .bind(claim)
    .execute(&mut *db.writer().await?)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records one provider call. Calls of stale claims are recorded too: they were made and paid for.
#[tracing::instrument(skip_all, fields(batch_id = attempt.batch_id))]
pub async fn record_attempt(db: &Database, attempt: &AttemptRecord) -> Result<(), StoreError> {
    insert_attempt(&mut *db.writer().await?, attempt).await
}

async fn insert_attempt<'c>(
    executor: impl sqlx::Executor<'c, Database = Sqlite>,
    attempt: &AttemptRecord,
) -> Result<(), StoreError> {
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO row_attempts (batch_id, row_index, claim, call_no, started_at, latency_ms, \
         http_status, request, raw_response, outcome, error, input_tokens, output_tokens, \
         cost_usd) ",
    );
    insert.push_values([attempt], |mut row, a| push_attempt(&mut row, a));
    insert.build().execute(executor).await?;
    Ok(())
}

/// Binds a call's values in the column order of the `row_attempts` inserts.
fn push_attempt(row: &mut Separated<'_, '_, Sqlite, &'static str>, a: &AttemptRecord) {
    row.push_bind(a.batch_id)
        .push_bind(a.row_index)
        .push_bind(a.claim)
        .push_bind(a.call_no)
        .push_bind(a.started_at)
        .push_bind(a.latency_ms)
        .push_bind(a.http_status)
        .push_bind(a.request.as_ref().map(Value::to_string))
        .push_bind(a.raw_response.clone())
        .push_bind(a.outcome)
        .push_bind(a.error.clone())
        .push_bind(a.input_tokens)
        .push_bind(a.output_tokens)
        .push_bind(a.cost_usd);
}

/// Completes batch ?2 at time ?1 if it is running and has no queued or running rows left. It
/// runs after every finished row, hence the index seek rather than a walk over the batch.
const SETTLE: &str = "UPDATE batches SET status = 'completed', finished_at = ?1 \
     WHERE id = ?2 AND status = 'running' AND NOT EXISTS ( \
         SELECT 1 FROM batch_rows INDEXED BY batch_rows_by_status \
         WHERE batch_id = ?2 AND status IN ('queued', 'running'))";

async fn settle(tx: &mut Transaction<'_, Sqlite>, batch_id: i64) -> Result<(), StoreError> {
    sqlx::query(SETTLE)
        .bind(Timestamp::now())
        .bind(batch_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the batch's counters from its rows (after rows went back to the queue), and moves its
/// answers version on: answers may be gone.
async fn recount(tx: &mut Transaction<'_, Sqlite>, batch_id: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE batches SET \
         done_rows = (SELECT COUNT(*) FROM batch_rows INDEXED BY batch_rows_by_status \
                      WHERE batch_id = ?1 AND status = 'succeeded'), \
         failed_rows = (SELECT COUNT(*) FROM batch_rows INDEXED BY batch_rows_by_status \
                        WHERE batch_id = ?1 AND status = 'failed'), \
         answers_version = answers_version + 1 \
         WHERE id = ?1",
    )
    .bind(batch_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A claim's result, to write with [`finish_rows`].
#[derive(Debug, Clone, PartialEq)]
pub struct RowResult {
    pub batch_id: i64,
    pub row_index: i64,
    /// The claim the result was reached under: the fence.
    pub claim: i64,
    pub outcome: RowOutcome,
    /// The call that settled the row, recorded in the same transaction (one commit instead of
    /// two for the usual row, which ends with its call). Recorded even when the claim turns out
    /// stale, as [`record_attempt`] would.
    pub last_call: Option<AttemptRecord>,
}

/// Writes one claim's result; see [`finish_rows`]. False, with nothing written, when `claim` is
/// no longer the row's.
pub async fn finish_row(
    db: &Database,
    batch_id: i64,
    row_index: i64,
    claim: i64,
    outcome: RowOutcome,
) -> Result<bool, StoreError> {
    let result = RowResult {
        batch_id,
        row_index,
        claim,
        outcome,
        last_call: None,
    };
    let written = finish_rows(db, std::slice::from_ref(&result)).await?;
    Ok(written.first().copied().unwrap_or(false))
}

/// The most rows one statement writes: SQLite allows 32,766 bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// Writes claims' results, counts them on their batches and completes each batch whose last row
/// this was, all in one transaction whatever the number of rows: a handful of statements, not a
/// handful per row. Each result is fenced on its claim: the answer, in `results`' order, is
/// false for a claim that is no longer the row's, whose result is dropped, so a stale attempt
/// never overwrites a newer one and a row never gets two results.
#[tracing::instrument(skip_all, fields(rows = results.len()))]
pub async fn finish_rows(db: &Database, results: &[RowResult]) -> Result<Vec<bool>, StoreError> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let now = Timestamp::now();
    // The fenced write comes first so the transaction takes the write lock at once (a read
    // first would risk SQLITE_BUSY on the upgrade, which the busy timeout does not cover).
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let mut written = std::collections::HashSet::new();
    for chunk in results.chunks(ROWS_PER_STATEMENT) {
        let mut update = QueryBuilder::<Sqlite>::new(
            "UPDATE batch_rows SET status = v.column4, result = v.column5, error = v.column6, \
             latency_ms = v.column7, input_tokens = v.column8, output_tokens = v.column9, \
             cost_usd = v.column10, lease_expires_at = NULL, finished_at = ",
        );
        update.push_bind(now).push(" FROM (");
        update.push_values(chunk, |mut row, r| {
            let (status, result, error, usage) = match &r.outcome {
                RowOutcome::Succeeded {
                    result,
                    latency_ms,
                    input_tokens,
                    output_tokens,
                    cost_usd,
                } => (
                    RowStatus::Succeeded,
                    Some(result.to_string()),
                    None,
                    (*latency_ms, *input_tokens, *output_tokens, *cost_usd),
                ),
                RowOutcome::Failed {
                    error,
                    latency_ms,
                    input_tokens,
                    output_tokens,
                    cost_usd,
                } => (
                    RowStatus::Failed,
                    None,
                    Some(error.clone()),
                    (*latency_ms, *input_tokens, *output_tokens, *cost_usd),
                ),
            };
            row.push_bind(r.batch_id)
                .push_bind(r.row_index)
                .push_bind(r.claim)
                .push_bind(status)
                .push_bind(result)
                .push_bind(error)
                .push_bind(usage.0)
                .push_bind(usage.1)
                .push_bind(usage.2)
                .push_bind(usage.3);
        });
        update.push(
            ") AS v WHERE batch_rows.batch_id = v.column1 AND batch_rows.row_index = v.column2 \
             AND batch_rows.attempt = v.column3 AND batch_rows.status = 'running' \
             RETURNING batch_rows.batch_id, batch_rows.row_index, batch_rows.attempt",
        );
        let rows: Vec<(i64, i64, i64)> = update.build_query_as().fetch_all(&mut *tx).await?;
        written.extend(rows);
    }
    let calls: Vec<&AttemptRecord> = results
        .iter()
        .filter_map(|r| r.last_call.as_ref())
        .collect();
    for chunk in calls.chunks(ROWS_PER_STATEMENT / 2) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO row_attempts (batch_id, row_index, claim, call_no, started_at, \
             latency_ms, http_status, request, raw_response, outcome, error, input_tokens, \
             output_tokens, cost_usd) ",
        );
        insert.push_values(chunk, |mut row, a| {
            push_attempt(&mut row, a);
        });
        insert.build().execute(&mut *tx).await?;
    }
    let answers: Vec<bool> = results
        .iter()
        .map(|r| written.contains(&(r.batch_id, r.row_index, r.claim)))
        .collect();
    // Counted per batch, in batch order: the same lock order in every transaction.
    let mut counts = std::collections::BTreeMap::<i64, (i64, i64)>::new();
    for (r, _) in results
        .iter()
        .zip(&answers)
        .filter(|(_, written)| **written)
    {
        let count = counts.entry(r.batch_id).or_default();
        match r.outcome {
            RowOutcome::Succeeded { .. } => count.0 += 1,
            RowOutcome::Failed { .. } => count.1 += 1,
        }
    }
    for (batch_id, (succeeded, failed)) in counts {
        sqlx::query(
            "UPDATE batches SET done_rows = done_rows + ?, failed_rows = failed_rows + ?, \
             answers_version = answers_version + 1 WHERE id = ?",
        )
        .bind(succeeded)
        .bind(failed)
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        settle(&mut tx, batch_id).await?;
    }
    tx.commit().await?;
    Ok(answers)
}

/// Puts a claimed row back in the queue without a result (its batch was paused under it). False
/// when the claim is no longer the row's.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn release_row(
    db: &Database,
    batch_id: i64,
    row_index: i64,
    claim: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE batch_rows SET status = 'queued', lease_expires_at = NULL \
         WHERE batch_id = ? AND row_index = ? AND attempt = ? AND status = 'running'",
    )
    .bind(batch_id)
    .bind(row_index)
    .bind(claim)
    .execute(&mut *db.writer().await?)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts every row still leased (running) back in the queue at once, in every batch; how many.
///
/// **For start-up only, and only valid because one process serves a SQLite database**: at
/// start-up every lease was taken by an earlier process, which is gone (crashed, killed, lost
/// power), so its rows need not hold their batches' slots until the leases run out. With
/// several servers on one database (PostgreSQL, later) this would take a live server's rows
/// from it; leases will then have to name the process holding them.
///
/// The fence holds: a row keeps its `attempt` and the next claim moves it on, so a late
/// heartbeat or result of the earlier claim (were its process somehow still alive) finds the
/// row queued or claimed anew and is refused, as after an expired lease.
#[tracing::instrument(skip_all)]
pub async fn reclaim_leases_at_startup(db: &Database) -> Result<u64, StoreError> {
    // Per batch, so each lookup is an index seek rather than a walk over every row.
    let done = sqlx::query(
        "UPDATE batch_rows INDEXED BY batch_rows_by_status \
         SET status = 'queued', lease_expires_at = NULL \
         WHERE batch_id IN (SELECT id FROM batches) AND status = 'running'",
    )
    .execute(&mut *db.writer().await?)
    .await?;
    Ok(done.rows_affected())
}

/// The frozen configuration of batch `batch_id`, for the worker (no owner check).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn batch_config(db: &Database, batch_id: i64) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = sqlx::query_scalar("SELECT config FROM batches WHERE id = ?")
        .bind(batch_id)
        .fetch_optional(db.pool())
        .await?;
    parse_json("batch configuration", text)
}

/// Pauses the `owner`'s running (or queued) batch; rows in flight finish, no new ones start.
/// False if the batch is not theirs or not running.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn pause(
    db: &Database,
    owner: &str,
    batch_id: i64,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    set_paused(db.pool(), Some(owner), batch_id, reason).await
}

/// Pauses a running batch for the worker, saying why. False if it was not running, so the
/// first reason given is the one kept.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn pause_for(db: &Database, batch_id: i64, reason: &str) -> Result<bool, StoreError> {
    set_paused(&mut *db.writer().await?, None, batch_id, Some(reason)).await
}

/// Pauses batch `batch_id` (of `owner`, if given) if it is running or queued.
async fn set_paused<'c>(
    executor: impl sqlx::Executor<'c, Database = Sqlite>,
    owner: Option<&str>,
    batch_id: i64,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE batches SET status = 'paused', pause_reason = ?1 \
         WHERE id = ?2 AND (?3 IS NULL OR owner = ?3) AND status IN ('running', 'queued')",
    )
    .bind(reason)
    .bind(batch_id)
    .bind(owner)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pauses a running batch once `limit` of its rows have failed (the batch's error policy); the
/// reason names the count. True if this call paused it.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn pause_after_failures(
    db: &Database,
    batch_id: i64,
    limit: u64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE batches SET status = 'paused', \
         pause_reason = 'Paused after ' || failed_rows || \
             CASE failed_rows WHEN 1 THEN ' failed row' ELSE ' failed rows' END || ' (error policy).' \
         WHERE id = ? AND status = 'running' AND failed_rows >= ?",
    )
    .bind(batch_id)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .execute(&mut *db.writer().await?)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Resumes the `owner`'s paused batch (completing it at once if nothing is left to run).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn resume(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    let resume = "status = 'running', pause_reason = NULL WHERE status = 'paused'";
    if !change_batch(&mut tx, owner, batch_id, resume).await? {
        return Ok(false);
    }
    settle(&mut tx, batch_id).await?;
    tx.commit().await?;
    Ok(true)
}

/// Cancels the `owner`'s unfinished batch: its queued rows, and the rows in flight, end as
/// cancelled (the worker notices at its next heartbeat and drops the call).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn cancel(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    let cancel = "status = 'cancelled', finished_at = ?3, pause_reason = NULL \
         WHERE status IN ('queued', 'running', 'paused')";
    if !change_batch(&mut tx, owner, batch_id, cancel).await? {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE batch_rows SET status = 'cancelled', lease_expires_at = NULL \
         WHERE batch_id = ? AND status IN ('queued', 'running')",
    )
    .bind(batch_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Applies `change` to the `owner`'s batch `batch_id` in `tx`: the `SET` part of an update of
/// `batches` and a `WHERE` condition (`?3` is the time now), to which the batch and its owner
/// are added. True if the batch is theirs and met the condition.
async fn change_batch(
    tx: &mut Transaction<'_, Sqlite>,
    owner: &str,
    batch_id: i64,
    change: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(&format!(
        "UPDATE batches SET {change} AND id = ?1 AND owner = ?2"
    ))
    .bind(batch_id)
    .bind(owner)
    .bind(Timestamp::now())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Clears a row's result so it runs again.
const REQUEUE: &str = "status = 'queued', result = NULL, error = NULL, finished_at = NULL, \
     latency_ms = NULL, input_tokens = NULL, output_tokens = NULL, cost_usd = NULL, \
     lease_expires_at = NULL, not_before = NULL";

/// Keeps the answers of the rows of batch ?2 that [`REQUEUE`] is about to clear, stamped with
/// the time ?1; the caller adds the condition choosing the rows (`AND ...`).
const KEEP_ANSWERS: &str = "INSERT INTO row_history (batch_id, row_index, claim, status, result, \
     error, started_at, finished_at, latency_ms, input_tokens, output_tokens, cost_usd, \
     replaced_at) \
     SELECT batch_id, row_index, attempt, status, result, error, started_at, finished_at, \
     latency_ms, input_tokens, output_tokens, cost_usd, ?1 FROM batch_rows WHERE batch_id = ?2";

/// Puts the failed rows of the `owner`'s batch back in the queue and runs the batch again; each
/// row's error is kept among its earlier answers.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn retry_failed(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    // Only a batch that has failed rows, and was not cancelled, is retried: otherwise this would
    // quietly resume a paused batch or bring a cancelled one back.
    let rerun = "status = 'running', finished_at = NULL, pause_reason = NULL \
         WHERE status IN ('running', 'completed', 'failed') \
         AND EXISTS (SELECT 1 FROM batch_rows WHERE batch_id = batches.id AND status = 'failed')";
    if !change_batch(&mut tx, owner, batch_id, rerun).await? {
        return Ok(false);
    }
    sqlx::query(&format!("{KEEP_ANSWERS} AND status = 'failed'"))
        .bind(Timestamp::now())
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "UPDATE batch_rows SET {REQUEUE} WHERE batch_id = ? AND status = 'failed'"
    ))
    .bind(batch_id)
    .execute(&mut *tx)
    .await?;
    recount(&mut tx, batch_id).await?;
    settle(&mut tx, batch_id).await?;
    tx.commit().await?;
    Ok(true)
}

/// Runs one finished (succeeded or failed) row of the `owner`'s batch again, the batch with it;
/// the answer it had is kept among its earlier answers. False if the batch is not theirs or the
/// row is not finished.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn retry_row(
    db: &Database,
    owner: &str,
    batch_id: i64,
    row_index: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    let rerun = "status = 'running', finished_at = NULL, pause_reason = NULL WHERE 1";
    if !change_batch(&mut tx, owner, batch_id, rerun).await? {
        return Ok(false);
    }
    sqlx::query(&format!(
        "{KEEP_ANSWERS} AND row_index = ?3 AND status IN ('succeeded', 'failed')"
    ))
    .bind(Timestamp::now())
    .bind(batch_id)
    .bind(row_index)
    .execute(&mut *tx)
    .await?;
    let requeued = sqlx::query(&format!(
        "UPDATE batch_rows SET {REQUEUE} \
         WHERE batch_id = ? AND row_index = ? AND status IN ('succeeded', 'failed')"
    ))
    .bind(batch_id)
    .bind(row_index)
    .execute(&mut *tx)
    .await?;
    if requeued.rows_affected() != 1 {
        return Ok(false);
    }
    recount(&mut tx, batch_id).await?;
    tx.commit().await?;
    Ok(true)
}

/// Overrides how many rows of the `owner`'s batch run at once (otherwise its settings say).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn set_concurrency(
    db: &Database,
    owner: &str,
    batch_id: i64,
    concurrency: u32,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE batches SET concurrency = ? WHERE id = ? AND owner = ?")
        .bind(concurrency.max(1))
        .bind(batch_id)
        .bind(owner)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
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
    let owned: Option<i64> =
        sqlx::query_scalar("SELECT id FROM batches WHERE id = ? AND owner = ?")
            .bind(batch_id)
            .bind(owner)
            .fetch_optional(db.pool())
            .await?;
    if owned.is_none() {
        return Ok(None);
    }
    let after = after.unwrap_or(-1);
    // Two statements rather than `(? IS NULL OR status = ?)`, which would hide the index.
    let records: Vec<RowRecord> = match status {
        Some(status) => {
            sqlx::query_as(&format!(
                "SELECT {ROW_COLUMNS} FROM batch_rows \
                 WHERE batch_id = ? AND status = ? AND row_index > ? ORDER BY row_index LIMIT ?"
            ))
            .bind(batch_id)
            .bind(status)
            .bind(after)
            .bind(limit)
            .fetch_all(db.pool())
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "SELECT {ROW_COLUMNS} FROM batch_rows \
                 WHERE batch_id = ? AND row_index > ? ORDER BY row_index LIMIT ?"
            ))
            .bind(batch_id)
            .bind(after)
            .bind(limit)
            .fetch_all(db.pool())
            .await?
        }
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
    let record: Option<DetailRecord> = sqlx::query_as(
        "SELECT r.row_index, r.status, r.attempt, r.result, r.error, r.finished_at, r.latency_ms, \
         r.input_tokens, r.output_tokens, r.cost_usd, r.started_at, d.cells \
         FROM batch_rows r JOIN batches b ON b.id = r.batch_id \
         LEFT JOIN dataset_rows d ON d.dataset_id = b.dataset_id AND d.row_index = r.row_index \
         WHERE r.batch_id = ? AND r.row_index = ? AND b.owner = ?",
    )
    .bind(batch_id)
    .bind(row_index)
    .bind(owner)
    .fetch_optional(db.pool())
    .await?;
    let Some(record) = record else {
        return Ok(None);
    };
    let attempts: Vec<AttemptRow> = sqlx::query_as(
        "SELECT batch_id, row_index, claim, call_no, started_at, latency_ms, http_status, request, \
         raw_response, outcome, error, input_tokens, output_tokens, cost_usd FROM row_attempts \
         WHERE batch_id = ? AND row_index = ? ORDER BY claim, call_no",
    )
    .bind(batch_id)
    .bind(row_index)
    .fetch_all(db.pool())
    .await?;
    let earlier: Vec<EarlierRecord> = sqlx::query_as(
        "SELECT claim, status, result, error, started_at, finished_at, latency_ms, input_tokens, \
         output_tokens, cost_usd, replaced_at FROM row_history \
         WHERE batch_id = ? AND row_index = ? ORDER BY claim",
    )
    .bind(batch_id)
    .bind(row_index)
    .fetch_all(db.pool())
    .await?;
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
    let (calls, input_tokens, output_tokens, cost_usd): (i64, i64, i64, f64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), \
         COALESCE(SUM(cost_usd), 0.0) FROM row_attempts WHERE batch_id = ?",
    )
    .bind(batch_id)
    .fetch_one(db.pool())
    .await?;
    let pause_reason: Option<Option<String>> =
        sqlx::query_scalar("SELECT pause_reason FROM batches WHERE id = ?")
            .bind(batch_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(BatchTotals {
        calls,
        input_tokens,
        output_tokens,
        cost_usd,
        pause_reason: pause_reason.flatten(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::batches::{self, BatchStatus, DatasetBatch};
    use crate::database::tests::fresh_database;
    use crate::datasets;

    const LEASE: Duration = Duration::from_secs(60);

    async fn dataset(db: &Database, owner: &str, rows: i64) -> i64 {
        datasets::create_from_cells(db, owner, "d", (0..rows).map(|i| vec![format!("cell {i}")]))
            .await
            .expect("dataset")
    }

    /// A running batch of `rows` rows for `owner` that runs `concurrency` rows at once.
    pub(crate) async fn batch(db: &Database, owner: &str, rows: i64, concurrency: u32) -> i64 {
        let dataset_id = dataset(db, owner, rows).await;
        let config =
            serde_json::json!({ "recipe": { "settings": { "concurrency": concurrency } } });
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
    async fn claim_expired(db: &Database) -> ClaimedRow {
        claim_next(db, Duration::ZERO)
            .await
            .expect("claim")
            .expect("a row to claim")
    }

    async fn nothing_to_claim(db: &Database) -> bool {
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

    fn failed(error: &str) -> RowOutcome {
        RowOutcome::Failed {
            error: error.to_string(),
            latency_ms: 3,
            input_tokens: None,
            output_tokens: None,
            cost_usd: None,
        }
    }

    async fn status_of(db: &Database, id: i64) -> BatchStatus {
        batches::find(db, "alice", id)
            .await
            .expect("query")
            .expect("batch")
            .summary
            .status
    }

    async fn summary(db: &Database, id: i64) -> batches::BatchSummary {
        batches::find(db, "alice", id)
            .await
            .expect("query")
            .expect("batch")
            .summary
    }

    #[tokio::test]
    async fn rows_are_claimed_in_row_order_with_their_cells_and_a_first_fence() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 3, 3).await;
        for expected in 0..3 {
            let row = claim(&db).await;
            assert_eq!((row.batch_id, row.row_index, row.claim), (id, expected, 1));
            assert_eq!(row.cells, [format!("cell {expected}")]);
        }
        assert!(nothing_to_claim(&db).await);
    }

    #[tokio::test]
    async fn a_sequential_batch_hands_out_its_next_row_only_after_the_previous_finished() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 3, 1).await;
        for expected in 0..3 {
            let row = claim(&db).await;
            assert_eq!(row.row_index, expected);
            assert!(nothing_to_claim(&db).await, "one row at a time");
            assert!(
                finish_row(&db, id, row.row_index, row.claim, succeeded(expected))
                    .await
                    .expect("finish")
            );
        }
        assert!(nothing_to_claim(&db).await);
    }

    #[tokio::test]
    async fn a_batch_at_its_concurrency_leaves_the_next_claim_to_the_next_batch() {
        let (db, _dir) = fresh_database().await;
        let first = batch(&db, "alice", 5, 2).await;
        let second = batch(&db, "alice", 5, 1).await;
        let claimed: Vec<(i64, i64)> = [claim(&db).await, claim(&db).await, claim(&db).await]
            .iter()
            .map(|row| (row.batch_id, row.row_index))
            .collect();
        assert_eq!(claimed, [(first, 0), (first, 1), (second, 0)]);
        assert!(nothing_to_claim(&db).await);
    }

    #[tokio::test]
    async fn one_claim_fills_a_batch_free_slots_in_row_order_and_says_when_another_batch_waits() {
        let (db, _dir) = fresh_database().await;
        let first = batch(&db, "alice", 6, 3).await;
        let second = batch(&db, "alice", 4, 2).await;
        let rows = |c: &Claim| -> Vec<(i64, i64)> {
            c.rows.iter().map(|r| (r.batch_id, r.row_index)).collect()
        };
        let taken = super::claim(&db, LEASE, 2).await.expect("claim");
        assert_eq!(rows(&taken), [(first, 0), (first, 1)], "no more than asked");
        assert!(taken.more);
        let taken = super::claim(&db, LEASE, 10).await.expect("claim");
        assert_eq!(
            rows(&taken),
            [(first, 2)],
            "no more than the batch's free slots"
        );
        assert!(taken.more, "the second batch could run rows too");
        let taken = super::claim(&db, LEASE, 10).await.expect("claim");
        assert_eq!(rows(&taken), [(second, 0), (second, 1)]);
        assert!(!taken.more, "nothing after the last batch");
        assert_eq!(
            super::claim(&db, LEASE, 10).await.expect("claim"),
            Claim::default()
        );
        assert_eq!(
            super::claim(&db, LEASE, 0).await.expect("claim"),
            Claim::default()
        );
    }

    #[tokio::test]
    async fn finishing_with_the_last_call_records_it_even_when_the_claim_went_stale() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let stale = claim_expired(&db).await;
        let fresh = claim(&db).await;
        let result = |claim: i64, answer: i64| RowResult {
            batch_id: id,
            row_index: 0,
            claim,
            outcome: succeeded(answer),
            last_call: Some(attempt(id, claim, 1, AttemptOutcome::Ok)),
        };
        let written = finish_rows(&db, &[result(stale.claim, 1), result(fresh.claim, 2)])
            .await
            .expect("finish");
        assert_eq!(written, [false, true]);
        let detail = row_detail(&db, "alice", id, 0)
            .await
            .expect("query")
            .expect("row");
        assert_eq!(detail.result, Some(serde_json::json!({ "answer": 2 })));
        assert_eq!(
            detail.attempts.iter().map(|a| a.claim).collect::<Vec<_>>(),
            [stale.claim, fresh.claim]
        );
        assert_eq!(summary(&db, id).await.status, BatchStatus::Completed);
    }

    #[tokio::test]
    async fn many_results_written_at_once_are_counted_per_batch_and_complete_each_batch() {
        let (db, _dir) = fresh_database().await;
        let first = batch(&db, "alice", 3, 3).await;
        let second = batch(&db, "alice", 2, 2).await;
        let mut results = Vec::new();
        for _ in 0..5 {
            let row = claim(&db).await;
            let outcome = if row.row_index == 1 {
                failed("no")
            } else {
                succeeded(row.row_index)
            };
            results.push(RowResult {
                batch_id: row.batch_id,
                row_index: row.row_index,
                claim: row.claim,
                outcome,
                last_call: Some(AttemptRecord {
                    row_index: row.row_index,
                    ..attempt(row.batch_id, row.claim, 1, AttemptOutcome::Ok)
                }),
            });
        }
        results.reverse();
        let written = finish_rows(&db, &results).await.expect("finish");
        assert_eq!(written, [true; 5]);
        let first = summary(&db, first).await;
        let second = summary(&db, second).await;
        assert_eq!((first.done_rows, first.failed_rows), (2, 1));
        assert_eq!((second.done_rows, second.failed_rows), (1, 1));
        assert_eq!(first.status, BatchStatus::Completed);
        assert_eq!(second.status, BatchStatus::Completed);
        let calls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM row_attempts")
            .fetch_one(db.pool())
            .await
            .expect("count");
        assert_eq!(calls, 5);
        assert!(finish_rows(&db, &[]).await.expect("nothing").is_empty());
    }

    #[tokio::test]
    async fn the_concurrency_override_wins_over_the_settings() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 5, 1).await;
        assert!(set_concurrency(&db, "alice", id, 3).await.expect("set"));
        assert!(!set_concurrency(&db, "bob", id, 5).await.expect("set"));
        for _ in 0..3 {
            claim(&db).await;
        }
        assert!(nothing_to_claim(&db).await);
    }

    #[tokio::test]
    async fn an_expired_lease_is_claimed_again_under_a_new_fence() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        let first = claim_expired(&db).await;
        let again = claim(&db).await;
        assert_eq!((again.batch_id, again.row_index), (id, first.row_index));
        assert_eq!(again.claim, first.claim + 1);
        assert!(nothing_to_claim(&db).await, "the new lease counts again");
    }

    #[tokio::test]
    async fn at_start_up_rows_leased_by_the_previous_process_are_claimed_again_at_once_under_a_new_fence()
     {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 3, 2).await;
        let first = claim(&db).await;
        let second = claim(&db).await;
        assert!(
            nothing_to_claim(&db).await,
            "both slots are leased for a minute"
        );

        assert_eq!(reclaim_leases_at_startup(&db).await.expect("reclaim"), 2);
        let again = claim_next(&db, LEASE)
            .await
            .expect("claim")
            .expect("the first row is free again");
        assert_eq!(
            (again.row_index, again.claim),
            (first.row_index, first.claim + 1)
        );
        let next = claim(&db).await;
        assert_eq!(
            (next.row_index, next.claim),
            (second.row_index, second.claim + 1)
        );

        // A late heartbeat or result of the earlier claims is refused.
        assert!(
            !heartbeat(&db, id, first.row_index, first.claim, LEASE)
                .await
                .expect("heartbeat")
        );
        assert!(
            !finish_row(&db, id, first.row_index, first.claim, succeeded(1))
                .await
                .expect("finish")
        );
        assert!(
            finish_row(&db, id, again.row_index, again.claim, succeeded(2))
                .await
                .expect("finish")
        );
        assert_eq!(summary(&db, id).await.done_rows, 1);
        assert_eq!(
            reclaim_leases_at_startup(&db).await.expect("reclaim"),
            1,
            "only the row still running"
        );
    }

    #[tokio::test]
    async fn a_heartbeat_extends_only_the_current_claim() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let stale = claim_expired(&db).await;
        let current = claim_expired(&db).await;
        assert!(
            !heartbeat(&db, id, 0, stale.claim, LEASE)
                .await
                .expect("heartbeat")
        );
        assert!(
            heartbeat(&db, id, 0, current.claim, LEASE)
                .await
                .expect("heartbeat")
        );
        assert!(nothing_to_claim(&db).await, "the lease was extended");
    }

    #[tokio::test]
    async fn a_stale_claim_cannot_overwrite_the_newer_result() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let stale = claim_expired(&db).await;
        let current = claim(&db).await;
        assert!(
            !finish_row(&db, id, 0, stale.claim, failed("late"))
                .await
                .expect("finish")
        );
        assert!(
            finish_row(&db, id, 0, current.claim, succeeded(7))
                .await
                .expect("finish")
        );
        assert!(
            !finish_row(&db, id, 0, stale.claim, succeeded(1))
                .await
                .expect("finish")
        );
        assert!(
            !finish_row(&db, id, 0, current.claim, succeeded(2))
                .await
                .expect("finish"),
            "a row never gets a second result"
        );
        let detail = row_detail(&db, "alice", id, 0)
            .await
            .expect("query")
            .expect("row");
        assert_eq!(detail.result, Some(serde_json::json!({ "answer": 7 })));
        assert_eq!(detail.error, None);
        let summary = summary(&db, id).await;
        assert_eq!((summary.done_rows, summary.failed_rows), (1, 0));
    }

    #[tokio::test]
    async fn finished_rows_are_counted_and_the_last_one_completes_the_batch() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 3, 3).await;
        let rows = [claim(&db).await, claim(&db).await, claim(&db).await];
        finish_row(&db, id, 0, rows[0].claim, succeeded(0))
            .await
            .expect("finish");
        finish_row(&db, id, 1, rows[1].claim, failed("no"))
            .await
            .expect("finish");
        assert_eq!(status_of(&db, id).await, BatchStatus::Running);
        finish_row(&db, id, 2, rows[2].claim, succeeded(2))
            .await
            .expect("finish");
        let summary = summary(&db, id).await;
        assert_eq!(summary.status, BatchStatus::Completed);
        assert_eq!((summary.done_rows, summary.failed_rows), (2, 1));
        let finished: Option<i64> =
            sqlx::query_scalar("SELECT finished_at FROM batches WHERE id = ?")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .expect("query");
        assert!(finished.is_some());
    }

    #[tokio::test]
    async fn a_paused_batch_hands_out_no_rows_until_it_is_resumed() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        assert!(pause(&db, "alice", id, Some("lunch")).await.expect("pause"));
        assert!(nothing_to_claim(&db).await);
        assert_eq!(
            totals(&db, id)
                .await
                .expect("totals")
                .pause_reason
                .as_deref(),
            Some("lunch")
        );
        assert!(
            !pause(&db, "alice", id, None).await.expect("pause"),
            "already paused"
        );
        assert!(resume(&db, "alice", id).await.expect("resume"));
        assert_eq!(totals(&db, id).await.expect("totals").pause_reason, None);
        assert_eq!(claim(&db).await.row_index, 0);
        assert!(
            !resume(&db, "alice", id).await.expect("resume"),
            "not paused"
        );
    }

    #[tokio::test]
    async fn the_worker_keeps_the_first_pause_reason() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        assert!(pause_for(&db, id, "bad key").await.expect("pause"));
        assert!(!pause_for(&db, id, "another").await.expect("pause"));
        assert_eq!(
            totals(&db, id)
                .await
                .expect("totals")
                .pause_reason
                .as_deref(),
            Some("bad key")
        );
    }

    #[tokio::test]
    async fn resuming_a_batch_whose_last_rows_finished_while_paused_completes_it() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let row = claim(&db).await;
        assert!(pause(&db, "alice", id, None).await.expect("pause"));
        assert!(
            finish_row(&db, id, 0, row.claim, succeeded(0))
                .await
                .expect("finish"),
            "rows in flight finish while paused"
        );
        assert_eq!(status_of(&db, id).await, BatchStatus::Paused);
        assert!(resume(&db, "alice", id).await.expect("resume"));
        assert_eq!(status_of(&db, id).await, BatchStatus::Completed);
    }

    #[tokio::test]
    async fn a_released_row_goes_back_to_the_queue_and_is_claimed_first_again() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        let row = claim(&db).await;
        assert!(release_row(&db, id, 0, row.claim).await.expect("release"));
        assert!(!release_row(&db, id, 0, row.claim).await.expect("release"));
        let again = claim(&db).await;
        assert_eq!((again.row_index, again.claim), (0, row.claim + 1));
    }

    #[tokio::test]
    async fn cancelling_ends_queued_and_running_rows_and_fences_off_the_worker() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 3, 1).await;
        let row = claim(&db).await;
        assert!(!cancel(&db, "bob", id).await.expect("cancel"));
        assert!(cancel(&db, "alice", id).await.expect("cancel"));
        assert_eq!(status_of(&db, id).await, BatchStatus::Cancelled);
        assert!(
            !heartbeat(&db, id, 0, row.claim, LEASE)
                .await
                .expect("heartbeat")
        );
        assert!(
            !finish_row(&db, id, 0, row.claim, succeeded(0))
                .await
                .expect("finish")
        );
        let counts = batches::row_counts(&db, id).await.expect("counts");
        assert_eq!(counts.cancelled, 3);
        assert!(nothing_to_claim(&db).await);
        assert!(
            !cancel(&db, "alice", id).await.expect("cancel"),
            "already over"
        );
    }

    #[tokio::test]
    async fn retrying_failed_rows_requeues_them_and_recounts_the_batch() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 3, 3).await;
        let rows = [claim(&db).await, claim(&db).await, claim(&db).await];
        finish_row(&db, id, 0, rows[0].claim, failed("a"))
            .await
            .expect("finish");
        finish_row(&db, id, 1, rows[1].claim, succeeded(1))
            .await
            .expect("finish");
        finish_row(&db, id, 2, rows[2].claim, failed("c"))
            .await
            .expect("finish");
        assert_eq!(status_of(&db, id).await, BatchStatus::Completed);

        assert!(!retry_failed(&db, "bob", id).await.expect("retry"));
        assert!(retry_failed(&db, "alice", id).await.expect("retry"));
        let summary = summary(&db, id).await;
        assert_eq!(summary.status, BatchStatus::Running);
        assert_eq!((summary.done_rows, summary.failed_rows), (1, 0));
        let queued = rows_page(&db, "alice", id, Some(RowStatus::Queued), None, 10)
            .await
            .expect("query")
            .expect("owned");
        assert_eq!(
            queued.iter().map(|r| r.row_index).collect::<Vec<_>>(),
            [0, 2]
        );
        assert!(queued.iter().all(|r| r.error.is_none()));
        let finished_at: Option<i64> =
            sqlx::query_scalar("SELECT finished_at FROM batches WHERE id = ?")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .expect("query");
        assert_eq!(finished_at, None);
        let again = claim(&db).await;
        assert_eq!((again.row_index, again.claim), (0, 2));
    }

    #[tokio::test]
    async fn retrying_one_row_runs_only_that_row_again() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 2).await;
        let rows = [claim(&db).await, claim(&db).await];
        finish_row(&db, id, 0, rows[0].claim, succeeded(0))
            .await
            .expect("finish");
        assert!(
            !retry_row(&db, "alice", id, 1).await.expect("retry"),
            "a running row is not finished"
        );
        finish_row(&db, id, 1, rows[1].claim, succeeded(1))
            .await
            .expect("finish");
        assert!(!retry_row(&db, "bob", id, 0).await.expect("retry"));
        assert!(retry_row(&db, "alice", id, 0).await.expect("retry"));
        let summary = summary(&db, id).await;
        assert_eq!(summary.status, BatchStatus::Running);
        assert_eq!(summary.done_rows, 1);
        let again = claim(&db).await;
        assert_eq!(again.row_index, 0);
        assert!(nothing_to_claim(&db).await);
        finish_row(&db, id, 0, again.claim, succeeded(9))
            .await
            .expect("finish");
        assert_eq!(status_of(&db, id).await, BatchStatus::Completed);
    }

    #[tokio::test]
    async fn retrying_a_row_keeps_its_earlier_answer_in_its_history() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let first = claim(&db).await;
        finish_row(&db, id, 0, first.claim, succeeded(1))
            .await
            .expect("finish");
        let answered = row_detail(&db, "alice", id, 0)
            .await
            .expect("query")
            .expect("row");
        assert!(answered.earlier.is_empty());
        assert!(retry_row(&db, "alice", id, 0).await.expect("retry"));
        let second = claim(&db).await;
        finish_row(&db, id, 0, second.claim, failed("timed out"))
            .await
            .expect("finish");
        assert!(retry_row(&db, "alice", id, 0).await.expect("retry"));
        let third = claim(&db).await;
        finish_row(&db, id, 0, third.claim, succeeded(3))
            .await
            .expect("finish");

        let detail = row_detail(&db, "alice", id, 0)
            .await
            .expect("query")
            .expect("row");
        assert_eq!(detail.result, Some(serde_json::json!({ "answer": 3 })));
        assert_eq!(detail.earlier.len(), 2);
        let (old, failure) = (&detail.earlier[0], &detail.earlier[1]);
        assert_eq!(
            (old.claim, old.status, old.result.clone()),
            (first.claim, RowStatus::Succeeded, answered.result.clone())
        );
        assert_eq!(old.finished_at, answered.finished_at);
        assert_eq!(
            (old.input_tokens, old.output_tokens, old.cost_usd),
            (Some(10), Some(5), Some(0.001))
        );
        assert!(old.replaced_at >= answered.finished_at.expect("finished"));
        assert_eq!(
            (failure.claim, failure.status, failure.error.as_deref()),
            (second.claim, RowStatus::Failed, Some("timed out"))
        );
        assert_eq!(failure.result, None);
    }

    #[tokio::test]
    async fn retrying_failed_rows_keeps_each_error_and_no_answer_of_the_others() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 2).await;
        let rows = [claim(&db).await, claim(&db).await];
        finish_row(&db, id, 0, rows[0].claim, failed("bad json"))
            .await
            .expect("finish");
        finish_row(&db, id, 1, rows[1].claim, succeeded(1))
            .await
            .expect("finish");
        assert!(retry_failed(&db, "alice", id).await.expect("retry"));
        let retried = row_detail(&db, "alice", id, 0)
            .await
            .expect("query")
            .expect("row");
        assert_eq!(retried.error, None, "the row itself is cleared as before");
        assert_eq!(retried.earlier.len(), 1);
        assert_eq!(retried.earlier[0].error.as_deref(), Some("bad json"));
        let kept = row_detail(&db, "alice", id, 1)
            .await
            .expect("query")
            .expect("row");
        assert!(kept.earlier.is_empty());
    }

    #[tokio::test]
    async fn a_refused_retry_keeps_no_history() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 1, 1).await;
        let _running = claim(&db).await;
        assert!(!retry_row(&db, "alice", id, 0).await.expect("retry"));
        assert!(!retry_row(&db, "bob", id, 0).await.expect("retry"));
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM row_history")
            .fetch_one(db.pool())
            .await
            .expect("count");
        assert_eq!(kept, 0);
    }

    #[tokio::test]
    async fn the_error_policy_pauses_once_enough_rows_failed_and_says_how_many() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 5, 5).await;
        let rows = [claim(&db).await, claim(&db).await];
        finish_row(&db, id, 0, rows[0].claim, failed("x"))
            .await
            .expect("finish");
        assert!(!pause_after_failures(&db, id, 2).await.expect("pause"));
        finish_row(&db, id, 1, rows[1].claim, failed("y"))
            .await
            .expect("finish");
        assert!(pause_after_failures(&db, id, 2).await.expect("pause"));
        assert_eq!(status_of(&db, id).await, BatchStatus::Paused);
        assert_eq!(
            totals(&db, id)
                .await
                .expect("totals")
                .pause_reason
                .as_deref(),
            Some("Paused after 2 failed rows (error policy).")
        );
    }

    fn attempt(batch_id: i64, claim: i64, call_no: i64, outcome: AttemptOutcome) -> AttemptRecord {
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

    #[tokio::test]
    async fn other_owners_can_neither_steer_nor_read_a_batch() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        assert!(!pause(&db, "bob", id, None).await.expect("pause"));
        pause_for(&db, id, "held").await.expect("pause");
        assert!(!resume(&db, "bob", id).await.expect("resume"));
        assert!(!retry_failed(&db, "bob", id).await.expect("retry"));
        assert_eq!(
            rows_page(&db, "bob", id, None, None, 10)
                .await
                .expect("query"),
            None
        );
        assert_eq!(row_detail(&db, "bob", id, 0).await.expect("query"), None);
        assert_eq!(status_of(&db, id).await, BatchStatus::Paused);
    }

    #[tokio::test]
    async fn a_row_waiting_for_its_not_before_time_is_skipped() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 2).await;
        sqlx::query("UPDATE batch_rows SET not_before = ? WHERE batch_id = ? AND row_index = 0")
            .bind(Timestamp::now().as_millis() + 60_000)
            .bind(id)
            .execute(db.pool())
            .await
            .expect("update");
        assert_eq!(claim(&db).await.row_index, 1);
        assert!(nothing_to_claim(&db).await);
    }

    #[tokio::test]
    async fn a_row_whose_dataset_row_is_gone_fails_instead_of_being_claimed_forever() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        sqlx::query("DELETE FROM dataset_rows WHERE row_index = 0")
            .execute(db.pool())
            .await
            .expect("delete");
        assert_eq!(claim(&db).await.row_index, 1);
        let detail = row_detail(&db, "alice", id, 0)
            .await
            .expect("query")
            .expect("row");
        assert_eq!(detail.status, RowStatus::Failed);
        assert_eq!(detail.cells, None);
        assert_eq!(
            detail.error.as_deref(),
            Some("Row 1 of the dataset is missing.")
        );
    }

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
        sqlx::query("DELETE FROM batches WHERE id = ?")
            .bind(id)
            .execute(db.pool())
            .await
            .expect("delete");
        let left: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM row_attempts) + (SELECT COUNT(*) FROM row_history)",
        )
        .fetch_one(db.pool())
        .await
        .expect("count");
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn the_claim_finds_its_row_by_index_seeks_not_by_scanning() {
        let (db, _dir) = fresh_database().await;
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {CLAIM}"))
                .bind(0)
                .bind(0)
                .bind(1)
                .fetch_all(db.pool())
                .await
                .expect("plan");
        let detail: Vec<&str> = plan.iter().map(|(_, _, _, d)| d.as_str()).collect();
        // Scans of the one-row `target` and of the row lists it limits are fine; of a table, not.
        let table_scan = |d: &&str| {
            d.starts_with("SCAN") && *d != "SCAN target" && !d.starts_with("SCAN (subquery")
        };
        assert!(!detail.iter().any(table_scan), "{detail:#?}");
        let settle: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {SETTLE}"))
                .bind(0)
                .bind(0)
                .fetch_all(db.pool())
                .await
                .expect("plan");
        assert!(
            settle
                .iter()
                .any(|(_, _, _, d)| d.contains("USING COVERING INDEX batch_rows_by_status")),
            "{settle:#?}"
        );
        for lookup in ["q", "e", "r"] {
            assert!(
                detail.contains(
                    &format!(
                        "SEARCH {lookup} USING INDEX batch_rows_by_status (batch_id=? AND status=?)"
                    )
                    .as_str()
                ),
                "{detail:#?}"
            );
        }
    }
}
