//! The reads behind a batch's download and its live progress: its rows joined with their dataset
//! cells in keyset pages, a cheap change stamp, and the progress figures in one consistent
//! snapshot.
//!
//! Neither checks the owner: call them after [`crate::batches::find`] said the batch is theirs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{ConnectOptions, SqliteConnection};

use crate::batches::{BatchStatus, RowCounts};
use crate::queue::RowStatus;
use crate::{Database, StoreError, Timestamp};

fn corrupt(what: &'static str, error: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: error.to_string(),
    }
}

/// One row of a batch with its dataset cells, as an export writes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExportRecord {
    pub row_index: i64,
    pub status: RowStatus,
    /// How many times the row was claimed.
    pub attempt: i64,
    /// The dataset row's cells; `None` if the dataset row is gone.
    pub cells: Option<Vec<String>>,
    /// The answer as stored (JSON text), passed on unparsed so numbers keep their spelling.
    pub result: Option<String>,
    pub error: Option<String>,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

/// A page of rows as SQLite wrote it: one JSON object per row, a line each.
///
/// sqlx hands every result row from SQLite's thread to the caller's on its own, which costs
/// more than reading the row (several microseconds, against one); a page comes over as a single
/// value instead. [`ExportPage::records`] parses it, wherever the caller has CPU to spare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPage {
    json: String,
    rows: usize,
    last_row: Option<i64>,
}

impl ExportPage {
    /// How many rows the page holds.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The index of the page's last row: the `after` of the next page.
    pub fn last_row(&self) -> Option<i64> {
        self.last_row
    }

    /// The rows, in row order.
    pub fn records(&self) -> Result<Vec<ExportRecord>, StoreError> {
        if self.rows == 0 {
            return Ok(Vec::new());
        }
        let mut records = Vec::with_capacity(self.rows);
        for record in serde_json::Deserializer::from_str(&self.json).into_iter::<ExportRecord>() {
            records.push(record.map_err(|e| corrupt("export row", e))?);
        }
        // group_concat promises no order; the rows carry their index, so restore it if needed.
        if !records.is_sorted_by_key(|r| r.row_index) {
            records.sort_by_key(|r| r.row_index);
        }
        Ok(records)
    }
}

/// One page of an export: each row as a JSON object built by SQLite, one a line (no enclosing
/// array, which would cost SQLite two more copies of the page). The stored cells are a JSON
/// array already and go in as they are; the stored answer goes in as a JSON string, so it comes
/// out as the exact text stored; `%!.17g` prints a REAL with every digit an f64 needs.
const EXPORT_PAGE: &str = "\
SELECT group_concat(line, char(10)), count(*), max(row_index) FROM (
    SELECT r.row_index, printf(
        '{\"row_index\":%d,\"status\":\"%s\",\"attempt\":%d,\"cells\":%s,\"result\":%s,\"error\":%s,'
        || '\"latency_ms\":%s,\"input_tokens\":%s,\"output_tokens\":%s,\"cost_usd\":%s}',
        r.row_index, r.status, r.attempt, COALESCE(d.cells, 'null'), json_quote(r.result),
        json_quote(r.error), COALESCE(r.latency_ms, 'null'), COALESCE(r.input_tokens, 'null'),
        COALESCE(r.output_tokens, 'null'),
        CASE WHEN r.cost_usd IS NULL THEN 'null' ELSE printf('%!.17g', r.cost_usd) END) AS line
    FROM batch_rows r
    LEFT JOIN dataset_rows d ON d.dataset_id = ?1 AND d.row_index = r.row_index
    WHERE r.batch_id = ?2 AND r.row_index > ?3
    ORDER BY r.row_index LIMIT ?4
)";

