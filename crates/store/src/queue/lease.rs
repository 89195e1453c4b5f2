//! Handing rows out under a lease: the claim, the heartbeat that extends it, and giving a claimed
//! row back (one row, or every row at start-up).

use std::time::Duration;

use crate::database::{Backend, on_writer};
use crate::{Database, StoreError, Timestamp};

use super::RowOutcome;
use super::finish::finish_row;

/// A row the caller now holds under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRow {
    pub batch_id: i64,
    pub row_index: i64,
    /// The row's new `attempt` value: the fence every write for this claim must name.
    pub claim: i64,
    /// The dataset row's cells, in column order.
    pub cells: Vec<String>,
    /// When it was claimed (a refusal of its call pauses the batch only if no one has resumed
    /// it since).
    pub claimed_at: Timestamp,
    /// The few-shot generation its call takes worked examples from; `None` for none.
    pub few_shot: Option<i64>,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
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
    (SELECT more FROM target), few_shot";

/// The first key of the claim locks (the second is the batch id): "RBQ1", so Rowbench's
/// advisory locks do not collide with another application's on a shared server.
const CLAIM_LOCK: i32 = 0x5242_5131;

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
    let (claimed, more) = match db.backend() {
        Backend::Sqlite(parts) => {
            let claimed: Vec<ClaimAnswer> = sqlx::query_as(CLAIM)
                .bind(now)
                .bind(millis(lease))
                .bind(max)
                .fetch_all(&mut *parts.writer().await?)
                .await?;
            let more = claimed.first().is_some_and(|row| row.4);
            let rows = claimed
                .into_iter()
                .map(|(batch, row, attempt, cells, _, few_shot)| {
                    (batch, row, attempt, cells, few_shot)
                })
                .collect();
            (rows, more)
        }
        Backend::Postgres(pool) => claim_postgres(pool, db.instance(), now, lease, max).await?,
    };
    let mut claim = Claim {
        more,
        rows: Vec::with_capacity(claimed.len()),
    };
    for (batch_id, row_index, attempt, cells, few_shot) in claimed {
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
            cells: serde_json::from_str(&cells).map_err(|e| StoreError::corrupt("row cells", e))?,
            claimed_at: now,
            few_shot,
        });
    }
    // RETURNING promises no order.
    claim.rows.sort_by_key(|row| row.row_index);
    Ok(claim)
}

/// The claim on PostgreSQL: `rowbench_claim` (in the PostgreSQL migrations) picks a batch
/// under its claim lock and claims its free slots, in one round trip. Rows come back as the
/// SQLite claim returns them.
async fn claim_postgres(
    pool: &sqlx::PgPool,
    instance: &str,
    now: Timestamp,
    lease: Duration,
    max: i64,
) -> Result<(Vec<ClaimRecord>, bool), StoreError> {
    // The clock is read again once a connection is held: waiting for one is no part of a row's
    // run (the function adds the wait for the claim lock itself).
    let mut connection = pool.acquire().await?;
    let now = now.max(Timestamp::now());
    let claimed: Vec<ClaimAnswer> =
        sqlx::query_as("SELECT * FROM rowbench_claim($1, $2, $3, $4, $5)")
            .bind(now)
            .bind(millis(lease))
            .bind(max)
            .bind(CLAIM_LOCK)
            .bind(instance)
            .fetch_all(&mut *connection)
            .await?;
    let more = claimed.first().is_some_and(|row| row.4);
    let rows = claimed
        .into_iter()
        .map(|(batch, row, attempt, cells, _, few_shot)| (batch, row, attempt, cells, few_shot))
        .collect();
    Ok((rows, more))
}

/// A row of either engine's claim: batch, row index, the new fence, the cells, whether another
/// batch could run a row too, the few-shot generation.
type ClaimAnswer = (i64, i64, i64, Option<String>, bool, Option<i64>);

