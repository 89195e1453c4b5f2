//! Batches: a started run of a prompt over a dataset, listed on the home page; starting one,
//! growing a trial to its whole dataset, and deleting one with everything it recorded.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use rowbench_recipe::BatchConfig;

use crate::database::{Dialect, on_pool};
use crate::{Database, StoreError, Timestamp};

/// Where a batch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    Queued,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

/// What the batches list shows of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct BatchSummary {
    pub id: i64,
    pub name: String,
    pub status: BatchStatus,
    pub total_rows: i64,
    pub done_rows: i64,
    pub failed_rows: i64,
    pub created_at: Timestamp,
}

/// What it takes to record a new batch.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub total_rows: i64,
    /// The frozen configuration (mapping, prompt, schema, settings) the batch runs with.
    pub config: &'a serde_json::Value,
}

/// Records a new queued batch with no rows and returns its id (fixtures and imports; a batch
/// that runs is made by [`start_over_dataset`]).
#[tracing::instrument(skip_all)]
pub async fn create(db: &Database, batch: NewBatch<'_>) -> Result<i64, StoreError> {
    let id: i64 = on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar(
            "INSERT INTO batches (owner, name, total_rows, config, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(batch.owner)
        .bind(batch.name)
        .bind(batch.total_rows)
        .bind(batch.config.to_string())
        .bind(Timestamp::now())
        .fetch_one(pool)
        .await?
    });
    Ok(id)
}

/// A batch to run over the rows of a dataset.
#[derive(Debug, Clone)]
pub struct DatasetBatch<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub dataset_id: i64,
    /// Only the first this-many rows (a trial run); all of them when `None`.
    pub first_rows: Option<i64>,
    /// The frozen configuration (mapping, prompt, schema, settings) the batch runs with.
    pub config: &'a serde_json::Value,
}

/// Records a running batch and one queued job per dataset row, in one transaction: either the
/// batch exists with all its rows or not at all. `None` if the dataset is not `owner`'s or not
/// completely uploaded.
#[tracing::instrument(skip_all, fields(dataset_id = batch.dataset_id))]
pub async fn start_over_dataset(
    db: &Database,
    batch: DatasetBatch<'_>,
) -> Result<Option<i64>, StoreError> {
    on_pool!(db, |pool, dialect| {
        // IMMEDIATE on SQLite, as in `delete_batch`: it reads before it writes, and other
        // batches' workers commit all the time.
        let mut tx = pool.begin_with(dialect.begin_write()).await?;
        let ready: Option<i64> = sqlx::query_scalar(
            "SELECT row_count FROM datasets WHERE id = $1 AND owner = $2 AND status = 'ready'",
        )
        .bind(batch.dataset_id)
        .bind(batch.owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row_count) = ready else {
            return Ok(None);
        };
        let total = batch
            .first_rows
            .map_or(row_count, |n| n.clamp(0, row_count));
        let now = Timestamp::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO batches (owner, name, status, total_rows, config, created_at, started_at, dataset_id) \
             VALUES ($1, $2, 'running', $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(batch.owner)
        .bind(batch.name)
        .bind(total)
        .bind(batch.config.to_string())
        .bind(now)
        .bind(now)
        .bind(batch.dataset_id)
        .fetch_one(&mut *tx)
        .await?;
        // One statement on both engines: the rows never leave the database.
        sqlx::query(
            "INSERT INTO batch_rows (batch_id, row_index) \
             SELECT $1, row_index FROM dataset_rows WHERE dataset_id = $2 AND row_index < $3 \
             ORDER BY row_index",
        )
        .bind(id)
        .bind(batch.dataset_id)
        .bind(total)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    })
}

/// What [`run_remaining`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunRemaining {
    /// The batch now covers every row of its dataset: this many rows were queued after the
    /// trial's, which keep their answers.
    Extended { added: i64 },
    /// No batch `id` of this owner.
    NotFound,
    /// The batch already covers every row of its dataset (it was never a trial, or its
    /// remaining rows were added already).
    NotLimited,
    /// A cancelled batch stays over.
    Cancelled,
}