/// Reads a batch's rows for an export, page after page in row order, each row with its cells
/// from the batch's dataset.
///
/// Keyset paging over both primary keys: every page costs the same however deep into the batch
/// it is, so an export of any size streams in constant memory. The cursor reads on a connection
/// of its own. On one connection SQLite reads each page of the tables once; with every page
/// taken from the pool instead, measured exports went to disk again for nearly every row (1.7
/// reads a row against 0.08) and took more than twice as long. And a slow download holds none of
/// the pool's few connections.
pub struct ExportCursor {
    conn: SqliteConnection,
    batch_id: i64,
    dataset_id: Option<i64>,
    limit: u32,
    after: Option<i64>,
    done: bool,
}

impl ExportCursor {
    /// A cursor over batch `batch_id` (cells from dataset `dataset_id`) in pages of `limit` rows.
    pub async fn open(
        db: &Database,
        batch_id: i64,
        dataset_id: Option<i64>,
        limit: u32,
    ) -> Result<Self, StoreError> {
        let conn = db
            .pool()
            .connect_options()
            .connect()
            .await
            .map_err(StoreError::Connect)?;
        Ok(ExportCursor {
            conn,
            batch_id,
            dataset_id,
            limit: limit.max(1),
            after: None,
            done: false,
        })
    }

    /// The next page; `None` after the last row.
    #[tracing::instrument(skip_all, fields(batch_id = self.batch_id))]
    pub async fn next_page(&mut self) -> Result<Option<ExportPage>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let (json, rows, last_row): (Option<String>, i64, Option<i64>) =
            sqlx::query_as(EXPORT_PAGE)
                .bind(self.dataset_id)
                .bind(self.batch_id)
                .bind(self.after.unwrap_or(-1))
                .bind(self.limit)
                .fetch_one(&mut self.conn)
                .await?;
        let rows = usize::try_from(rows).unwrap_or(0);
        self.done = rows < self.limit as usize;
        self.after = last_row.or(self.after);
        if rows == 0 {
            return Ok(None);
        }
        Ok(Some(ExportPage {
            json: json.unwrap_or_default(),
            rows,
            last_row,
        }))
    }
}

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
     FROM batches WHERE id = ?";

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
    let record: Option<StampRecord> = sqlx::query_as(STAMP)
        .bind(batch_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(record.map(stamp))
}

