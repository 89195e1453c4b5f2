//! Comparisons: batches over the same rows of a dataset with another model, provider, prompt or
//! temperature, linked so their answers can be measured against each other. The first batch of a
//! comparison is the one it was started from; each run after it covers some or all of its rows.

use serde_json::Value;

use crate::database::on_pool;
use crate::{Database, StoreError, Timestamp};

/// Which of the base batch's rows a comparison run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRows {
    All,
    /// The first this-many, by row.
    First(i64),
    /// These rows (each one of the base batch's).
    Listed(Vec<i64>),
}

/// A comparison run to start from batch `base`.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub owner: &'a str,
    pub started_by: &'a str,
    pub base: i64,
    pub name: &'a str,
    /// The frozen configuration (mapping, prompt, schema, settings) the run goes with.
    pub config: &'a Value,
    pub rows: &'a RunRows,
}

/// A comparison run as started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartedRun {
    pub comparison_id: i64,
    pub batch_id: i64,
    /// Its rows.
    pub rows: i64,
}

/// A comparison: its runs (batch ids) in the order they were started, the base first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub id: i64,
    pub created_at: Timestamp,
    pub runs: Vec<i64>,
}

/// Starts a run of `run.base`'s rows with `run.config`, in one transaction: the comparison is made
/// on the base's first run (the base its first member), the batch and its queued rows recorded,
/// and the run linked. `None` when the base batch is not `run.owner`'s or has no dataset.
#[tracing::instrument(skip_all, fields(base = run.base))]
pub async fn start_run(db: &Database, run: NewRun<'_>) -> Result<Option<StartedRun>, StoreError> {
    on_pool!(db, |pool, dialect| {
        let mut tx = pool.begin_with(dialect.begin_write()).await?;
        let base: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT dataset_id FROM batches WHERE id = $1 AND owner = $2")
                .bind(run.base)
                .bind(run.owner)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((Some(dataset_id),)) = base else {
            return Ok(None);
        };
        let now = Timestamp::now();
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT comparison_id FROM comparison_runs WHERE batch_id = $1")
                .bind(run.base)
                .fetch_optional(&mut *tx)
                .await?;
        let comparison_id = match existing {
            Some(id) => id,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO comparisons (owner, created_by, created_at) VALUES ($1, $2, $3) \
                     RETURNING id",
                )
                .bind(run.owner)
                .bind(run.started_by)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO comparison_runs (comparison_id, batch_id, position) VALUES ($1, $2, 0)",
                )
                .bind(id)
                .bind(run.base)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let batch_id: i64 = sqlx::query_scalar(
            "INSERT INTO batches (owner, name, status, total_rows, config, created_at, started_at, dataset_id) \
             VALUES ($1, $2, 'running', 0, $3, $4, $5, $6) RETURNING id",
        )
        .bind(run.owner)
        .bind(run.name)
        .bind(run.config.to_string())
        .bind(now)
        .bind(now)
        .bind(dataset_id)
        .fetch_one(&mut *tx)
        .await?;
        // The rows never leave the database, except a listed sample's indexes.
        let inserted = match run.rows {
            RunRows::All => sqlx::query(
                "INSERT INTO batch_rows (batch_id, row_index) \
                 SELECT $1, row_index FROM batch_rows WHERE batch_id = $2 ORDER BY row_index",
            )
            .bind(batch_id)
            .bind(run.base)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            RunRows::First(n) => sqlx::query(
                "INSERT INTO batch_rows (batch_id, row_index) \
                 SELECT $1, row_index FROM batch_rows WHERE batch_id = $2 \
                 ORDER BY row_index LIMIT $3",
            )
            .bind(batch_id)
            .bind(run.base)
            .bind(*n)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            RunRows::Listed(rows) => {
                let listed = serde_json::to_string(rows)
                    .map_err(|e| StoreError::corrupt("a comparison's rows", e))?;
                let sql = match dialect {
                    crate::database::Dialect::Sqlite => {
                        "INSERT INTO batch_rows (batch_id, row_index) \
                         SELECT $1, r.row_index FROM batch_rows r \
                         JOIN json_each($3) j ON j.value = r.row_index \
                         WHERE r.batch_id = $2 ORDER BY r.row_index"
                    }
                    crate::database::Dialect::Postgres => {
                        "INSERT INTO batch_rows (batch_id, row_index) \
                         SELECT $1, r.row_index FROM batch_rows r \
                         JOIN jsonb_array_elements_text($3::jsonb) j ON j.value::bigint = r.row_index \
                         WHERE r.batch_id = $2 ORDER BY r.row_index"
                    }
                };
                sqlx::query(sql)
                    .bind(batch_id)
                    .bind(run.base)
                    .bind(listed)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            }
        };
        let rows = i64::try_from(inserted).unwrap_or(i64::MAX);
        sqlx::query("UPDATE batches SET total_rows = $1 WHERE id = $2")
            .bind(rows)
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO comparison_runs (comparison_id, batch_id, position) \
             SELECT $1, $2, COALESCE(MAX(position), 0) + 1 FROM comparison_runs WHERE comparison_id = $1",
        )
        .bind(comparison_id)
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(StartedRun {
            comparison_id,
            batch_id,
            rows,
        }))
    })
}

