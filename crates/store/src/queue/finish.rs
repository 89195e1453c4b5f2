//! Writing what a claim reached: the fenced results, the record of every provider call, and
//! completing a batch whose last row finished.

use serde_json::Value;
use sqlx::{Connection, QueryBuilder};

use crate::database::{Backend, Dialect, on_writer};
use crate::{Database, StoreError, Timestamp};

use super::{AttemptRecord, RowOutcome, RowStatus};

/// One statement (a [`QueryBuilder`] for the engine its executor runs on) inserting `calls`: a
/// single call from [`record_attempt`], or the last calls of many rows from [`finish_rows`], so
/// both write the same columns in the same order. A macro rather than a function: the builder's
/// engine is inferred where it runs, which spares a generic function a bound per bound type.
macro_rules! insert_attempts {
    ($calls:expr) => {{
        let mut insert = QueryBuilder::new("");
        push_attempts!(insert, $calls);
        insert
    }};
}

/// Appends the INSERT of [`insert_attempts!`] to `$insert`, a query builder of either engine.
macro_rules! push_attempts {
    ($insert:expr, $calls:expr) => {{
        $insert.push(
            "INSERT INTO row_attempts (batch_id, row_index, claim, call_no, started_at, latency_ms, \
             http_status, request, raw_response, outcome, error, input_tokens, output_tokens, \
             cost_usd) ",
        );
        $insert.push_values($calls, |mut row, a: &AttemptRecord| {
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
        });
    }};
}