/// What a batch's calls have cost, through the call with rowid `through` (every call, retries
/// and abandoned claims included, as on the batch page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    /// The newest `row_attempts` rowid counted: the next read adds only the calls after it.
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
/// [`progress_stamp`] changed. The spend is incremental: only calls recorded after
/// `query.spend.through` are read.
#[tracing::instrument(skip_all, fields(batch_id))]
pub async fn progress(
    db: &Database,
    batch_id: i64,
    query: ProgressQuery,
) -> Result<Option<Progress>, StoreError> {
    // One read transaction: the counts, the counters and the feed agree with each other even
    // while the worker writes (WAL readers see one snapshot and never block the writer).
    let mut tx = db.pool().begin().await?;
    let record: Option<StampRecord> = sqlx::query_as(STAMP)
        .bind(batch_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(record) = record else {
        return Ok(None);
    };
    let started_at: Option<Timestamp> =
        sqlx::query_scalar("SELECT started_at FROM batches WHERE id = ?")
            .bind(batch_id)
            .fetch_one(&mut *tx)
            .await?;
    let by_status: Vec<(RowStatus, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM batch_rows INDEXED BY batch_rows_by_status \
         WHERE batch_id = ? GROUP BY status",
    )
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

    let spend = match query.spend {
        // Rowids only grow (calls are never deleted but with their batch), so the calls after
        // `through` are exactly the new ones; the range scan touches nothing older.
        Some(before) => {
            let (through, calls, input, output, cost): (Option<i64>, i64, i64, i64, f64) =
                sqlx::query_as(
                    "SELECT MAX(rowid), COALESCE(SUM(batch_id = ?2), 0), \
                     COALESCE(SUM(CASE WHEN batch_id = ?2 THEN input_tokens END), 0), \
                     COALESCE(SUM(CASE WHEN batch_id = ?2 THEN output_tokens END), 0), \
                     COALESCE(SUM(CASE WHEN batch_id = ?2 THEN cost_usd END), 0.0) \
                     FROM row_attempts WHERE rowid > ?1",
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
        None => {
            let (calls, input, output, cost, through): (i64, i64, i64, f64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), \
                 COALESCE(SUM(cost_usd), 0.0), (SELECT COALESCE(MAX(rowid), 0) FROM row_attempts) \
                 FROM row_attempts WHERE batch_id = ?",
            )
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
        "SELECT COUNT(*) FROM batch_rows WHERE batch_id = ? AND finished_at > ?",
    )
    .bind(batch_id)
    .bind(query.now.as_millis().saturating_sub(60_000))
    .fetch_one(&mut *tx)
    .await?;

    let mut records: Vec<FinishedRecord> = sqlx::query_as(
        "SELECT row_index, status, result, error, latency_ms, finished_at FROM batch_rows \
         WHERE batch_id = ? AND finished_at > ? AND status IN ('succeeded', 'failed') \
         ORDER BY finished_at DESC, row_index DESC LIMIT ?",
    )
    .bind(batch_id)
    .bind(query.finished_after.map_or(i64::MIN, Timestamp::as_millis))
    .bind(query.finished_limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
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
                            serde_json::from_str(&text).map_err(|e| corrupt("row result", e))
                        })
                        .transpose()?,
                    error,
                    latency_ms,
                    finished_at,
                })
            },
        )
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Some(Progress {
        stamp: stamp(record),
        started_at,
        counts,
        spend,
        finished_last_minute,
        finished,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batches::{self, DatasetBatch};
    use crate::database::tests::fresh_database;
    use crate::datasets;
    use crate::queue::{self, AttemptOutcome, AttemptRecord, RowOutcome};
    use std::time::Duration;

    async fn batch(db: &Database, rows: i64) -> (i64, i64) {
        let cells = (0..rows).map(|i| vec![format!("cell {i}"), "\"q\", 日本\r\n".to_string()]);
        let dataset = datasets::create_from_cells(db, "alice", "d", cells)
            .await
            .expect("dataset");
        let config = serde_json::json!({ "recipe": { "settings": { "concurrency": 4 } } });
        let id = batches::start_over_dataset(
            db,
            DatasetBatch {
                owner: "alice",
                name: "run",
                dataset_id: dataset,
                first_rows: None,
                config: &config,
            },
        )
        .await
        .expect("query")
        .expect("started");
        (id, dataset)
    }

    /// Claims the next row and finishes it with an answer, recording one call of 10 + 5 tokens.
    async fn run_one(db: &Database, id: i64) -> i64 {
        let row = queue::claim_next(db, Duration::from_secs(60))
            .await
            .expect("claim")
            .expect("a row");
        queue::record_attempt(
            db,
            &AttemptRecord {
                batch_id: id,
                row_index: row.row_index,
                claim: row.claim,
                call_no: 1,
                started_at: Timestamp::now(),
                latency_ms: Some(5),
                http_status: Some(200),
                request: None,
                raw_response: None,
                outcome: AttemptOutcome::Ok,
                error: None,
                input_tokens: Some(10),
                output_tokens: Some(5),
                cost_usd: Some(0.5),
            },
        )
        .await
        .expect("attempt");
        let outcome = RowOutcome::Succeeded {
            result: serde_json::json!({ "score": 1.5, "row": row.row_index }),
            latency_ms: 5,
            input_tokens: Some(10),
            output_tokens: Some(5),
            cost_usd: Some(0.5),
        };
        assert!(
            queue::finish_row(db, id, row.row_index, row.claim, outcome)
                .await
                .expect("finish")
        );
        row.row_index
    }

    fn query(spend: Option<Spend>, finished_after: Option<Timestamp>) -> ProgressQuery {
        ProgressQuery {
            now: Timestamp::now(),
            spend,
            finished_after,
            finished_limit: 50,
        }
    }

    async fn read_all(db: &Database, id: i64, dataset: Option<i64>, limit: u32) -> Vec<ExportPage> {
        let mut cursor = ExportCursor::open(db, id, dataset, limit)
            .await
            .expect("cursor");
        let mut pages = Vec::new();
        while let Some(page) = cursor.next_page().await.expect("page") {
            pages.push(page);
        }
        pages
    }

    #[tokio::test]
    async fn export_pages_join_cells_and_answers_in_row_order() {
        let (db, _dir) = fresh_database().await;
        let (id, dataset) = batch(&db, 5).await;
        run_one(&db, id).await;
        let pages = read_all(&db, id, Some(dataset), 3).await;
        assert_eq!(
            pages
                .iter()
                .map(|p| (p.len(), p.last_row()))
                .collect::<Vec<_>>(),
            [(3, Some(2)), (2, Some(4))]
        );
        let first = pages[0].records().expect("parses");
        assert_eq!(
            first.iter().map(|r| r.row_index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(first[0].status, RowStatus::Succeeded);
        assert_eq!(first[0].result.as_deref(), Some(r#"{"score":1.5,"row":0}"#));
        assert_eq!(
            first[1].cells,
            Some(vec!["cell 1".to_string(), "\"q\", 日本\r\n".to_string()])
        );
        assert_eq!(first[1].status, RowStatus::Queued);
        let rest = pages[1].records().expect("parses");
        assert_eq!(rest.iter().map(|r| r.row_index).collect::<Vec<_>>(), [3, 4]);

        let exact = read_all(&db, id, Some(dataset), 5).await;
        assert_eq!(exact.len(), 1, "no empty page after an exactly full one");
        let none = read_all(&db, id, None, 10).await[0]
            .records()
            .expect("parses");
        assert_eq!(none[0].cells, None, "no dataset, no cells");
        assert!(read_all(&db, 999, Some(dataset), 10).await.is_empty());
    }

    #[tokio::test]
    async fn export_rows_keep_errors_costs_and_answers_exactly_as_stored() {
        let (db, _dir) = fresh_database().await;
        let (id, dataset) = batch(&db, 2).await;
        let row = queue::claim_next(&db, Duration::from_secs(60))
            .await
            .expect("claim")
            .expect("a row");
        let outcome = RowOutcome::Failed {
            error: "Bad \"answer\":\n\t{not json} 日本".to_string(),
            latency_ms: 7,
            input_tokens: None,
            output_tokens: Some(3),
            cost_usd: Some(0.1 + 0.2),
        };
        assert!(
            queue::finish_row(&db, id, row.row_index, row.claim, outcome)
                .await
                .expect("finish")
        );
        sqlx::query("UPDATE batch_rows SET result = ? WHERE batch_id = ? AND row_index = 1")
            .bind(r#"{"n":1.0e2,"s":"x\"y"}"#)
            .bind(id)
            .execute(db.pool())
            .await
            .expect("a hand-written answer");
        let records = read_all(&db, id, Some(dataset), 10).await[0]
            .records()
            .expect("parses");
        assert_eq!(records[0].status, RowStatus::Failed);
        assert_eq!(
            records[0].error.as_deref(),
            Some("Bad \"answer\":\n\t{not json} 日本")
        );
        assert_eq!(
            records[0].cost_usd,
            Some(0.1 + 0.2),
            "every digit of the f64"
        );
        assert_eq!(records[0].input_tokens, None);
        assert_eq!(records[0].output_tokens, Some(3));
        assert_eq!(records[0].result, None);
        assert_eq!(
            records[1].result.as_deref(),
            Some(r#"{"n":1.0e2,"s":"x\"y"}"#)
        );
        assert_eq!(records[1].status, RowStatus::Queued);
        assert_eq!(records[1].latency_ms, None);
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