/// Grows the `owner`'s trial batch (one started on the first rows of its dataset) to every row
/// of the dataset: the rows after the trial are queued, the trial's rows keep their answers, and
/// the batch runs again if it had finished or was paused. The frozen configuration says the
/// limit was lifted (`recipe.settings.first_rows` becomes null; `row_limit_lifted` keeps what it
/// was and when), so the batch reads as a whole run from then on. One transaction: a second call
/// finds the batch complete and adds nothing.
#[tracing::instrument(skip_all, fields(batch_id = id))]
pub async fn run_remaining(
    db: &Database,
    owner: &str,
    id: i64,
) -> Result<RunRemaining, StoreError> {
    let now = Timestamp::now();
    on_pool!(db, |pool, dialect| {
        let mut tx = pool.begin().await?;
        let extended: Option<(i64, i64)> = match dialect {
            // The update comes first, so the transaction takes the write lock before it reads (a
            // read first would risk SQLITE_BUSY on the upgrade). SET expressions see the row as
            // it was.
            Dialect::Sqlite => {
                sqlx::query_as(
                    "UPDATE batches SET \
                     total_rows = (SELECT row_count FROM datasets WHERE id = batches.dataset_id), \
                     status = CASE status WHEN 'queued' THEN 'queued' ELSE 'running' END, \
                     finished_at = NULL, pause_reason = NULL, \
                     config = json_set(json_set(config, '$.recipe.settings.first_rows', json('null')), \
                         '$.row_limit_lifted', json_object( \
                             'first_rows', json_extract(config, '$.recipe.settings.first_rows'), \
                             'trial_rows', total_rows, 'at', $3)) \
                     WHERE id = $1 AND owner = $2 AND status != 'cancelled' AND dataset_id IS NOT NULL \
                     AND total_rows < (SELECT row_count FROM datasets WHERE id = batches.dataset_id) \
                     RETURNING dataset_id, total_rows",
                )
                .bind(id)
                .bind(owner)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
            }
            // jsonb_set would sort the keys of every object in the configuration (jsonb keeps no
            // order), and the order of a schema's fields is the user's: the row is locked (a
            // second call waits, then finds it complete), its configuration edited here, written.
            Dialect::Postgres => {
                let limited: Option<(String, i64)> = sqlx::query_as(
                    "SELECT config, total_rows FROM batches \
                     WHERE id = $1 AND owner = $2 AND status != 'cancelled' AND dataset_id IS NOT NULL \
                     AND total_rows < (SELECT row_count FROM datasets WHERE id = batches.dataset_id) \
                     FOR UPDATE",
                )
                .bind(id)
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?;
                match limited {
                    None => None,
                    Some((config, trial_rows)) => Some(
                        sqlx::query_as(
                            "UPDATE batches SET \
                             total_rows = (SELECT row_count FROM datasets WHERE id = batches.dataset_id), \
                             status = CASE status WHEN 'queued' THEN 'queued' ELSE 'running' END, \
                             finished_at = NULL, pause_reason = NULL, config = $2 \
                             WHERE id = $1 RETURNING dataset_id, total_rows",
                        )
                        .bind(id)
                        .bind(lift_row_limit(id, &config, trial_rows, now)?)
                        .fetch_one(&mut *tx)
                        .await?,
                    ),
                }
            }
        };
        let Some((dataset_id, total)) = extended else {
            let status: Option<BatchStatus> =
                sqlx::query_scalar("SELECT status FROM batches WHERE id = $1 AND owner = $2")
                    .bind(id)
                    .bind(owner)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(match status {
                None => RunRemaining::NotFound,
                Some(BatchStatus::Cancelled) => RunRemaining::Cancelled,
                Some(_) => RunRemaining::NotLimited,
            });
        };
        // After the last row the batch has, whatever the trial's limit said.
        let added = sqlx::query(
            "INSERT INTO batch_rows (batch_id, row_index) \
             SELECT $1, row_index FROM dataset_rows WHERE dataset_id = $2 AND row_index < $3 \
             AND row_index > (SELECT COALESCE(MAX(row_index), -1) FROM batch_rows WHERE batch_id = $1) \
             ORDER BY row_index",
        )
        .bind(id)
        .bind(dataset_id)
        .bind(total)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RunRemaining::Extended {
            added: i64::try_from(added.rows_affected()).unwrap_or(i64::MAX),
        })
    })
}