/// Records one provider call. Calls of stale claims are recorded too: they were made and paid for.
#[tracing::instrument(skip_all, fields(batch_id = attempt.batch_id))]
pub async fn record_attempt(db: &Database, attempt: &AttemptRecord) -> Result<(), StoreError> {
    on_writer!(db, |conn, _dialect| {
        insert_attempts!([attempt])
            .build()
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Completes batch $2 at time $1 if it is running and has no queued or running rows left. It
/// runs after every finished row, hence the index seek rather than a walk over the batch
/// (`INDEXED BY` is SQLite's; PostgreSQL's planner takes the index unaided: [`SETTLE_POSTGRES`]).
pub(super) const SETTLE: &str = "UPDATE batches SET status = 'completed', finished_at = $1 \
     WHERE id = $2 AND status = 'running' AND NOT EXISTS ( \
         SELECT 1 FROM batch_rows INDEXED BY batch_rows_by_status \
         WHERE batch_id = $2 AND status IN ('queued', 'running'))";

/// [`SETTLE`] in PostgreSQL's dialect. Run after the batch's row in `batches` is locked (the
/// counters' update, or the lock [`finish_rows`] takes first), it reads the rows as committed once
/// the lock was granted: of two transactions finishing a batch's last two rows, the second sees
/// the first's row finished, so one of them completes the batch.
///
/// Each status is looked up alone, as a scalar sub-select: with statistics older than the batch's
/// rows, `status IN (…)` in an `EXISTS` was planned as a scan of the whole batch (a millisecond
/// at 12,000 rows), while an equality on the status reads the front of its partial index.
pub(super) const SETTLE_POSTGRES: &str = "UPDATE batches SET status = 'completed', finished_at = $1 \
     WHERE id = $2 AND status = 'running' \
       AND (SELECT 1 FROM batch_rows WHERE batch_id = $2 AND status = 'queued' LIMIT 1) IS NULL \
       AND (SELECT 1 FROM batch_rows WHERE batch_id = $2 AND status = 'running' LIMIT 1) IS NULL";

/// Completes batch `$batch_id` if nothing of it is left to run (see [`SETTLE`]), in `$tx`, a
/// transaction of either engine. A macro, not a generic function: a future generic over the
/// executor is not `Send` for every lifetime sqlx's bounds name, and the worker's and the
/// pages' futures must be.
macro_rules! settle {
    ($tx:expr, $dialect:expr, $batch_id:expr) => {
        sqlx::query($dialect.pick(
            $crate::queue::finish::SETTLE,
            $crate::queue::finish::SETTLE_POSTGRES,
        ))
        .bind($crate::Timestamp::now())
        .bind($batch_id)
        .execute(&mut *$tx)
        .await?
    };
}
pub(super) use settle;

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
///
/// On PostgreSQL the rows leaving their slots wake the other instances' workers; see
/// [`finish_rows_quietly`] for a worker that claims the slots itself.
#[tracing::instrument(skip_all, fields(rows = results.len()))]
pub async fn finish_rows(db: &Database, results: &[RowResult]) -> Result<Vec<bool>, StoreError> {
    write_results(db, results, Announce::Yes).await
}

/// [`finish_rows`] without telling other instances of the freed slots: for a worker that claims
/// them itself straight after, and calls [`crate::wakeups::announce`] for those it cannot take. Told of
/// every group, every instance would claim after every write, and all but one find nothing.
#[tracing::instrument(skip_all, fields(rows = results.len()))]
pub async fn finish_rows_quietly(
    db: &Database,
    results: &[RowResult],
) -> Result<Vec<bool>, StoreError> {
    write_results(db, results, Announce::No).await
}

/// Whether a write of results wakes other instances.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Announce {
    Yes,
    No,
}

/// [`finish_rows`] and [`finish_rows_quietly`]; SQLite has one process, with nobody to tell.
async fn write_results(
    db: &Database,
    results: &[RowResult],
    announce: Announce,
) -> Result<Vec<bool>, StoreError> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let now = Timestamp::now();
    let parts = match db.backend() {
        Backend::Postgres(pool) => return finish_rows_postgres(pool, results, now, announce).await,
        Backend::Sqlite(parts) => parts,
    };
    let mut held = parts.writer().await?;
    // The fenced write comes first so the transaction takes the write lock at once (a read
    // first would risk SQLITE_BUSY on the upgrade, which the busy timeout does not cover).
    let mut tx = held.begin().await?;
    let mut written = std::collections::HashSet::new();
    for chunk in results.chunks(ROWS_PER_STATEMENT) {
        let mut update = QueryBuilder::new(
            "UPDATE batch_rows SET status = v.column4, result = v.column5, error = v.column6, \
             latency_ms = v.column7, input_tokens = v.column8, output_tokens = v.column9, \
             cost_usd = v.column10, lease_expires_at = NULL, finished_at = ",
        );
        update.push_bind(now).push(" FROM (");
        update.push_values(chunk, |mut row, r| {
            let written = Written::of(r);
            row.push_bind(r.batch_id)
                .push_bind(r.row_index)
                .push_bind(r.claim)
                .push_bind(written.status)
                .push_bind(written.result)
                .push_bind(written.error)
                .push_bind(written.latency_ms)
                .push_bind(written.input_tokens)
                .push_bind(written.output_tokens)
                .push_bind(written.cost_usd);
        });
        // A VALUES list's columns are named column1, column2, ...
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
        insert_attempts!(chunk.iter().copied())
            .build()
            .execute(&mut *tx)
            .await?;
    }
    let answers: Vec<bool> = results
        .iter()
        .map(|r| written.contains(&(r.batch_id, r.row_index, r.claim)))
        .collect();
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
            "UPDATE batches SET done_rows = done_rows + $1, \
             failed_rows = failed_rows + $2, answers_version = answers_version + 1 \
             WHERE id = $3",
        )
        .bind(succeeded)
        .bind(failed)
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        settle!(tx, Dialect::Sqlite, batch_id);
    }
    tx.commit().await?;
    Ok(answers)
}

/// A result's columns as `batch_rows` stores them.
struct Written {
    status: RowStatus,
    result: Option<String>,
    error: Option<String>,
    latency_ms: i64,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<f64>,
}

impl Written {
    fn of(r: &RowResult) -> Self {
        match &r.outcome {
            RowOutcome::Succeeded {
                result,
                latency_ms,
                input_tokens,
                output_tokens,
                cost_usd,
            } => Written {
                status: RowStatus::Succeeded,
                result: Some(result.to_string()),
                error: None,
                latency_ms: *latency_ms,
                input_tokens: *input_tokens,
                output_tokens: *output_tokens,
                cost_usd: *cost_usd,
            },
            RowOutcome::Failed {
                error,
                latency_ms,
                input_tokens,
                output_tokens,
                cost_usd,
            } => Written {
                status: RowStatus::Failed,
                result: None,
                error: Some(error.clone()),
                latency_ms: *latency_ms,
                input_tokens: *input_tokens,
                output_tokens: *output_tokens,
                cost_usd: *cost_usd,
            },
        }
    }
}

