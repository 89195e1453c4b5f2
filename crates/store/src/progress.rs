//! The reads behind a batch's live progress: a cheap change stamp, and the progress figures
//! (counts, spend, the rows finished since the last read) in one consistent snapshot.
//!
//! Nothing here checks the owner: call it after [`crate::batches::find`] said the batch is theirs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::batches::{BatchStatus, RowCounts};
use crate::database::{Dialect, on_pool};
use crate::queue::RowStatus;
use crate::{Database, StoreError, Timestamp};

/// What changes whenever a batch makes progress, read in one cheap query (a primary-key read and
/// an index seek): a watcher compares it with the last one before reading anything heavier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressStamp {
    pub status: BatchStatus,
    pub total_rows: i64,
    pub done_rows: i64,
    pub failed_rows: i64,
    /// Rows in flight.
    pub running: i64,
    pub pause_reason: Option<String>,
    /// From the start to the end, once the batch has ended (completed, failed or cancelled).
    pub ran_for_ms: Option<i64>,
}

type StampRecord = (BatchStatus, i64, i64, i64, Option<String>, i64, Option<i64>);

const STAMP: &str = "SELECT status, total_rows, done_rows, failed_rows, pause_reason, \
     (SELECT COUNT(*) FROM batch_rows INDEXED BY batch_rows_by_status \
      WHERE batch_id = batches.id AND status = 'running'), \
     CASE WHEN status IN ('completed', 'failed', 'cancelled') THEN finished_at - created_at END \
     FROM batches WHERE id = $1";

/// [`STAMP`] for PostgreSQL, which has no `INDEXED BY`: its planner takes the status index on its
/// own (an index-only scan, for this count and for the counts by status in [`progress`]).
const STAMP_POSTGRES: &str = "SELECT status, total_rows, done_rows, failed_rows, pause_reason, \
     (SELECT COUNT(*) FROM batch_rows \
      WHERE batch_id = batches.id AND status = 'running'), \
     CASE WHEN status IN ('completed', 'failed', 'cancelled') THEN finished_at - created_at END \
     FROM batches WHERE id = $1";

fn stamp(
    (status, total_rows, done_rows, failed_rows, pause_reason, running, ran_for_ms): StampRecord,
) -> ProgressStamp {
    ProgressStamp {
        status,
        total_rows,
        done_rows,
        failed_rows,
        running,
        pause_reason,
        ran_for_ms,
    }
}

/// Batch `batch_id`'s change stamp; `None` if the batch is gone.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn progress_stamp(
    db: &Database,
    batch_id: i64,
) -> Result<Option<ProgressStamp>, StoreError> {
    let record: Option<StampRecord> = on_pool!(db, |pool, dialect| {
        sqlx::query_as(dialect.pick(STAMP, STAMP_POSTGRES))
            .bind(batch_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(record.map(stamp))
}

/// What a batch's calls have cost, through the call with rowid `through` (every call, retries
/// and abandoned claims included, as on the batch page).
///
/// PostgreSQL's tables have no rowid, and no number it could hand out would grow in commit order
/// with several servers writing (a call numbered lower could commit after a read counted a
/// higher one, and be missed for good): there every read sums all the batch's calls, and
/// `through` stays 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    /// The newest `row_attempts` rowid counted: the next read adds only the calls after it
    /// (SQLite; 0 on PostgreSQL).
    pub through: i64,
}

/// A row that finished, as the live feed shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedRow {
    pub row_index: i64,
    pub status: RowStatus,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub latency_ms: Option<i64>,
    pub finished_at: Timestamp,
}

/// What [`progress`] reads.
#[derive(Debug, Clone)]
pub struct ProgressQuery {
    pub now: Timestamp,
    /// The spend read last time, to add the newer calls to; `None` sums every call once.
    pub spend: Option<Spend>,
    /// Finished rows with `finished_at` after this; `None` for the newest rows whatever their
    /// time.
    pub finished_after: Option<Timestamp>,
    /// At most this many finished rows (the newest).
    pub finished_limit: u32,
}

/// A batch's progress, all read from one snapshot of the database.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub stamp: ProgressStamp,
    /// When the batch started running.
    pub started_at: Option<Timestamp>,
    pub counts: RowCounts,
    pub spend: Spend,
    /// Rows whose `finished_at` lies within the minute before `now`.
    pub finished_last_minute: i64,
    /// Rows finished after `finished_after`, oldest first, at most `finished_limit` (the newest).
    pub finished: Vec<FinishedRow>,
}