/// The stored configuration `config` of batch `batch_id` with its trial limit lifted, as
/// SQLite's `json_set` in [`run_remaining`] writes it: `recipe.settings.first_rows` becomes null
/// in its place, and `row_limit_lifted` (what the limit was, the trial's rows, when) is added
/// last. Every other key keeps its place (`serde_json` keeps the order it read).
fn lift_row_limit(
    batch_id: i64,
    config: &str,
    trial_rows: i64,
    at: Timestamp,
) -> Result<String, StoreError> {
    let mut config: serde_json::Value =
        serde_json::from_str(config).map_err(|e| StoreError::CorruptBatch {
            batch_id,
            reason: e.to_string(),
        })?;
    let first_rows = config
        .pointer_mut("/recipe/settings")
        .and_then(serde_json::Value::as_object_mut)
        .and_then(|settings| settings.insert("first_rows".into(), serde_json::Value::Null))
        .unwrap_or(serde_json::Value::Null);
    if let Some(top) = config.as_object_mut() {
        top.insert(
            "row_limit_lifted".into(),
            serde_json::json!({
                "first_rows": first_rows,
                "trial_rows": trial_rows,
                "at": at.as_millis(),
            }),
        );
    }
    Ok(config.to_string())
}

/// A batch's stored configuration and state, for its page and the worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub summary: BatchSummary,
    pub dataset_id: Option<i64>,
    /// Everything the batch runs with, frozen when it started.
    pub config: BatchConfig,
}

/// A batch's stored configuration, read with the one rule for stored data that does not parse:
/// an error naming the batch, never a default.
pub(crate) fn parse_config(batch_id: i64, text: &str) -> Result<BatchConfig, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::CorruptBatch {
        batch_id,
        reason: e.to_string(),
    })
}

/// A `batches` row as [`find`] reads it.
type BatchRecord = (
    i64,
    String,
    BatchStatus,
    i64,
    i64,
    i64,
    Timestamp,
    Option<i64>,
    String,
);

/// The batch `id` if it is `owner`'s.
#[tracing::instrument(skip_all, fields(batch_id = id))]
pub async fn find(db: &Database, owner: &str, id: i64) -> Result<Option<Batch>, StoreError> {
    let row: Option<BatchRecord> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT id, name, status, total_rows, done_rows, failed_rows, created_at, dataset_id, config \
             FROM batches WHERE id = $1 AND owner = $2",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await?
    });
    let Some((
        id,
        name,
        status,
        total_rows,
        done_rows,
        failed_rows,
        created_at,
        dataset_id,
        config,
    )) = row
    else {
        return Ok(None);
    };
    let config = parse_config(id, &config)?;
    Ok(Some(Batch {
        summary: BatchSummary {
            id,
            name,
            status,
            total_rows,
            done_rows,
            failed_rows,
            created_at,
        },
        dataset_id,
        config,
    }))
}

/// How many of a batch's rows are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

/// Counts the batch's rows by state.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn row_counts(db: &Database, batch_id: i64) -> Result<RowCounts, StoreError> {
    let rows: Vec<(String, i64)> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT status, COUNT(*) FROM batch_rows WHERE batch_id = $1 GROUP BY status",
        )
        .bind(batch_id)
        .fetch_all(pool)
        .await?
    });
    let mut counts = RowCounts::default();
    for (status, n) in rows {
        match status.as_str() {
            "queued" => counts.queued = n,
            "running" => counts.running = n,
            "succeeded" => counts.succeeded = n,
            "failed" => counts.failed = n,
            "cancelled" => counts.cancelled = n,
            other => {
                return Err(StoreError::Corrupt {
                    what: "batch row status",
                    reason: format!("unknown status {other:?}"),
                });
            }
        }
    }
    Ok(counts)
}

