//! The reads behind a batch's download: its rows joined with their dataset cells in keyset
//! pages, read in constant memory however large the batch. (Its live progress is
//! [`crate::progress`].)
//!
//! Nothing here checks the owner: call it after [`crate::batches::find`] said the batch is theirs.

use serde::Deserialize;
use sqlx::postgres::PgPool;
use sqlx::{ConnectOptions, SqliteConnection};

use crate::Timestamp;
use crate::database::Backend;
use crate::queue::RowStatus;
use crate::{Database, StoreError};

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
    /// A person's review of the row, if it has one.
    #[serde(default)]
    pub review: Option<ExportReview>,
}

/// A row's review as an export reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExportReview {
    /// `accept`, `fix` or `reject`.
    pub decision: String,
    /// The answer vouched for, JSON text as stored; `None` for a rejection.
    pub answer: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: Timestamp,
}

/// A page of rows as the database wrote it: one JSON object per row, a line each.
///
/// sqlx hands every result row from SQLite's thread to the caller's on its own, which costs
/// more than reading the row (several microseconds, against one); a page comes over as a single
/// value instead. PostgreSQL builds the same lines, so a page is one value there too, one
/// message rather than thousands of rows to decode. [`ExportPage::records`] parses it, wherever
/// the caller has CPU to spare.
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
            records.push(record.map_err(|e| StoreError::corrupt("export row", e))?);
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
        || '\"latency_ms\":%s,\"input_tokens\":%s,\"output_tokens\":%s,\"cost_usd\":%s',
        r.row_index, r.status, r.attempt, COALESCE(d.cells, 'null'), json_quote(r.result),
        json_quote(r.error), COALESCE(r.latency_ms, 'null'), COALESCE(r.input_tokens, 'null'),
        COALESCE(r.output_tokens, 'null'),
        CASE WHEN r.cost_usd IS NULL THEN 'null' ELSE printf('%!.17g', r.cost_usd) END)
        || CASE WHEN v.decision IS NULL THEN '}' ELSE printf(
            ',\"review\":{\"decision\":%s,\"answer\":%s,\"reviewed_by\":%s,\"reviewed_at\":%d}}',
            json_quote(v.decision), json_quote(v.answer), json_quote(v.reviewed_by), v.reviewed_at)
        END AS line
    FROM batch_rows r
    LEFT JOIN dataset_rows d ON d.dataset_id = $1 AND d.row_index = r.row_index
    LEFT JOIN row_reviews v ON v.batch_id = r.batch_id AND v.row_index = r.row_index
    WHERE r.batch_id = $2 AND r.row_index > $3
    ORDER BY r.row_index LIMIT $4
)";

/// [`EXPORT_PAGE`] in PostgreSQL's words, the same lines to the byte but for how a float is
/// spelt. `to_json` quotes a text with the escapes SQLite's `json_quote` uses. A float is
/// PostgreSQL's own text of it, which (with `extra_float_digits` above 0, as sqlx sets it) is the
/// shortest that reads back as the same f64: `0.1` where SQLite's `%!.17g` writes
/// `0.10000000000000001`, `1` for its `1.0`. Both parse to the same number, so the records and
/// every file made from them are the same. The lines are joined in the order the page reads
/// them, as on SQLite (the records are put back in order if that ever changed): an `ORDER BY` in
/// `string_agg` sorted every page again, a sixth of the page's time (0.9 of 5.1 ms).
const EXPORT_PAGE_POSTGRES: &str = "\
SELECT string_agg(line, chr(10)), count(*), max(row_index) FROM (
    SELECT r.row_index,
        '{\"row_index\":' || r.row_index || ',\"status\":\"' || r.status
        || '\",\"attempt\":' || r.attempt || ',\"cells\":' || COALESCE(d.cells, 'null')
        || ',\"result\":' || COALESCE(to_json(r.result)::text, 'null')
        || ',\"error\":' || COALESCE(to_json(r.error)::text, 'null')
        || ',\"latency_ms\":' || COALESCE(r.latency_ms::text, 'null')
        || ',\"input_tokens\":' || COALESCE(r.input_tokens::text, 'null')
        || ',\"output_tokens\":' || COALESCE(r.output_tokens::text, 'null')
        || ',\"cost_usd\":' || COALESCE(r.cost_usd::text, 'null')
        || CASE WHEN v.decision IS NULL THEN '}' ELSE
            ',\"review\":{\"decision\":' || to_json(v.decision)::text
            || ',\"answer\":' || COALESCE(to_json(v.answer)::text, 'null')
            || ',\"reviewed_by\":' || to_json(v.reviewed_by)::text
            || ',\"reviewed_at\":' || v.reviewed_at || '}}' END AS line
    FROM batch_rows r
    LEFT JOIN dataset_rows d ON d.dataset_id = $1 AND d.row_index = r.row_index
    LEFT JOIN row_reviews v ON v.batch_id = r.batch_id AND v.row_index = r.row_index
    WHERE r.batch_id = $2 AND r.row_index > $3
    ORDER BY r.row_index LIMIT $4
) page";