type FinishedRecord = (
    i64,
    RowStatus,
    Option<String>,
    Option<String>,
    Option<i64>,
    Timestamp,
);

/// Batch `batch_id`'s progress; `None` if the batch is gone.
///
/// The counts walk the batch's entries of the status index and the finished rows walk the batch's
/// rows (SQLite has no index on `finished_at`), so a watcher should call this only when the
/// [`progress_stamp`] changed. The spend is incremental on SQLite: only calls recorded after
/// `query.spend.through` are read (PostgreSQL sums the batch's calls each time; see [`Spend`]).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn progress(
    db: &Database,
    batch_id: i64,
    query: ProgressQuery,
) -> Result<Option<Progress>, StoreError> {
    on_pool!(db, |pool, dialect| {
        // One read transaction: the counts, the counters and the feed agree with each other even
        // while the worker writes (WAL readers see one snapshot and never block the writer).
        // PostgreSQL gives each statement a snapshot of its own unless the transaction is
        // REPEATABLE READ; its readers never block writers either.
        let mut tx = match dialect {
            Dialect::Sqlite => pool.begin().await?,
            Dialect::Postgres => {
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?
            }
        };
        let record: Option<StampRecord> = sqlx::query_as(dialect.pick(STAMP, STAMP_POSTGRES))
            .bind(batch_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(record) = record else {
            return Ok(None);
        };
        let started_at: Option<Timestamp> =
            sqlx::query_scalar("SELECT started_at FROM batches WHERE id = $1")
                .bind(batch_id)
                .fetch_one(&mut *tx)
                .await?;
        let by_status: Vec<(RowStatus, i64)> = sqlx::query_as(dialect.pick(
            "SELECT status, COUNT(*) FROM batch_rows INDEXED BY batch_rows_by_status \
             WHERE batch_id = $1 GROUP BY status",
            "SELECT status, COUNT(*) FROM batch_rows WHERE batch_id = $1 GROUP BY status",
        ))
        .bind(batch_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut counts = RowCounts::default();
        for (status, n) in by_status {
            match status {
                RowStatus::Queued => counts.queued = n,
                RowStatus::Running => counts.running = n,
                RowStatus::Succeeded => counts.succeeded = n,
                RowStatus::Failed => counts.failed = n,
                RowStatus::Cancelled => counts.cancelled = n,
            }
        }

        let spend = match (dialect, query.spend) {
            // Rowids only grow (calls are never deleted but with their batch), so the calls after
            // `through` are exactly the new ones; the range scan touches nothing older.
            (Dialect::Sqlite, Some(before)) => {
                let (through, calls, input, output, cost): (Option<i64>, i64, i64, i64, f64) =
                    sqlx::query_as(
                        "SELECT MAX(rowid), COALESCE(SUM(batch_id = $2), 0), \
                         COALESCE(SUM(CASE WHEN batch_id = $2 THEN input_tokens END), 0), \
                         COALESCE(SUM(CASE WHEN batch_id = $2 THEN output_tokens END), 0), \
                         COALESCE(SUM(CASE WHEN batch_id = $2 THEN cost_usd END), 0.0) \
                         FROM row_attempts WHERE rowid > $1",
                    )
                    .bind(before.through)
                    .bind(batch_id)
                    .fetch_one(&mut *tx)
                    .await?;
                Spend {
                    calls: before.calls + calls,
                    input_tokens: before.input_tokens + input,
                    output_tokens: before.output_tokens + output,
                    cost_usd: before.cost_usd + cost,
                    through: through.unwrap_or(before.through),
                }
            }
            // Every call of the batch, through its primary key (the batch comes first in it).
            // SUM of BIGINTs is NUMERIC on PostgreSQL, hence the casts.
            _ => {
                let (calls, input, output, cost, through): (i64, i64, i64, f64, i64) =
                    sqlx::query_as(dialect.pick(
                        "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), \
                         COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost_usd), 0.0), \
                         (SELECT COALESCE(MAX(rowid), 0) FROM row_attempts) \
                         FROM row_attempts WHERE batch_id = $1",
                        "SELECT COUNT(*), CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), \
                         CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), \
                         COALESCE(SUM(cost_usd), 0.0), CAST(0 AS BIGINT) \
                         FROM row_attempts WHERE batch_id = $1",
                    ))
                    .bind(batch_id)
                    .fetch_one(&mut *tx)
                    .await?;
                Spend {
                    calls,
                    input_tokens: input,
                    output_tokens: output,
                    cost_usd: cost,
                    through,
                }
            }
        };

        let finished_last_minute: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM batch_rows WHERE batch_id = $1 AND finished_at > $2",
        )
        .bind(batch_id)
        .bind(query.now.as_millis().saturating_sub(60_000))
        .fetch_one(&mut *tx)
        .await?;

        let records: Vec<FinishedRecord> = sqlx::query_as(
            "SELECT row_index, status, result, error, latency_ms, finished_at FROM batch_rows \
             WHERE batch_id = $1 AND finished_at > $2 AND status IN ('succeeded', 'failed') \
             ORDER BY finished_at DESC, row_index DESC LIMIT $3",
        )
        .bind(batch_id)
        .bind(query.finished_after.map_or(i64::MIN, Timestamp::as_millis))
        // PostgreSQL's LIMIT takes a BIGINT (sqlx has no unsigned integers for it).
        .bind(i64::from(query.finished_limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(read_progress(
            record,
            started_at,
            counts,
            spend,
            finished_last_minute,
            records,
        )?))
    })
}

/// The progress as read, with each finished row's answer parsed.
fn read_progress(
    record: StampRecord,
    started_at: Option<Timestamp>,
    counts: RowCounts,
    spend: Spend,
    finished_last_minute: i64,
    mut records: Vec<FinishedRecord>,
) -> Result<Progress, StoreError> {
    records.reverse();
    let finished = records
        .into_iter()
        .map(
            |(row_index, status, result, error, latency_ms, finished_at)| -> Result<_, StoreError> {
                Ok(FinishedRow {
                    row_index,
                    status,
                    result: result
                        .map(|text| {
                            serde_json::from_str(&text)
                                .map_err(|e| StoreError::corrupt("row result", e))
                        })
                        .transpose()?,
                    error,
                    latency_ms,
                    finished_at,
                })
            },
        )
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Progress {
        stamp: stamp(record),
        started_at,
        counts,
        spend,
        finished_last_minute,
        finished,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;
    use crate::export::tests::{batch, run_one};
    use crate::testing::execute;
    use std::time::Duration;

    fn query(spend: Option<Spend>, finished_after: Option<Timestamp>) -> ProgressQuery {
        ProgressQuery {
            now: Timestamp::now(),
            spend,
            finished_after,
            finished_limit: 50,
        }
    }

    #[tokio::test]
    async fn the_stamp_changes_when_a_row_is_claimed_or_finished() {
        let (db, _dir) = fresh_database().await;
        let (id, _) = batch(&db, 3).await;
        let before = progress_stamp(&db, id)
            .await
            .expect("stamp")
            .expect("batch");
        assert_eq!(before.running, 0);
        run_one(&db, id).await;
        let after = progress_stamp(&db, id)
            .await
            .expect("stamp")
            .expect("batch");
        assert_ne!(before, after);
        assert_eq!(after.done_rows, 1);
        assert_eq!(progress_stamp(&db, 999).await.expect("stamp"), None);
    }

    #[tokio::test]
    async fn progress_counts_spend_and_feeds_only_the_rows_finished_since() {
        let (db, _dir) = fresh_database().await;
        let (id, _) = batch(&db, 6).await;
        run_one(&db, id).await;
        run_one(&db, id).await;
        let first = progress(&db, id, query(None, None))
            .await
            .expect("progress")
            .expect("batch");
        assert_eq!(first.counts.succeeded, 2);
        assert_eq!(first.counts.queued, 4);
        assert_eq!(first.spend.calls, 2);
        assert_eq!(first.spend.input_tokens, 20);
        assert_eq!(first.finished_last_minute, 2);
        assert_eq!(
            first
                .finished
                .iter()
                .map(|r| r.row_index)
                .collect::<Vec<_>>(),
            [0, 1]
        );
        assert_eq!(
            first.finished[0].result,
            Some(serde_json::json!({ "score": 1.5, "row": 0 }))
        );

        let watermark = first.finished.last().map(|r| r.finished_at);
        tokio::time::sleep(Duration::from_millis(5)).await;
        run_one(&db, id).await;
        let next = progress(&db, id, query(Some(first.spend), watermark))
            .await
            .expect("progress")
            .expect("batch");
        assert_eq!(next.spend.calls, 3, "only the new call was added");
        assert_eq!(next.spend.output_tokens, 15);
        assert!((next.spend.cost_usd - 1.5).abs() < 1e-9);
        assert_eq!(
            next.finished
                .iter()
                .map(|r| r.row_index)
                .collect::<Vec<_>>(),
            [2]
        );
        assert_eq!(next.stamp.done_rows, 3);
    }

    /// What the queue would have written, written by hand: row 0 succeeded, row 1 failed, row 2
    /// running, row 3 queued; one call each for rows 0 and 1.
    async fn rows_and_calls(db: &Database, id: i64, now: i64) {
        for (sql, at) in [
            (
                "UPDATE batch_rows SET status = 'succeeded', result = '{\"b\":1,\"a\":2}', \
                 latency_ms = 7, started_at = $2, finished_at = $2 \
                 WHERE batch_id = $1 AND row_index = 0",
                now - 10,
            ),
            (
                "UPDATE batch_rows SET status = 'failed', error = 'boom', finished_at = $2 \
                 WHERE batch_id = $1 AND row_index = 1",
                now - 5,
            ),
            (
                "UPDATE batch_rows SET status = 'running', attempt = 1, lease_expires_at = $2 \
                 WHERE batch_id = $1 AND row_index = 2",
                now + 60_000,
            ),
            (
                "INSERT INTO row_attempts (batch_id, row_index, claim, call_no, started_at, \
                 outcome, input_tokens, output_tokens, cost_usd) \
                 VALUES ($1, 0, 1, 1, $2, 'ok', 10, 5, 0.25), ($1, 1, 1, 1, $2, 'failed', 3, NULL, NULL)",
                now - 20,
            ),
        ] {
            execute(db, sql, &[id, at]).await;
        }
    }

    #[tokio::test]
    async fn progress_reads_the_counts_spend_and_feed_the_queue_wrote() {
        let (db, _dir) = fresh_database().await;
        let (id, _) = batch(&db, 4).await;
        let now = Timestamp::now().as_millis();
        rows_and_calls(&db, id, now).await;
        let first = progress(&db, id, query(None, None))
            .await
            .expect("progress")
            .expect("batch");
        assert_eq!(
            first.counts,
            RowCounts {
                queued: 1,
                running: 1,
                succeeded: 1,
                failed: 1,
                cancelled: 0,
            }
        );
        assert_eq!(first.stamp.running, 1);
        assert_eq!(first.stamp.ran_for_ms, None);
        assert!(first.started_at.is_some());
        assert_eq!(
            (
                first.spend.calls,
                first.spend.input_tokens,
                first.spend.output_tokens
            ),
            (2, 13, 5)
        );
        assert!((first.spend.cost_usd - 0.25).abs() < 1e-9);
        assert_eq!(first.finished_last_minute, 2);
        assert_eq!(
            first
                .finished
                .iter()
                .map(|r| (r.row_index, r.status))
                .collect::<Vec<_>>(),
            [(0, RowStatus::Succeeded), (1, RowStatus::Failed)]
        );
        let answer = first.finished[0].result.as_ref().expect("an answer");
        assert_eq!(keys_of(answer), ["b", "a"], "the answer keeps its order");
        assert_eq!(first.finished[0].latency_ms, Some(7));
        assert_eq!(first.finished[1].error.as_deref(), Some("boom"));

        execute(
            &db,
            "INSERT INTO row_attempts (batch_id, row_index, claim, call_no, started_at, outcome, \
             input_tokens, output_tokens, cost_usd) VALUES ($1, 2, 1, 1, $2, 'ok', 1, 1, 0.5)",
            &[id, now],
        )
        .await;
        let next = progress(&db, id, query(Some(first.spend), Some(Timestamp(now - 5))))
            .await
            .expect("progress")
            .expect("batch");
        assert_eq!(
            (
                next.spend.calls,
                next.spend.input_tokens,
                next.spend.output_tokens
            ),
            (3, 14, 6)
        );
        assert!((next.spend.cost_usd - 0.75).abs() < 1e-9);
        assert!(
            next.finished.is_empty(),
            "nothing finished after the last read"
        );
        assert!(
            progress(&db, 999, query(None, None))
                .await
                .expect("progress")
                .is_none()
        );
    }

    fn keys_of(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn the_feed_keeps_the_newest_rows_when_capped() {
        let (db, _dir) = fresh_database().await;
        let (id, _) = batch(&db, 4).await;
        for _ in 0..4 {
            run_one(&db, id).await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let capped = progress(
            &db,
            id,
            ProgressQuery {
                finished_limit: 2,
                ..query(None, None)
            },
        )
        .await
        .expect("progress")
        .expect("batch");
        assert_eq!(
            capped
                .finished
                .iter()
                .map(|r| r.row_index)
                .collect::<Vec<_>>(),
            [2, 3]
        );
        assert_eq!(capped.stamp.status, BatchStatus::Completed);
    }
}