/// The `owner`'s batches, newest first, at most `limit` of them.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Database, owner: &str, limit: u32) -> Result<Vec<BatchSummary>, StoreError> {
    let rows = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT id, name, status, total_rows, done_rows, failed_rows, created_at FROM batches \
             WHERE owner = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(owner)
        // PostgreSQL's LIMIT takes a BIGINT (sqlx has no unsigned integers for it).
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// Deletes the `owner`'s batch with its rows, attempts and earlier answers; false if it is not
/// theirs.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn delete_batch(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    on_pool!(db, |pool, dialect| {
        // IMMEDIATE on SQLite: the write lock is taken (waiting out the busy timeout) before the
        // owner is read. A deferred transaction reads first, and in WAL mode its upgrade to a
        // writer fails at once with SQLITE_BUSY when a worker committed meanwhile, as the last
        // call of a batch just cancelled does: the delete then answered 500. On PostgreSQL the
        // batch's row is locked instead: a worker's write for it (its foreign key) waits for the
        // delete, then finds the batch gone.
        let mut tx = pool.begin_with(dialect.begin_write()).await?;
        let found: Option<i64> = sqlx::query_scalar(dialect.pick(
            "SELECT id FROM batches WHERE id = $1 AND owner = $2",
            "SELECT id FROM batches WHERE id = $1 AND owner = $2 FOR UPDATE",
        ))
        .bind(batch_id)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Ok(false);
        }
        // Explicit deletes: foreign-key cascades depend on a pragma per connection on SQLite.
        sqlx::query("DELETE FROM row_attempts WHERE batch_id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM row_history WHERE batch_id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM batch_rows WHERE batch_id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        // The comparison it was a run of stays, with its other runs.
        sqlx::query("DELETE FROM comparison_runs WHERE batch_id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM batches WHERE id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;
    use crate::testing::{execute, numbers, scalar_i64};

    fn batch<'a>(owner: &'a str, name: &'a str, config: &'a serde_json::Value) -> NewBatch<'a> {
        NewBatch {
            owner,
            name,
            total_rows: 10,
            config,
        }
    }

    #[tokio::test]
    async fn a_stored_configuration_that_does_not_parse_is_an_error_naming_the_batch() {
        let (db, _dir) = fresh_database().await;
        let id = create(
            &db,
            batch("alice", "old", &serde_json::json!({ "columns": "x" })),
        )
        .await
        .expect("insert");
        let error = find(&db, "alice", id)
            .await
            .expect_err("refused, not guessed");
        assert!(
            matches!(error, StoreError::CorruptBatch { batch_id, .. } if batch_id == id),
            "{error}"
        );
        assert!(
            error.to_string().contains(&format!("batch {id}")),
            "{error}"
        );
        assert!(matches!(
            crate::queue::batch_config(&db, id).await,
            Err(StoreError::CorruptBatch { .. })
        ));
    }

    #[tokio::test]
    async fn a_fresh_database_lists_no_batches() {
        let (db, _dir) = fresh_database().await;
        assert!(list(&db, "local", 50).await.expect("query").is_empty());
    }

    #[tokio::test]
    async fn batches_are_listed_newest_first_and_only_to_their_owner() {
        let (db, _dir) = fresh_database().await;
        let config = crate::fixtures::config_json(|_| ());
        let first = create(&db, batch("alice", "first", &config))
            .await
            .expect("insert");
        let second = create(&db, batch("alice", "second", &config))
            .await
            .expect("insert");
        create(&db, batch("bob", "bob's", &config))
            .await
            .expect("insert");

        let listed = list(&db, "alice", 50).await.expect("query");
        let ids: Vec<i64> = listed.iter().map(|b| b.id).collect();
        assert_eq!(ids, vec![second, first]);
        assert_eq!(listed[0].status, BatchStatus::Queued);
        assert_eq!(listed[0].total_rows, 10);
    }

    async fn ready_dataset(db: &Database, owner: &str, rows: i64) -> i64 {
        let id: i64 = on_pool!(db, |pool, _dialect| {
            sqlx::query_scalar(
                "INSERT INTO datasets (owner, name, file_name, status, row_count, created_at) \
                 VALUES ($1, 'd', 'd.csv', 'ready', $2, 0) RETURNING id",
            )
            .bind(owner)
            .bind(rows)
            .fetch_one(pool)
            .await
            .expect("dataset")
        });
        for i in 0..rows {
            execute(
                db,
                "INSERT INTO dataset_rows (dataset_id, row_index, line, cells) VALUES ($1, $2, $3, '[]')",
                &[id, i, i + 2],
            )
            .await;
        }
        id
    }

    fn over<'a>(
        owner: &'a str,
        dataset_id: i64,
        first_rows: Option<i64>,
        config: &'a serde_json::Value,
    ) -> DatasetBatch<'a> {
        DatasetBatch {
            owner,
            name: "run",
            dataset_id,
            first_rows,
            config,
        }
    }

    #[tokio::test]
    async fn starting_a_batch_queues_one_job_per_dataset_row_and_freezes_the_config() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 25).await;
        let config = crate::fixtures::config_json(|c| c.recipe.prompt.user = "{{ body }}".into());
        let id = start_over_dataset(&db, over("alice", dataset, None, &config))
            .await
            .expect("query")
            .expect("started");
        let batch = find(&db, "alice", id)
            .await
            .expect("query")
            .expect("exists");
        assert_eq!(batch.summary.status, BatchStatus::Running);
        assert_eq!(batch.summary.total_rows, 25);
        assert_eq!(batch.dataset_id, Some(dataset));
        assert_eq!(serde_json::to_value(&batch.config).expect("JSON"), config);
        let counts = row_counts(&db, id).await.expect("counts");
        assert_eq!(
            counts,
            RowCounts {
                queued: 25,
                ..RowCounts::default()
            }
        );
        assert_eq!(find(&db, "bob", id).await.expect("query"), None);
    }

    #[tokio::test]
    async fn a_trial_run_queues_only_the_first_rows() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 10).await;
        let config = crate::fixtures::config_json(|_| ());
        let id = start_over_dataset(&db, over("alice", dataset, Some(3), &config))
            .await
            .expect("query")
            .expect("started");
        let indexes = numbers(
            &db,
            "SELECT row_index FROM batch_rows WHERE batch_id = $1 ORDER BY row_index",
            &[id],
        )
        .await;
        assert_eq!(indexes, [[Some(0)], [Some(1)], [Some(2)]]);
        let more = start_over_dataset(&db, over("alice", dataset, Some(99), &config))
            .await
            .expect("query")
            .expect("started");
        assert_eq!(row_counts(&db, more).await.expect("counts").queued, 10);
    }

    /// A trial of the first `trial` of `rows` rows whose rows have all finished.
    async fn finished_trial(db: &Database, rows: i64, trial: i64) -> i64 {
        use crate::queue;
        let dataset = ready_dataset(db, "alice", rows).await;
        let config = crate::fixtures::config_json(|c| {
            c.recipe.settings.first_rows = Some(u64::try_from(trial).expect("a row count"))
        });
        let id = start_over_dataset(db, over("alice", dataset, Some(trial), &config))
            .await
            .expect("query")
            .expect("started");
        while let Some(row) = queue::claim_next(db, std::time::Duration::from_secs(60))
            .await
            .expect("claim")
        {
            let outcome = queue::RowOutcome::Succeeded {
                result: serde_json::json!({ "answer": row.row_index }),
                latency_ms: 1,
                input_tokens: None,
                output_tokens: None,
                cost_usd: None,
            };
            queue::finish_row(db, id, row.row_index, row.claim, outcome)
                .await
                .expect("finish");
        }
        id
    }

    #[tokio::test]
    async fn running_the_remaining_rows_grows_the_trial_batch_and_keeps_its_answers() {
        let (db, _dir) = fresh_database().await;
        let id = finished_trial(&db, 5, 2).await;
        let before = find(&db, "alice", id).await.expect("query").expect("batch");
        assert_eq!(before.summary.status, BatchStatus::Completed);
        let trial_rows = crate::queue::rows_page(&db, "alice", id, None, None, 10)
            .await
            .expect("query")
            .expect("owned");

        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::Extended { added: 3 }
        );
        let after = find(&db, "alice", id).await.expect("query").expect("batch");
        assert_eq!(after.summary.status, BatchStatus::Running);
        assert_eq!(after.summary.total_rows, 5);
        assert_eq!(after.summary.done_rows, 2);
        assert_eq!(after.config.recipe.settings.first_rows, None);
        let stored = crate::fixtures::stored_config(&db, id).await;
        assert_eq!(stored["row_limit_lifted"]["first_rows"], 2);
        assert_eq!(stored["row_limit_lifted"]["trial_rows"], 2);
        let finished_at =
            numbers(&db, "SELECT finished_at FROM batches WHERE id = $1", &[id]).await;
        assert_eq!(finished_at, [[None]]);
        assert_eq!(
            row_counts(&db, id).await.expect("counts"),
            RowCounts {
                queued: 3,
                succeeded: 2,
                ..RowCounts::default()
            }
        );
        let rows = crate::queue::rows_page(&db, "alice", id, None, None, 10)
            .await
            .expect("query")
            .expect("owned");
        assert_eq!(
            rows[..2],
            trial_rows[..],
            "the trial's answers are untouched"
        );
        assert_eq!(
            rows.iter().map(|r| r.row_index).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
    }

    #[tokio::test]
    async fn running_the_remaining_rows_twice_adds_them_once() {
        let (db, _dir) = fresh_database().await;
        let id = finished_trial(&db, 4, 1).await;
        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::Extended { added: 3 }
        );
        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::NotLimited
        );
        let rows = scalar_i64(
            &db,
            "SELECT COUNT(*) FROM batch_rows WHERE batch_id = $1",
            &[id],
        )
        .await;
        assert_eq!(rows, 4);
        assert_eq!(
            find(&db, "alice", id)
                .await
                .expect("query")
                .expect("batch")
                .summary
                .total_rows,
            4
        );
    }

    #[tokio::test]
    async fn only_the_owner_of_a_trial_runs_its_remaining_rows() {
        let (db, _dir) = fresh_database().await;
        let id = finished_trial(&db, 3, 1).await;
        assert_eq!(
            run_remaining(&db, "bob", id).await.expect("query"),
            RunRemaining::NotFound
        );
        assert_eq!(
            run_remaining(&db, "alice", id + 100).await.expect("query"),
            RunRemaining::NotFound
        );
        assert_eq!(row_counts(&db, id).await.expect("counts").queued, 0);
    }

    #[tokio::test]
    async fn a_batch_over_every_row_has_no_remaining_rows_to_run() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 3).await;
        let config = crate::fixtures::config_json(|_| ());
        let id = start_over_dataset(&db, over("alice", dataset, None, &config))
            .await
            .expect("query")
            .expect("started");
        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::NotLimited
        );
        let after = find(&db, "alice", id).await.expect("query").expect("batch");
        assert_eq!(
            serde_json::to_value(&after.config).expect("JSON"),
            config,
            "the configuration is left alone"
        );
    }

    /// The keys of a JSON object, in their order.
    fn keys(value: &serde_json::Value) -> Vec<&str> {
        value
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn lifting_a_trial_limit_keeps_the_configuration_in_its_order() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 5).await;
        let config = crate::fixtures::config_json(|c| c.recipe.settings.first_rows = Some(2));
        let id = start_over_dataset(&db, over("alice", dataset, Some(2), &config))
            .await
            .expect("query")
            .expect("started");
        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::Extended { added: 3 }
        );
        let stored = crate::fixtures::stored_config(&db, id).await;
        let mut expected = keys(&config);
        expected.push("row_limit_lifted");
        assert_eq!(keys(&stored), expected, "not sorted, the new key last");
        assert_eq!(
            keys(&stored["recipe"]["settings"]),
            keys(&config["recipe"]["settings"])
        );
        assert_eq!(
            keys(&stored["row_limit_lifted"]),
            ["first_rows", "trial_rows", "at"]
        );
        assert_eq!(
            stored["recipe"]["settings"]["first_rows"],
            serde_json::Value::Null
        );
        assert_eq!(stored["row_limit_lifted"]["first_rows"], 2);
        assert_eq!(stored["row_limit_lifted"]["trial_rows"], 2);
        assert!(stored["row_limit_lifted"]["at"].is_i64());
        let mut back = stored.clone();
        back.as_object_mut()
            .expect("an object")
            .remove("row_limit_lifted");
        back["recipe"]["settings"]["first_rows"] = serde_json::json!(2);
        assert_eq!(back, config, "nothing else changed");
        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::NotLimited
        );
        assert_eq!(row_counts(&db, id).await.expect("counts").queued, 5);
    }

    #[tokio::test]
    async fn two_calls_at_once_run_the_remaining_rows_once() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 6).await;
        let config = crate::fixtures::config_json(|_| ());
        let id = start_over_dataset(&db, over("alice", dataset, Some(2), &config))
            .await
            .expect("query")
            .expect("started");
        let (a, b) = tokio::join!(
            run_remaining(&db, "alice", id),
            run_remaining(&db, "alice", id)
        );
        let mut answers = [a.expect("first"), b.expect("second")];
        answers.sort_by_key(|answer| matches!(answer, RunRemaining::NotLimited));
        assert_eq!(
            answers,
            [
                RunRemaining::Extended { added: 4 },
                RunRemaining::NotLimited
            ]
        );
        assert_eq!(row_counts(&db, id).await.expect("counts").queued, 6);
        assert!(crate::fixtures::stored_config(&db, id).await["row_limit_lifted"].is_object());
    }

    #[tokio::test]
    async fn a_batch_is_deleted_with_its_rows_and_only_by_its_owner() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 3).await;
        let config = crate::fixtures::config_json(|_| ());
        let id = start_over_dataset(&db, over("alice", dataset, None, &config))
            .await
            .expect("query")
            .expect("started");
        assert!(!delete_batch(&db, "bob", id).await.expect("query"));
        assert!(delete_batch(&db, "alice", id).await.expect("query"));
        assert_eq!(find(&db, "alice", id).await.expect("query"), None);
        assert_eq!(
            scalar_i64(
                &db,
                "SELECT COUNT(*) FROM batch_rows WHERE batch_id = $1",
                &[id]
            )
            .await,
            0
        );
        assert!(!delete_batch(&db, "alice", id).await.expect("query"));
    }

    #[tokio::test]
    async fn a_cancelled_trial_is_not_run_on() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 5).await;
        let config = crate::fixtures::config_json(|_| ());
        let id = start_over_dataset(&db, over("alice", dataset, Some(2), &config))
            .await
            .expect("query")
            .expect("started");
        assert!(
            crate::queue::cancel(&db, "alice", id)
                .await
                .expect("cancel")
        );
        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::Cancelled
        );
        let after = find(&db, "alice", id).await.expect("query").expect("batch");
        assert_eq!(
            (after.summary.status, after.summary.total_rows),
            (BatchStatus::Cancelled, 2)
        );
    }

    #[tokio::test]
    async fn a_paused_trial_runs_again_with_its_remaining_rows() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 5).await;
        let config = crate::fixtures::config_json(|_| ());
        let id = start_over_dataset(&db, over("alice", dataset, Some(2), &config))
            .await
            .expect("query")
            .expect("started");
        assert!(
            crate::queue::pause(&db, "alice", id, Some("checking"))
                .await
                .expect("pause")
        );
        assert_eq!(
            run_remaining(&db, "alice", id).await.expect("query"),
            RunRemaining::Extended { added: 3 }
        );
        let after = find(&db, "alice", id).await.expect("query").expect("batch");
        assert_eq!(after.summary.status, BatchStatus::Running);
        assert_eq!(
            crate::queue::totals(&db, id)
                .await
                .expect("totals")
                .pause_reason,
            None
        );
        assert_eq!(row_counts(&db, id).await.expect("counts").queued, 5);
    }

    #[tokio::test]
    async fn nobody_starts_a_batch_over_someone_elses_or_a_half_uploaded_dataset() {
        let (db, _dir) = fresh_database().await;
        let dataset = ready_dataset(&db, "alice", 2).await;
        let config = crate::fixtures::config_json(|_| ());
        assert_eq!(
            start_over_dataset(&db, over("bob", dataset, None, &config))
                .await
                .expect("query"),
            None
        );
        execute(
            &db,
            "UPDATE datasets SET status = 'loading' WHERE id = $1",
            &[dataset],
        )
        .await;
        assert_eq!(
            start_over_dataset(&db, over("alice", dataset, None, &config))
                .await
                .expect("query"),
            None
        );
        assert!(list(&db, "alice", 10).await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn the_list_is_capped_at_the_limit() {
        let (db, _dir) = fresh_database().await;
        let config = crate::fixtures::config_json(|_| ());
        for i in 0..5 {
            create(&db, batch("local", &format!("b{i}"), &config))
                .await
                .expect("insert");
        }
        assert_eq!(list(&db, "local", 3).await.expect("query").len(), 3);
    }
}