/// Reads a batch's rows for an export, page after page in row order, each row with its cells
/// from the batch's dataset.
///
/// Keyset paging over both primary keys: every page costs the same however deep into the batch
/// it is, so an export of any size streams in constant memory. A slow download holds none of
/// the pool's connections between pages.
///
/// On SQLite the cursor reads on a connection of its own. On one connection SQLite reads each
/// page of the tables once; with every page taken from the pool instead, measured exports went to
/// disk again for nearly every row (1.7 reads a row against 0.08) and took more than twice as
/// long. On PostgreSQL each page is one query on a connection of the pool, given back at once:
/// the server's buffers are shared by every connection, so nothing is lost by changing, and a
/// connection of its own would be one more of the server's few for as long as the download lasts.
pub struct ExportCursor {
    source: Source,
    batch_id: i64,
    dataset_id: Option<i64>,
    limit: u32,
    after: Option<i64>,
    done: bool,
}

/// Where an [`ExportCursor`] reads its pages.
enum Source {
    Sqlite(SqliteConnection),
    Postgres(PgPool),
}

impl ExportCursor {
    /// A cursor over batch `batch_id` (cells from dataset `dataset_id`) in pages of `limit` rows.
    pub async fn open(
        db: &Database,
        batch_id: i64,
        dataset_id: Option<i64>,
        limit: u32,
    ) -> Result<Self, StoreError> {
        let source = match db.backend() {
            Backend::Sqlite(parts) => Source::Sqlite(
                parts
                    .pool
                    .connect_options()
                    .connect()
                    .await
                    .map_err(StoreError::Connect)?,
            ),
            Backend::Postgres(pool) => Source::Postgres(pool.clone()),
        };
        Ok(ExportCursor {
            source,
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
        // The one query, on either engine's executor.
        macro_rules! page {
            ($sql:expr, $executor:expr) => {
                sqlx::query_as($sql)
                    .bind(self.dataset_id)
                    .bind(self.batch_id)
                    .bind(self.after.unwrap_or(-1))
                    .bind(i64::from(self.limit))
                    .fetch_one($executor)
                    .await?
            };
        }
        let (json, rows, last_row): (Option<String>, i64, Option<i64>) = match &mut self.source {
            Source::Sqlite(conn) => page!(EXPORT_PAGE, &mut *conn),
            Source::Postgres(pool) => page!(EXPORT_PAGE_POSTGRES, &*pool),
        };
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
    use crate::database::on_pool;
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
        on_pool!(db, |pool, _dialect| {
            sqlx::query("UPDATE batch_rows SET result = $1 WHERE batch_id = $2 AND row_index = 1")
                .bind(r#"{"n":1.0e2,"s":"x\"y"}"#)
                .bind(id)
                .execute(pool)
                .await
                .expect("a hand-written answer");
        });
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

    /// A stored row, written as it is for a test of what the export reads back.
    struct Stored<'a> {
        status: &'a str,
        attempt: i64,
        /// `None`: the row has no dataset row.
        cells: Option<&'a str>,
        result: Option<&'a str>,
        error: Option<&'a str>,
        latency_ms: Option<i64>,
        input_tokens: Option<i64>,
        output_tokens: Option<i64>,
        cost_usd: Option<f64>,
    }

    const QUEUED: Stored<'static> = Stored {
        status: "queued",
        attempt: 0,
        cells: Some("[]"),
        result: None,
        error: None,
        latency_ms: None,
        input_tokens: None,
        output_tokens: None,
        cost_usd: None,
    };

    /// A batch and its dataset holding exactly `rows` (with raw SQL, so only the export's own
    /// queries are under test); the batch's and the dataset's ids.
    async fn stored_batch(db: &Database, rows: &[Stored<'_>]) -> (i64, i64) {
        on_pool!(db, |pool, _dialect| {
            let dataset: i64 = sqlx::query_scalar(
                "INSERT INTO datasets (owner, name, file_name, status, row_count, created_at) \
                 VALUES ('alice', 'd', 'd.csv', 'ready', $1, 0) RETURNING id",
            )
            .bind(rows.len() as i64)
            .fetch_one(pool)
            .await
            .expect("dataset");
            let batch: i64 = sqlx::query_scalar(
                "INSERT INTO batches (owner, name, status, total_rows, created_at, dataset_id) \
                 VALUES ('alice', 'b', 'running', $1, 0, $2) RETURNING id",
            )
            .bind(rows.len() as i64)
            .bind(dataset)
            .fetch_one(pool)
            .await
            .expect("batch");
            for (i, row) in rows.iter().enumerate() {
                if let Some(cells) = row.cells {
                    sqlx::query(
                        "INSERT INTO dataset_rows (dataset_id, row_index, line, cells) \
                         VALUES ($1, $2, $2, $3)",
                    )
                    .bind(dataset)
                    .bind(i as i64)
                    .bind(cells)
                    .execute(pool)
                    .await
                    .expect("dataset row");
                }
                sqlx::query(
                    "INSERT INTO batch_rows (batch_id, row_index, status, attempt, result, error, \
                     latency_ms, input_tokens, output_tokens, cost_usd) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(batch)
                .bind(i as i64)
                .bind(row.status)
                .bind(row.attempt)
                .bind(row.result)
                .bind(row.error)
                .bind(row.latency_ms)
                .bind(row.input_tokens)
                .bind(row.output_tokens)
                .bind(row.cost_usd)
                .execute(pool)
                .await
                .expect("batch row");
            }
            (batch, dataset)
        })
    }

    #[tokio::test]
    async fn an_export_page_is_the_same_text_on_either_engine() {
        let (db, _place) = fresh_database().await;
        let error = "Bad \"answer\":\n\t{not json} \u{1}\u{8}\u{c}\u{1f}\u{7f}\u{2028} 日本\\";
        let (id, dataset) = stored_batch(
            &db,
            &[
                Stored {
                    status: "succeeded",
                    attempt: 2,
                    cells: Some(r#"["a\"b","日本\r\n"]"#),
                    result: Some(r#"{"n":1.0e2,"s":"x\"y"}"#),
                    latency_ms: Some(5),
                    input_tokens: Some(10),
                    output_tokens: Some(3),
                    cost_usd: Some(0.1 + 0.2),
                    ..QUEUED
                },
                Stored {
                    status: "failed",
                    attempt: 1,
                    cells: None,
                    error: Some(error),
                    latency_ms: Some(0),
                    cost_usd: Some(-2.5),
                    ..QUEUED
                },
                QUEUED,
            ],
        )
        .await;
        let pages = read_all(&db, id, Some(dataset), 10).await;
        let expected = [
            r#"{"row_index":0,"status":"succeeded","attempt":2,"cells":["a\"b","日本\r\n"],"result":"{\"n\":1.0e2,\"s\":\"x\\\"y\"}","error":null,"latency_ms":5,"input_tokens":10,"output_tokens":3,"cost_usd":0.30000000000000004}"#,
            "{\"row_index\":1,\"status\":\"failed\",\"attempt\":1,\"cells\":null,\"result\":null,\"error\":\"Bad \\\"answer\\\":\\n\\t{not json} \\u0001\\b\\f\\u001f\u{7f}\u{2028} 日本\\\\\",\"latency_ms\":0,\"input_tokens\":null,\"output_tokens\":null,\"cost_usd\":-2.5}",
            r#"{"row_index":2,"status":"queued","attempt":0,"cells":[],"result":null,"error":null,"latency_ms":null,"input_tokens":null,"output_tokens":null,"cost_usd":null}"#,
        ];
        assert_eq!(
            pages,
            [ExportPage {
                json: expected.join("\n"),
                rows: 3,
                last_row: Some(2),
            }]
        );
        let records = pages[0].records().expect("parses");
        assert_eq!(records[1].error.as_deref(), Some(error));
    }

    #[tokio::test]
    async fn every_float_reads_back_as_the_same_f64_on_either_engine() {
        let (db, _place) = fresh_database().await;
        let costs = [
            0.1,
            1.0,
            0.0,
            1.0 / 3.0,
            1e-7,
            1e20,
            123_456.789,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            -f64::MAX,
        ];
        let rows: Vec<Stored<'_>> = costs
            .iter()
            .map(|cost| Stored {
                cost_usd: Some(*cost),
                ..QUEUED
            })
            .collect();
        let (id, dataset) = stored_batch(&db, &rows).await;
        let read: Vec<u64> = read_all(&db, id, Some(dataset), 5)
            .await
            .iter()
            .flat_map(|page| page.records().expect("parses"))
            .map(|record| record.cost_usd.expect("a cost").to_bits())
            .collect();
        let stored: Vec<u64> = costs.iter().map(|cost| cost.to_bits()).collect();
        assert_eq!(read, stored);
    }

    /// A finished batch of `rows` answered rows shaped as `.ci/bench-export` makes them (8 cells,
    /// 4 answer fields), written by the database itself.
    async fn generated_batch(db: &Database, rows: i64) -> (i64, i64) {
        let (id, dataset) = stored_batch(db, &[]).await;
        // Each engine's own way to count to `rows`; the rest is the same SQL on both.
        let (numbers, cells, result) = match db.engine() {
            crate::Engine::Sqlite => (
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $2 - 1) ",
                "json_array(CAST(i AS TEXT), 'Customer ' || (i % 9973), 'user' || i || '@example.com', \
                 'Zürich', printf('%.2f', (i * 7919 % 99999) / 100.0), '2026-01-01', \
                 CAST(1 + i % 5 AS TEXT), 'good \"quoted\", refund late, again ' || (i % 97))",
                "json_object('sentiment', CASE WHEN i % 3 = 0 THEN 'negative' ELSE 'positive' END, \
                 'score', (i % 1000) / 10.0, 'tags', json_array('refund', 'late ' || (i % 7)), \
                 'flagged', json(CASE WHEN i % 2 = 0 THEN 'true' ELSE 'false' END))",
            ),
            crate::Engine::Postgres => (
                "WITH n(i) AS (SELECT generate_series(0, $2 - 1)) ",
                "json_build_array(i::text, 'Customer ' || (i % 9973), 'user' || i || '@example.com', \
                 'Zürich', to_char((i * 7919 % 99999) / 100.0, 'FM99990.00'), '2026-01-01', \
                 (1 + i % 5)::text, 'good \"quoted\", refund late, again ' || (i % 97))::text",
                "json_build_object('sentiment', CASE WHEN i % 3 = 0 THEN 'negative' ELSE 'positive' END, \
                 'score', (i % 1000) / 10.0, 'tags', json_build_array('refund', 'late ' || (i % 7)), \
                 'flagged', i % 2 = 0)::text",
            ),
        };
        on_pool!(db, |pool, _dialect| {
            sqlx::query(&format!(
                "{numbers}INSERT INTO dataset_rows (dataset_id, row_index, line, cells) \
                 SELECT $1, i, i + 2, {cells} FROM n"
            ))
            .bind(dataset)
            .bind(rows)
            .execute(pool)
            .await
            .expect("dataset rows");
            sqlx::query(&format!(
                "{numbers}INSERT INTO batch_rows (batch_id, row_index, status, attempt, result, \
                 started_at, finished_at, latency_ms, input_tokens, output_tokens, cost_usd) \
                 SELECT $1, i, 'succeeded', 1, {result}, 1767225600000 + i * 10, \
                 1767225600150 + i * 10, 150 + i % 50, 60 + i % 40, 12 + i % 9, \
                 CAST(0.0000375 * (1 + i % 5) AS DOUBLE PRECISION) FROM n"
            ))
            .bind(id)
            .bind(rows)
            .execute(pool)
            .await
            .expect("batch rows");
            sqlx::query("ANALYZE")
                .execute(pool)
                .await
                .expect("statistics");
        });
        (id, dataset)
    }

    /// The export's reading rate on 1,000,000 rows, in pages of 2,000 (the download's): the pages
    /// alone, then the pages parsed into records. A timing, run by hand, on either engine:
    /// `[ROWBENCH_TEST_POSTGRES=…] cargo test --release -p rowbench-store export::tests::a_million
    /// -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "a timing of a million rows, run by hand"]
    async fn a_million_rows_are_read_for_an_export() {
        const ROWS: i64 = 1_000_000;
        let (db, _place) = fresh_database().await;
        let started = std::time::Instant::now();
        let (id, dataset) = generated_batch(&db, ROWS).await;
        eprintln!("{:?}: generated in {:.1?}", db.engine(), started.elapsed());
        for parse in [false, true] {
            let started = std::time::Instant::now();
            let mut cursor = ExportCursor::open(&db, id, Some(dataset), 2_000)
                .await
                .expect("cursor");
            let (mut rows, mut bytes) = (0, 0);
            while let Some(page) = cursor.next_page().await.expect("page") {
                rows += if parse {
                    page.records().expect("parses").len()
                } else {
                    page.len()
                };
                bytes += page.json.len();
            }
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(rows as i64, ROWS);
            eprintln!(
                "{:?}, {}: {rows} rows ({} MB of JSON lines) in {seconds:.2} s, {:.0} rows/s",
                db.engine(),
                if parse { "pages parsed" } else { "pages" },
                bytes / 1_000_000,
                rows as f64 / seconds
            );
        }
    }
}