/// A claimed row as the claim returns it: batch, row index, the new fence, the cells, the
/// few-shot generation.
type ClaimRecord = (i64, i64, i64, Option<String>, Option<i64>);

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
    let done = on_writer!(db, |conn, _dialect| {
        sqlx::query(
            "UPDATE batch_rows SET lease_expires_at = $1 \
             WHERE batch_id = $2 AND row_index = $3 AND attempt = $4 AND status = 'running'",
        )
        .bind(Timestamp::now().as_millis().saturating_add(millis(lease)))
        .bind(batch_id)
        .bind(row_index)
        .bind(claim)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
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
    let done = on_writer!(db, |conn, _dialect| {
        sqlx::query(
            "UPDATE batch_rows SET status = 'queued', lease_expires_at = NULL \
             WHERE batch_id = $1 AND row_index = $2 AND attempt = $3 AND status = 'running'",
        )
        .bind(batch_id)
        .bind(row_index)
        .bind(claim)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

/// Puts the rows still leased by an earlier run of this server back in the queue at once; how
/// many. **For start-up only.**
///
/// On SQLite one process serves the database, so every lease was taken by an earlier process,
/// which is gone (crashed, killed, lost power): all running rows go back, and need not hold
/// their batches' slots until the leases run out. On PostgreSQL other instances may be running
/// rows right now: only the rows leased under this instance's name (`ROWBENCH_INSTANCE`) go
/// back; another instance's rows, if it died, come back when their leases run out.
///
/// The fence holds: a row keeps its `attempt` and the next claim moves it on, so a late
/// heartbeat or result of the earlier claim (were its process somehow still alive) finds the
/// row queued or claimed anew and is refused, as after an expired lease.
#[tracing::instrument(skip_all)]
pub async fn reclaim_leases_at_startup(db: &Database) -> Result<u64, StoreError> {
    // Per batch, so each lookup is an index seek rather than a walk over every row.
    let done = match db.backend() {
        Backend::Sqlite(parts) => sqlx::query(
            "UPDATE batch_rows INDEXED BY batch_rows_by_status \
             SET status = 'queued', lease_expires_at = NULL \
             WHERE batch_id IN (SELECT id FROM batches) AND status = 'running'",
        )
        .execute(&mut *parts.writer().await?)
        .await?
        .rows_affected(),
        Backend::Postgres(pool) => sqlx::query(
            "UPDATE batch_rows SET status = 'queued', lease_expires_at = NULL, leased_by = NULL \
             WHERE batch_id IN (SELECT id FROM batches) AND status = 'running' \
             AND leased_by = $1",
        )
        .bind(db.instance())
        .execute(pool)
        .await?
        .rows_affected(),
    };
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;
    use crate::queue::finish::SETTLE;
    use crate::queue::test_support::{
        LEASE, batch, claim, claim_expired, nothing_to_claim, succeeded, summary,
    };
    use crate::queue::{RowStatus, row_detail};
    use crate::{Engine, testing};

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
    async fn a_row_waiting_for_its_not_before_time_is_skipped() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 2).await;
        testing::execute(
            &db,
            "UPDATE batch_rows SET not_before = $1 WHERE batch_id = $2 AND row_index = 0",
            &[Timestamp::now().as_millis() + 60_000, id],
        )
        .await;
        assert_eq!(claim(&db).await.row_index, 1);
        assert!(nothing_to_claim(&db).await);
    }

    #[tokio::test]
    async fn a_row_whose_dataset_row_is_gone_fails_instead_of_being_claimed_forever() {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 2, 1).await;
        testing::execute(&db, "DELETE FROM dataset_rows WHERE row_index = 0", &[]).await;
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
    async fn the_claim_finds_its_row_by_index_seeks_not_by_scanning() {
        // SQLite's planner; PostgreSQL's claim has a test of its own below.
        let (db, _dir) = crate::database::tests::fresh_sqlite().await;
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {CLAIM}"))
                .bind(0)
                .bind(0)
                .bind(1)
                .fetch_all(db.sqlite_pool().expect("SQLite"))
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
                .fetch_all(db.sqlite_pool().expect("SQLite"))
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

    /// A second instance on the same database: the same pool, its own lease name.
    fn other_instance(db: &Database, name: &str) -> Database {
        db.clone().with_instance(name)
    }

    #[tokio::test]
    async fn at_start_up_an_instance_takes_back_only_its_own_rows_when_others_share_the_database() {
        let (db, _dir) = fresh_database().await;
        if db.engine() == Engine::Sqlite {
            return; // One process per SQLite database: every lease is the previous process's.
        }
        let a = other_instance(&db, "a");
        let b = other_instance(&db, "b");
        let id = batch(&db, "alice", 4, 4).await;
        let mine = claim(&a).await;
        let theirs = claim(&b).await;
        assert_eq!(reclaim_leases_at_startup(&a).await.expect("reclaim"), 1);
        assert!(
            heartbeat(&b, id, theirs.row_index, theirs.claim, LEASE)
                .await
                .expect("heartbeat"),
            "b's row is still b's"
        );
        let again = claim(&b).await;
        assert_eq!(
            (again.row_index, again.claim),
            (mine.row_index, mine.claim + 1),
            "a's row was first in line again"
        );
    }

    #[tokio::test]
    async fn claims_racing_from_several_instances_never_exceed_a_batch_concurrency_or_share_a_row()
    {
        let (db, _dir) = fresh_database().await;
        let id = batch(&db, "alice", 60, 3).await;
        let instances: Vec<Database> = (0..3)
            .map(|i| other_instance(&db, &format!("i{i}")))
            .collect();
        let mut claimed = std::collections::BTreeSet::new();
        for _round in 0..20 {
            // Every instance asks for more than the batch allows, all at once.
            let claims = futures_join(instances.iter().map(|db| {
                let db = db.clone();
                async move { super::claim(&db, LEASE, 8).await }
            }))
            .await;
            let rows: Vec<ClaimedRow> = claims
                .into_iter()
                .flat_map(|c| c.expect("claim").rows)
                .collect();
            assert!(
                rows.len() <= 3,
                "{} rows in flight at concurrency 3",
                rows.len()
            );
            for row in rows {
                assert!(
                    claimed.insert(row.row_index),
                    "row {} claimed twice",
                    row.row_index
                );
                assert!(
                    finish_row(&db, id, row.row_index, row.claim, succeeded(row.row_index))
                        .await
                        .expect("finish")
                );
            }
        }
        assert_eq!(claimed.len(), 60, "every row ran once");
        assert_eq!(summary(&db, id).await.done_rows, 60);
    }

    /// Runs the futures at once on this test's runtime and collects their outputs in order.
    async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handles: Vec<_> = futures.map(tokio::spawn).collect();
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await.expect("the claim task ran"));
        }
        out
    }

    #[tokio::test]
    async fn a_claim_deep_into_a_large_batch_costs_what_one_at_its_start_does() {
        // PostgreSQL's claim runs inside a function, where EXPLAIN cannot see: its index use
        // shows in what it costs, over 20,000 rows of which all but the last 5 are done.
        let (db, _dir) = fresh_database().await;
        let Backend::Postgres(pool) = db.backend() else {
            return; // SQLite's plan is checked above.
        };
        let id = batch(&db, "alice", 20_000, 4).await;
        sqlx::query(
            "UPDATE batch_rows SET status = 'succeeded', attempt = 1 \
             WHERE batch_id = $1 AND row_index < 19995",
        )
        .bind(id)
        .execute(pool)
        .await
        .expect("finish most rows");
        sqlx::query("VACUUM ANALYZE batch_rows")
            .execute(pool)
            .await
            .expect("vacuum");
        // On one connection, as the server's pooled ones are: its first call plans the
        // function's statements (reading the catalogs), later calls reuse the plans.
        let mut connection = pool.acquire().await.expect("connection");
        let explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) \
                       SELECT * FROM rowbench_claim(0, 60000, 1, 1, 'x')";
        for _warm in 0..2 {
            sqlx::query(explain)
                .execute(&mut *connection)
                .await
                .expect("warm");
        }
        let rows: Vec<String> = sqlx::query_scalar(explain)
            .fetch_all(&mut *connection)
            .await
            .expect("plan");
        let plan = rows.join("\n");
        let shared_hits: u64 = plan
            .split("shared hit=")
            .skip(1)
            .filter_map(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        // A walk over the finished rows would touch hundreds of pages; index seeks, a few dozen.
        assert!(shared_hits < 400, "{shared_hits} pages read: {plan}");
        drop(connection);
        let claimed = claim(&db).await;
        // The EXPLAINs claimed from time 0: those leases ran out long ago.
        assert_eq!(claimed.row_index, 19_995, "the lowest row not done");
    }
}
