//! The reads behind a batch's download: its rows joined with their dataset cells in keyset
//! pages, read in constant memory however large the batch. (Its live progress is
//! [`crate::progress`].)
//!
//! Nothing here checks the owner: call it after [`crate::batches::find`] said the batch is theirs.

use serde::Deserialize;
use sqlx::{ConnectOptions, SqliteConnection};

use crate::queue::RowStatus;
use crate::{Database, StoreError};

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::batches::{self, DatasetBatch};
    use crate::database::tests::fresh_database;
    use crate::datasets;
    use crate::queue::{self, AttemptOutcome, AttemptRecord, RowOutcome};
    use std::time::Duration;

    pub(crate) async fn batch(db: &Database, rows: i64) -> (i64, i64) {
        let cells = (0..rows).map(|i| vec![format!("cell {i}"), "\"q\", 日本\r\n".to_string()]);
        let dataset = datasets::create_from_cells(db, "alice", "d", cells)
            .await
            .expect("dataset");
        let config = crate::fixtures::config_json(|c| c.recipe.settings.concurrency = 4);
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
    pub(crate) async fn run_one(db: &Database, id: i64) -> i64 {
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
}