/// Every row index of batch `batch_id`, in order (to draw a comparison's sample from).
pub async fn row_indexes(db: &Database, batch_id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar(
            "SELECT row_index FROM batch_rows WHERE batch_id = $1 ORDER BY row_index",
        )
        .bind(batch_id)
        .fetch_all(pool)
        .await?
    }))
}

/// `owner`'s comparison `id` with its runs, or `None`.
pub async fn find(db: &Database, owner: &str, id: i64) -> Result<Option<Comparison>, StoreError> {
    let (head, runs): (Option<(i64, Timestamp)>, Vec<i64>) = on_pool!(db, |pool, _dialect| {
        let head =
            sqlx::query_as("SELECT id, created_at FROM comparisons WHERE id = $1 AND owner = $2")
                .bind(id)
                .bind(owner)
                .fetch_optional(pool)
                .await?;
        let runs = sqlx::query_scalar(
            "SELECT batch_id FROM comparison_runs WHERE comparison_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        (head, runs)
    });
    Ok(head.map(|(id, created_at)| Comparison {
        id,
        created_at,
        runs,
    }))
}

/// The comparison batch `batch_id` is a run of, if any.
pub async fn comparison_of(db: &Database, batch_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar("SELECT comparison_id FROM comparison_runs WHERE batch_id = $1")
            .bind(batch_id)
            .fetch_optional(pool)
            .await?
    }))
}

/// One row of a comparison: its index and each run's answer (`None` where that run has no
/// answer for it: not done, failed, or not one of its rows).
pub type ComparedRow = (i64, Vec<Option<Value>>);

/// Up to `limit` rows of run `runs[driver]` after row `after`, in order, with every run's answer
/// to each. The driver is the run with the fewest rows, so a sample's comparison reads only the
/// sample's rows of the others.
pub async fn compared_rows(
    db: &Database,
    runs: &[i64],
    driver: usize,
    after: i64,
    limit: u32,
) -> Result<Vec<ComparedRow>, StoreError> {
    let Some(&lead) = runs.get(driver) else {
        return Ok(Vec::new());
    };
    let parse = |text: Option<String>| -> Result<Option<Value>, StoreError> {
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::corrupt("row result", e)))
            .transpose()
    };
    let lead_rows: Vec<(i64, Option<String>)> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT row_index, CASE WHEN status = 'succeeded' THEN result END FROM batch_rows \
             WHERE batch_id = $1 AND row_index > $2 ORDER BY row_index LIMIT $3",
        )
        .bind(lead)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    let (Some(first), Some(last)) = (lead_rows.first(), lead_rows.last()) else {
        return Ok(Vec::new());
    };
    let (first, last) = (first.0, last.0);
    let mut rows: Vec<ComparedRow> = Vec::with_capacity(lead_rows.len());
    for (row, result) in lead_rows {
        let mut answers = vec![None; runs.len()];
        answers[driver] = parse(result)?;
        rows.push((row, answers));
    }
    for (at, &run) in runs.iter().enumerate() {
        if at == driver {
            continue;
        }
        let answered: Vec<(i64, String)> = on_pool!(db, |pool, _dialect| {
            sqlx::query_as(
                "SELECT row_index, result FROM batch_rows WHERE batch_id = $1 \
                 AND row_index >= $2 AND row_index <= $3 AND status = 'succeeded' \
                 AND result IS NOT NULL ORDER BY row_index",
            )
            .bind(run)
            .bind(first)
            .bind(last)
            .fetch_all(pool)
            .await?
        });
        // Both lists are in row order: one merge pass.
        let mut slots = rows.iter_mut().peekable();
        for (row, result) in answered {
            while slots.next_if(|(r, _)| *r < row).is_some() {}
            if let Some((r, answers)) = slots.peek_mut()
                && *r == row
            {
                answers[at] = parse(Some(result))?;
            }
        }
    }
    Ok(rows)
}