/// [`finish_rows`] on PostgreSQL: one call of `rowbench_finish` (or `rowbench_finish_quietly`,
/// in the PostgreSQL migrations), the results and the calls as parallel arrays. One round trip
/// and one short transaction, whatever the group's size: the batches' rows stay locked only
/// while the function runs, and every instance's finishing rows take turns on them.
async fn finish_rows_postgres(
    pool: &sqlx::PgPool,
    results: &[RowResult],
    now: Timestamp,
    announce: Announce,
) -> Result<Vec<bool>, StoreError> {
    let written: Vec<Written> = results.iter().map(Written::of).collect();
    let calls: Vec<&AttemptRecord> = results
        .iter()
        .filter_map(|r| r.last_call.as_ref())
        .collect();
    let column = |f: fn(&RowResult) -> i64| results.iter().map(f).collect::<Vec<i64>>();
    let call = match announce {
        Announce::Yes => {
            "SELECT * FROM rowbench_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
        }
        Announce::No => {
            "SELECT * FROM rowbench_finish_quietly($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
        }
    };
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(call)
        .bind(now)
        .bind(column(|r| r.batch_id))
        .bind(column(|r| r.row_index))
        .bind(column(|r| r.claim))
        .bind(
            written
                .iter()
                .map(|w| w.status.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            written
                .iter()
                .map(|w| w.result.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            written
                .iter()
                .map(|w| w.error.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(written.iter().map(|w| w.latency_ms).collect::<Vec<_>>())
        .bind(written.iter().map(|w| w.input_tokens).collect::<Vec<_>>())
        .bind(written.iter().map(|w| w.output_tokens).collect::<Vec<_>>())
        .bind(written.iter().map(|w| w.cost_usd).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.batch_id).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.row_index).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.claim).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.call_no).collect::<Vec<_>>())
        .bind(
            calls
                .iter()
                .map(|a| a.started_at.as_millis())
                .collect::<Vec<_>>(),
        )
        .bind(calls.iter().map(|a| a.latency_ms).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.http_status).collect::<Vec<_>>())
        .bind(
            calls
                .iter()
                .map(|a| a.request.as_ref().map(Value::to_string))
                .collect::<Vec<_>>(),
        )
        .bind(
            calls
                .iter()
                .map(|a| a.raw_response.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(calls.iter().map(|a| a.outcome.as_str()).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.error.as_deref()).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.input_tokens).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.output_tokens).collect::<Vec<_>>())
        .bind(calls.iter().map(|a| a.cost_usd).collect::<Vec<_>>())
        .fetch_all(pool)
        .await?;
    let written: std::collections::HashSet<(i64, i64, i64)> = rows.into_iter().collect();
    Ok(results
        .iter()
        .map(|r| written.contains(&(r.batch_id, r.row_index, r.claim)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batches::BatchStatus;
    use crate::database::tests::fresh_database;
    use crate::queue::test_support::{
        attempt, batch, claim, claim_expired, failed, status_of, succeeded, summary,
    };
    use crate::queue::{AttemptOutcome, row_detail};
    use crate::testing::{numbers, scalar_i64};

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
        assert_eq!(
            scalar_i64(&db, "SELECT COUNT(*) FROM row_attempts", &[]).await,
            5
        );
        assert!(finish_rows(&db, &[]).await.expect("nothing").is_empty());
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
        let finished = numbers(&db, "SELECT finished_at FROM batches WHERE id = $1", &[id]).await;
        assert!(finished[0][0].is_some());
    }

    /// Other instances on the same database (other processes, on PostgreSQL): connections of
    /// their own, on SQLite a writer of their own too.
    async fn instances(place: &crate::testing::TestPlace, n: usize) -> Vec<Database> {
        let mut instances = Vec::with_capacity(n);
        for _ in 0..n {
            instances.push(Database::connect(&place.url).await.expect("connects"));
        }
        instances
    }

    /// The claimed rows' results in groups of `size`, a failure for every third row.
    fn groups(rows: &[super::super::ClaimedRow], size: usize) -> Vec<Vec<RowResult>> {
        rows.chunks(size)
            .map(|group| {
                group
                    .iter()
                    .map(|row| RowResult {
                        batch_id: row.batch_id,
                        row_index: row.row_index,
                        claim: row.claim,
                        outcome: if row.row_index % 3 == 0 {
                            failed("no")
                        } else {
                            succeeded(row.row_index)
                        },
                        last_call: Some(AttemptRecord {
                            row_index: row.row_index,
                            ..attempt(row.batch_id, row.claim, 1, AttemptOutcome::Ok)
                        }),
                    })
                    .collect()
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn instances_finishing_rows_of_one_batch_at_once_lose_no_count_and_complete_it_once() {
        let (db, place) = fresh_database().await;
        let rows = 60;
        let id = batch(&db, "alice", rows, 60).await;
        let mut claimed = Vec::new();
        for _ in 0..rows {
            claimed.push(claim(&db).await);
        }
        let instances = instances(&place, 4).await;
        let mut tasks = Vec::new();
        for (n, group) in groups(&claimed, 3).into_iter().enumerate() {
            let instance = instances[n % instances.len()].clone();
            tasks.push(tokio::spawn(
                async move { finish_rows(&instance, &group).await },
            ));
        }
        for task in tasks {
            assert!(
                task.await
                    .expect("joins")
                    .expect("finish")
                    .iter()
                    .all(|w| *w)
            );
        }
        let summary = summary(&db, id).await;
        assert_eq!(summary.status, BatchStatus::Completed);
        assert_eq!((summary.done_rows, summary.failed_rows), (40, 20));
        let counted = numbers(
            &db,
            "SELECT answers_version, COUNT(finished_at) FROM batches WHERE id = $1 GROUP BY id",
            &[id],
        )
        .await;
        assert_eq!(
            counted,
            [[Some(20), Some(1)]],
            "one version per group written"
        );
        assert_eq!(
            scalar_i64(&db, "SELECT COUNT(*) FROM row_attempts", &[]).await,
            rows
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn results_written_while_their_batch_is_cancelled_either_count_or_are_refused() {
        let (db, place) = fresh_database().await;
        let instances = instances(&place, 4).await;
        let rows = 40;
        // A few rounds, as the cancel lands at a different moment each time.
        for _ in 0..5 {
            let id = batch(&db, "alice", rows, 40).await;
            let mut claimed = Vec::new();
            for _ in 0..rows {
                claimed.push(claim(&db).await);
            }
            let mut results = Vec::new();
            let mut cancel = None;
            for (n, group) in groups(&claimed, 4).into_iter().enumerate() {
                let instance = instances[n % instances.len()].clone();
                results.push(tokio::spawn(
                    async move { finish_rows(&instance, &group).await },
                ));
                if n == 4 {
                    // From yet another instance, among the results: without one lock order the
                    // cancel (the batch, then its rows) and a result (its rows, then the batch)
                    // deadlock on PostgreSQL.
                    let db = db.clone();
                    cancel = Some(tokio::spawn(async move {
                        super::super::cancel(&db, "alice", id).await
                    }));
                }
            }
            let cancelled = cancel
                .expect("started")
                .await
                .expect("joins")
                .expect("cancel");
            let mut written = 0;
            for task in results {
                let answers = task.await.expect("joins").expect("no deadlock, no error");
                written += answers.iter().filter(|w| **w).count();
            }
            let summary = summary(&db, id).await;
            let counts = crate::batches::row_counts(&db, id).await.expect("counts");
            assert_eq!(
                summary.status,
                if cancelled {
                    BatchStatus::Cancelled
                } else {
                    BatchStatus::Completed
                }
            );
            assert_eq!(
                i64::try_from(written).expect("small"),
                counts.succeeded + counts.failed,
                "every result written is a finished row, and only those"
            );
            assert_eq!(
                (summary.done_rows, summary.failed_rows),
                (counts.succeeded, counts.failed)
            );
            assert_eq!(counts.running + counts.queued, 0);
        }
    }
}
