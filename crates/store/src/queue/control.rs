//! Steering a batch: pause, resume, cancel, retrying failed rows or one row, and its concurrency.

use rowbench_recipe::few_shot::FewShotSet;

use crate::database::{on_pool, on_writer};
use crate::{Database, StoreError, Timestamp};

use super::finish::settle;

/// Pauses batch $2 of owner $3 with reason $1 if it is running or queued.
const SET_PAUSED: &str = "UPDATE batches SET status = 'paused', pause_reason = $1 \
     WHERE id = $2 AND owner = $3 AND status IN ('running', 'queued')";

/// Pauses the `owner`'s running (or queued) batch; rows in flight finish, no new ones start.
/// False if the batch is not theirs or not running.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn pause(
    db: &Database,
    owner: &str,
    batch_id: i64,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query(SET_PAUSED)
            .bind(reason)
            .bind(batch_id)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Pauses a running batch for the worker, saying why, over a call of a row claimed at
/// `claimed_at`. False if it was not running, so the first reason given is the one kept, or if
/// it was resumed since that claim: the refusal then answers a call made before whatever the
/// pause was for was put right, and the calls made since will say for themselves.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn pause_for(
    db: &Database,
    batch_id: i64,
    reason: &str,
    claimed_at: Timestamp,
) -> Result<bool, StoreError> {
    let done = on_writer!(db, |conn, _dialect| {
        sqlx::query(
            "UPDATE batches SET status = 'paused', pause_reason = $1 \
             WHERE id = $2 AND status IN ('running', 'queued') \
             AND (resumed_at IS NULL OR resumed_at < $3)",
        )
        .bind(reason)
        .bind(batch_id)
        .bind(claimed_at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

/// Pauses a running batch once `limit` of its rows have failed (the batch's error policy); the
/// reason names the count. True if this call paused it.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn pause_after_failures(
    db: &Database,
    batch_id: i64,
    limit: u64,
) -> Result<bool, StoreError> {
    let done = on_writer!(db, |conn, _dialect| {
        sqlx::query(
            "UPDATE batches SET status = 'paused', \
             pause_reason = 'Paused after ' || failed_rows || \
                 CASE failed_rows WHEN 1 THEN ' failed row' ELSE ' failed rows' END || ' (error policy).' \
             WHERE id = $1 AND status = 'running' AND failed_rows >= $2",
        )
        .bind(batch_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

/// Applies `change` to the `owner`'s batch `batch_id` in `tx` (a transaction of either engine):
/// the `SET` part of an update of `batches` and a `WHERE` condition (`$3` is the time now;
/// PostgreSQL, like SQLite, takes a parameter the text does not use, as sqlx sends its type), to
/// which the batch and its owner are added. True if the batch is theirs and met the condition.
/// On PostgreSQL the update locks the batch's row until the transaction ends, before any of its
/// rows: the order [`super::finish_rows`] keeps too. A macro because the number of rows changed
/// is each engine's own type, with no trait over both.
macro_rules! change_batch {
    ($tx:expr, $owner:expr, $batch_id:expr, $change:expr) => {
        sqlx::query(&format!(
            "UPDATE batches SET {} AND id = $1 AND owner = $2",
            $change
        ))
        .bind($batch_id)
        .bind($owner)
        .bind(Timestamp::now())
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1
    };
}

/// Resumes the `owner`'s paused batch (completing it at once if nothing is left to run).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn resume(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    let resume = "status = 'running', pause_reason = NULL, resumed_at = $3 WHERE status = 'paused'";
    on_pool!(db, |pool, dialect| {
        let mut tx = pool.begin().await?;
        if !change_batch!(tx, owner, batch_id, resume) {
            return Ok(false);
        }
        settle!(tx, dialect, batch_id);
        tx.commit().await?;
    });
    Ok(true)
}

/// Cancels the `owner`'s unfinished batch: its queued rows, and the rows in flight, end as
/// cancelled (the worker notices at its next heartbeat and drops the call).
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn cancel(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    let cancel = "status = 'cancelled', finished_at = $3, pause_reason = NULL \
         WHERE status IN ('queued', 'running', 'paused')";
    on_pool!(db, |pool, _dialect| {
        let mut tx = pool.begin().await?;
        if !change_batch!(tx, owner, batch_id, cancel) {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE batch_rows SET status = 'cancelled', lease_expires_at = NULL \
             WHERE batch_id = $1 AND status IN ('queued', 'running')",
        )
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(true)
}

/// Clears a row's result so it runs again.
const REQUEUE: &str = "status = 'queued', result = NULL, error = NULL, finished_at = NULL, \
     latency_ms = NULL, input_tokens = NULL, output_tokens = NULL, cost_usd = NULL, \
     lease_expires_at = NULL, not_before = NULL";

/// Keeps the answers of the rows of batch $2 that [`REQUEUE`] is about to clear, stamped with
/// the time $1; the caller adds the condition choosing the rows (`AND ...`).
const KEEP_ANSWERS: &str = "INSERT INTO row_history (batch_id, row_index, claim, status, result, \
     error, started_at, finished_at, latency_ms, input_tokens, output_tokens, cost_usd, \
     replaced_at) \
     SELECT batch_id, row_index, attempt, status, result, error, started_at, finished_at, \
     latency_ms, input_tokens, output_tokens, cost_usd, $1 FROM batch_rows WHERE batch_id = $2";

/// Sets the batch's counters from its rows (after rows went back to the queue), and moves its
/// answers version on: answers may be gone. `INDEXED BY` is SQLite's (its planner would walk the
/// batch's rows otherwise); PostgreSQL's takes the index unaided.
const RECOUNT: &str = "UPDATE batches SET \
     done_rows = (SELECT COUNT(*) FROM batch_rows INDEXED BY batch_rows_by_status \
                  WHERE batch_id = $1 AND status = 'succeeded'), \
     failed_rows = (SELECT COUNT(*) FROM batch_rows INDEXED BY batch_rows_by_status \
                    WHERE batch_id = $1 AND status = 'failed'), \
     answers_version = answers_version + 1 \
     WHERE id = $1";

/// [`RECOUNT`] in PostgreSQL's dialect.
const RECOUNT_POSTGRES: &str = "UPDATE batches SET \
     done_rows = (SELECT COUNT(*) FROM batch_rows \
                  WHERE batch_id = $1 AND status = 'succeeded'), \
     failed_rows = (SELECT COUNT(*) FROM batch_rows \
                    WHERE batch_id = $1 AND status = 'failed'), \
     answers_version = answers_version + 1 \
     WHERE id = $1";

/// Runs [`RECOUNT`] for batch `$batch_id` in `$tx` (a transaction of either engine); a macro
/// for the reason [`settle!`] is one.
macro_rules! recount {
    ($tx:expr, $dialect:expr, $batch_id:expr) => {
        sqlx::query($dialect.pick(RECOUNT, RECOUNT_POSTGRES))
            .bind($batch_id)
            .execute(&mut *$tx)
            .await?
    };
}

/// Puts the failed rows of the `owner`'s batch back in the queue and runs the batch again; each
/// row's error is kept among its earlier answers.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn retry_failed(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    // Only a batch that has failed rows, and was not cancelled, is retried: otherwise this would
    // quietly resume a paused batch or bring a cancelled one back.
    let rerun = "status = 'running', finished_at = NULL, pause_reason = NULL \
         WHERE status IN ('running', 'completed', 'failed') \
         AND EXISTS (SELECT 1 FROM batch_rows WHERE batch_id = batches.id AND status = 'failed')";
    on_pool!(db, |pool, dialect| {
        let mut tx = pool.begin().await?;
        if !change_batch!(tx, owner, batch_id, rerun) {
            return Ok(false);
        }
        sqlx::query(&format!("{KEEP_ANSWERS} AND status = 'failed'"))
            .bind(Timestamp::now())
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "UPDATE batch_rows SET {REQUEUE} WHERE batch_id = $1 AND status = 'failed'"
        ))
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        recount!(tx, dialect, batch_id);
        settle!(tx, dialect, batch_id);
        tx.commit().await?;
    });
    Ok(true)
}

/// Which finished rows a re-run sends back to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RerunRows {
    Failed,
    /// Rows whose current answer a person rejected.
    Rejected,
    /// Every finished row, succeeded or failed.
    All,
}

impl RerunRows {
    /// The rows of `batch_rows` it names, as a condition (`AND ...`) where `$2` is the batch.
    /// The rejected rows are looked up from the batch's rejections (an index range), not by
    /// probing the reviews for each of the batch's rows.
    fn condition(self) -> &'static str {
        match self {
            RerunRows::Failed => " AND status = 'failed'",
            RerunRows::Rejected => {
                " AND status IN ('succeeded', 'failed') AND row_index IN (SELECT v.row_index \
                 FROM row_reviews v WHERE v.batch_id = $2 AND v.decision = 'reject') \
                 AND EXISTS (SELECT 1 FROM row_reviews v WHERE v.batch_id = batch_rows.batch_id \
                 AND v.row_index = batch_rows.row_index AND v.attempt = batch_rows.attempt)"
            }
            RerunRows::All => " AND status IN ('succeeded', 'failed')",
        }
    }
}

/// The worked examples a re-run shows its rows, and who asked.
#[derive(Debug, Clone, Copy)]
pub struct NewFewShots<'a> {
    pub set: &'a FewShotSet,
    pub created_by: &'a str,
}

/// How a re-run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    /// `rows` went back to the queue, to be shown the examples of `few_shot` if any.
    Requeued { rows: u64, few_shot: Option<i64> },
    /// The batch is not the owner's, or is queued, paused or cancelled.
    NotApplicable,
    /// No row of the batch is of the kind asked for.
    NothingToRun,
}

/// Runs the finished rows `rows` names of the `owner`'s batch again, the batch with them, each
/// row's answer kept among its earlier answers. With `few_shots`, the set is kept as the batch's
/// next few-shot generation and the rows' calls show its examples; without, they run as the
/// first time. All or nothing.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn rerun(
    db: &Database,
    owner: &str,
    batch_id: i64,
    rows: RerunRows,
    few_shots: Option<NewFewShots<'_>>,
) -> Result<Rerun, StoreError> {
    // As for a retry: a paused batch is resumed by its own button, a cancelled one stays so.
    let running = "status = 'running', finished_at = NULL, pause_reason = NULL \
         WHERE status IN ('running', 'completed', 'failed')";
    let condition = rows.condition();
    let examples = match few_shots {
        Some(new) => {
            serde_json::to_string(new.set).map_err(|e| StoreError::corrupt("few-shot set", e))?
        }
        None => String::new(),
    };
    let rerun = on_pool!(db, |pool, dialect| {
        let mut tx = pool.begin().await?;
        if !change_batch!(tx, owner, batch_id, running) {
            return Ok(Rerun::NotApplicable);
        }
        let few_shot: Option<i64> = match few_shots {
            None => None,
            Some(new) => Some(
                sqlx::query_scalar(
                    "INSERT INTO few_shots (batch_id, generation, examples, created_by, created_at) \
                     SELECT $1, COALESCE(MAX(generation), 0) + 1, $2, $3, $4 \
                     FROM few_shots WHERE batch_id = $1 RETURNING generation",
                )
                .bind(batch_id)
                .bind(&examples)
                .bind(new.created_by)
                .bind(Timestamp::now())
                .fetch_one(&mut *tx)
                .await?,
            ),
        };
        sqlx::query(&format!("{KEEP_ANSWERS}{condition}"))
            .bind(Timestamp::now())
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        let requeued = sqlx::query(&format!(
            "UPDATE batch_rows SET {REQUEUE}, few_shot = $1 WHERE batch_id = $2{condition}"
        ))
        .bind(few_shot)
        .bind(batch_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if requeued == 0 {
            // Dropped, the transaction leaves the batch as it was.
            return Ok(Rerun::NothingToRun);
        }
        recount!(tx, dialect, batch_id);
        settle!(tx, dialect, batch_id);
        tx.commit().await?;
        Rerun::Requeued {
            rows: requeued,
            few_shot,
        }
    });
    Ok(rerun)
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
    let rerun = "status = 'running', finished_at = NULL, pause_reason = NULL WHERE TRUE";
    on_pool!(db, |pool, dialect| {
        let mut tx = pool.begin().await?;
        if !change_batch!(tx, owner, batch_id, rerun) {
            return Ok(false);
        }
        sqlx::query(&format!(
            "{KEEP_ANSWERS} AND row_index = $3 AND status IN ('succeeded', 'failed')"
        ))
        .bind(Timestamp::now())
        .bind(batch_id)
        .bind(row_index)
        .execute(&mut *tx)
        .await?;
        let requeued = sqlx::query(&format!(
            "UPDATE batch_rows SET {REQUEUE} \
             WHERE batch_id = $1 AND row_index = $2 AND status IN ('succeeded', 'failed')"
        ))
        .bind(batch_id)
        .bind(row_index)
        .execute(&mut *tx)
        .await?;
        if requeued.rows_affected() != 1 {
            return Ok(false);
        }
        recount!(tx, dialect, batch_id);
        tx.commit().await?;
    });
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
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE batches SET concurrency = $1 WHERE id = $2 AND owner = $3")
            .bind(i64::from(concurrency.max(1)))
            .bind(batch_id)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batches::{self, BatchStatus};
    use crate::database::tests::fresh_database;
    use crate::queue::test_support::{
        LEASE, batch, claim, failed, nothing_to_claim, status_of, succeeded, summary,
    };
    use crate::queue::{RowStatus, finish_row, heartbeat, row_detail, rows_page, totals};
    use crate::testing::{numbers, scalar_i64};

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
        assert!(
            pause_for(&db, id, "bad key", Timestamp::now())
                .await
                .expect("pause")
        );
        assert!(
            !pause_for(&db, id, "another", Timestamp::now())
                .await
                .expect("pause")
        );
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
    async fn a_refusal_of_a_call_claimed_before_the_batch_was_resumed_does_not_pause_it_again() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 3, 3).await;
        let first = claim(&db).await;
        let slow = claim(&db).await;
        assert!(
            pause_for(&db, id, "bad key", first.claimed_at)
                .await
                .expect("pause")
        );
        // Milliseconds apart, so the resume is after both claims by the clock.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        assert!(resume(&db, "alice", id).await.expect("resume"));
        assert!(
            !pause_for(&db, id, "bad key", slow.claimed_at)
                .await
                .expect("pause"),
            "the slow call went out with the key from before"
        );
        assert_eq!(status_of(&db, id).await, BatchStatus::Running);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        let after = claim(&db).await;
        assert!(
            pause_for(&db, id, "still a bad key", after.claimed_at)
                .await
                .expect("pause"),
            "a call claimed since the resume still pauses it"
        );
        assert_eq!(status_of(&db, id).await, BatchStatus::Paused);
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
        let finished_at =
            numbers(&db, "SELECT finished_at FROM batches WHERE id = $1", &[id]).await;
        assert_eq!(finished_at, [[None]]);
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
        assert_eq!(
            scalar_i64(&db, "SELECT COUNT(*) FROM row_history", &[]).await,
            0
        );
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

    #[tokio::test]
    async fn other_owners_can_neither_steer_nor_read_a_batch() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        assert!(!pause(&db, "bob", id, None).await.expect("pause"));
        pause_for(&db, id, "held", Timestamp::now())
            .await
            .expect("pause");
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
}
