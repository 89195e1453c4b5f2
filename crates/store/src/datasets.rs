//! Datasets: uploaded tables, their column statistics, and their rows stored cell for cell.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::database::{Backend, on_pool};
use crate::{Database, StoreError, Timestamp};

/// One row as stored: its 0-based index among the data rows, the file line it started on, and
/// its cells in column order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRow {
    pub index: i64,
    pub line: i64,
    pub cells: Vec<String>,
}

/// One column of a dataset: its name and what the whole file showed of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetColumn {
    pub name: String,
    /// Non-empty cells.
    pub filled: u64,
    /// `filled / rows`, 0 without rows.
    pub fill_rate: f64,
    /// A few distinct non-empty values, for display.
    pub samples: Vec<String>,
}

/// A header name the upload replaced (blank or repeated in the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRename {
    /// The column's position, 1-based.
    pub position: usize,
    pub original: String,
    pub renamed: String,
}

/// What is known of a dataset once its whole file has been read.
#[derive(Debug, Clone)]
pub struct Finished<'a> {
    pub encoding: &'a str,
    pub delimiter: &'a str,
    pub row_count: i64,
    pub fixed_rows: i64,
    pub columns: &'a [DatasetColumn],
    pub renames: &'a [ColumnRename],
}

/// A dataset as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub ready: bool,
    pub encoding: String,
    pub delimiter: String,
    pub row_count: i64,
    pub fixed_rows: i64,
    pub columns: Vec<DatasetColumn>,
    pub renames: Vec<ColumnRename>,
    pub created_at: Timestamp,
}

#[derive(FromRow)]
struct DatasetRecord {
    id: i64,
    name: String,
    file_name: String,
    status: String,
    encoding: String,
    delimiter: String,
    row_count: i64,
    fixed_rows: i64,
    columns: String,
    renames: String,
    created_at: Timestamp,
}

/// One rule for stored JSON that does not parse: an error naming the dataset, never a guess.
fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    dataset_id: i64,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        reason: format!("dataset {dataset_id}: {e}"),
    })
}

impl TryFrom<DatasetRecord> for Dataset {
    type Error = StoreError;

    fn try_from(r: DatasetRecord) -> Result<Self, StoreError> {
        Ok(Dataset {
            id: r.id,
            name: r.name,
            file_name: r.file_name,
            ready: r.status == "ready",
            encoding: r.encoding,
            delimiter: r.delimiter,
            row_count: r.row_count,
            fixed_rows: r.fixed_rows,
            columns: parse_json("dataset columns", r.id, &r.columns)?,
            renames: parse_json("dataset renames", r.id, &r.renames)?,
            created_at: r.created_at,
        })
    }
}

/// Records a dataset whose rows are about to stream in.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Database,
    owner: &str,
    name: &str,
    file_name: &str,
) -> Result<i64, StoreError> {
    let id = match db.backend() {
        Backend::Sqlite(parts) => {
            sqlx::query_scalar(
                "INSERT INTO datasets (owner, name, file_name, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(owner)
            .bind(name)
            .bind(file_name)
            .bind(Timestamp::now())
            .fetch_one(&parts.pool)
            .await?
        }
        // Which instance loads it: at its restart it removes its own unfinished uploads only.
        Backend::Postgres(pool) => {
            sqlx::query_scalar(
                "INSERT INTO datasets (owner, name, file_name, created_at, loading_by) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(owner)
            .bind(name)
            .bind(file_name)
            .bind(Timestamp::now())
            .bind(db.instance())
            .fetch_one(pool)
            .await?
        }
    };
    Ok(id)
}

/// Rows per INSERT statement on SQLite: each statement costs a round trip to SQLite's worker
/// thread, so many rows share one (4 parameters a row, well under SQLite's 32,766-parameter cap).
const ROWS_PER_STATEMENT: usize = 1_000;

/// The COPY data sent to PostgreSQL at a time: the rows are encoded into one buffer of about this
/// size, sent, and the buffer reused, so a load of any size takes the same memory.
const COPY_CHUNK_BYTES: usize = 256 * 1024;

/// Appends a batch of rows, all or none, in one transaction: on SQLite as multi-row INSERTs (many
/// small transactions would cost a disk sync each), on PostgreSQL as one `COPY` (its bulk load,
/// many times faster than INSERTs). A dataset that is gone is an error on both: SQLite's foreign
/// key says so, and on PostgreSQL (whose `dataset_rows` has no foreign key, see its migration)
/// the dataset's row is locked first as the key would lock it, so it cannot be deleted under the
/// load either.
#[tracing::instrument(skip_all, fields(dataset_id, rows = rows.len()))]
pub async fn insert_rows(
    db: &Database,
    dataset_id: i64,
    rows: &[StoredRow],
) -> Result<(), StoreError> {
    match db.backend() {
        Backend::Sqlite(parts) => {
            let mut tx = parts.pool.begin().await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut cells = Vec::with_capacity(chunk.len());
                for row in chunk {
                    cells.push(serde_json::to_string(&row.cells).map_err(|e| {
                        StoreError::Corrupt {
                            what: "row cells",
                            reason: e.to_string(),
                        }
                    })?);
                }
                let mut insert: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
                    "INSERT INTO dataset_rows (dataset_id, row_index, line, cells) ",
                );
                insert.push_values(chunk.iter().zip(cells), |mut values, (row, cells)| {
                    values
                        .push_bind(dataset_id)
                        .push_bind(row.index)
                        .push_bind(row.line)
                        .push_bind(cells);
                });
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Backend::Postgres(pool) => {
            // Nothing to load: no COPY, as SQLite's empty transaction writes nothing.
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = pool.begin().await?;
            // RowNotFound when the dataset is gone.
            let _: i64 = sqlx::query_scalar("SELECT id FROM datasets WHERE id = $1 FOR KEY SHARE")
                .bind(dataset_id)
                .fetch_one(&mut *tx)
                .await?;
            let mut copy = tx
                .copy_in_raw(
                    "COPY dataset_rows (dataset_id, row_index, line, cells) FROM STDIN (FORMAT binary)",
                )
                .await?;
            let mut buffer = Vec::with_capacity(COPY_CHUNK_BYTES + 4096);
            buffer.extend_from_slice(COPY_BINARY_HEADER);
            // A row's cells as stored: a JSON array of strings.
            let mut cells = Vec::new();
            for row in rows {
                cells.clear();
                let written = serde_json::to_writer(&mut cells, &row.cells)
                    .map_err(|e| e.to_string())
                    // A field's length is an i32 (PostgreSQL refuses a text over 1 GiB anyway).
                    .and_then(|()| {
                        i32::try_from(cells.len()).map_err(|_| "over 2 GiB".to_string())
                    });
                let length = match written {
                    Ok(length) => length,
                    Err(reason) => {
                        copy.abort("a row's cells could not be stored").await?;
                        return Err(StoreError::Corrupt {
                            what: "row cells",
                            reason: format!("row {}: {reason}", row.index),
                        });
                    }
                };
                copy_binary_row(
                    &mut buffer,
                    [dataset_id, row.index, row.line],
                    length,
                    &cells,
                );
                if buffer.len() >= COPY_CHUNK_BYTES {
                    copy.send(buffer.as_slice()).await?;
                    buffer.clear();
                }
            }
            // The trailer: a field count of -1.
            buffer.extend_from_slice(&(-1_i16).to_be_bytes());
            copy.send(buffer.as_slice()).await?;
            copy.finish().await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// The start of PostgreSQL's binary COPY format: the signature, no flags (no OIDs), no header
/// extension.
const COPY_BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Appends one `dataset_rows` tuple in the binary COPY format: the field count, then each field's
/// length and bytes (the dataset, the row's index and line as BIGINTs, 8 bytes big-endian; the
/// `length` bytes of `cells`, UTF-8 text). Binary needs no escaping: whatever the cells hold
/// (tabs, newlines, backslashes) arrives as it is.
fn copy_binary_row(buffer: &mut Vec<u8>, numbers: [i64; 3], length: i32, cells: &[u8]) {
    buffer.extend_from_slice(&4_i16.to_be_bytes());
    for number in numbers {
        buffer.extend_from_slice(&8_i32.to_be_bytes());
        buffer.extend_from_slice(&number.to_be_bytes());
    }
    buffer.extend_from_slice(&length.to_be_bytes());
    buffer.extend_from_slice(cells);
}

/// A complete dataset of `rows` (each row's cells in column order) in one call, stored as a
/// UTF-8, comma-separated upload with no column statistics: data for tests, benchmarks and tools
/// that make rows without a CSV file.
pub async fn create_from_cells(
    db: &Database,
    owner: &str,
    name: &str,
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<i64, StoreError> {
    let id = create(db, owner, name, &format!("{name}.csv")).await?;
    let stored: Vec<StoredRow> = rows
        .into_iter()
        .zip(0..)
        .map(|(cells, index)| StoredRow {
            index,
            line: index + 2,
            cells,
        })
        .collect();
    insert_rows(db, id, &stored).await?;
    let row_count = i64::try_from(stored.len()).unwrap_or(i64::MAX);
    finish(
        db,
        id,
        Finished {
            encoding: "UTF-8",
            delimiter: ",",
            row_count,
            fixed_rows: 0,
            columns: &[],
            renames: &[],
        },
    )
    .await?;
    Ok(id)
}

/// Marks the dataset complete, with what the whole file showed.
#[tracing::instrument(skip_all, fields(dataset_id))]
pub async fn finish(db: &Database, dataset_id: i64, done: Finished<'_>) -> Result<(), StoreError> {
    let columns = to_json(done.columns)?;
    let renames = to_json(done.renames)?;
    on_pool!(db, |pool, _dialect| {
        sqlx::query(
            "UPDATE datasets SET status = 'ready', encoding = $1, delimiter = $2, row_count = $3, \
             fixed_rows = $4, columns = $5, renames = $6 WHERE id = $7",
        )
        .bind(done.encoding)
        .bind(done.delimiter)
        .bind(done.row_count)
        .bind(done.fixed_rows)
        .bind(&columns)
        .bind(&renames)
        .bind(dataset_id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what: "dataset columns",
        reason: e.to_string(),
    })
}

/// Removes a dataset and its rows (an upload that failed half way).
#[tracing::instrument(skip_all, fields(dataset_id))]
pub async fn delete(db: &Database, dataset_id: i64) -> Result<(), StoreError> {
    match db.backend() {
        // The foreign key's cascade deletes the rows.
        Backend::Sqlite(parts) => {
            sqlx::query("DELETE FROM datasets WHERE id = $1")
                .bind(dataset_id)
                .execute(&parts.pool)
                .await?;
        }
        // No foreign key (see `insert_rows`): the dataset first, which waits for a load under
        // way to commit, then its rows, read after that commit.
        Backend::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM datasets WHERE id = $1")
                .bind(dataset_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM dataset_rows WHERE dataset_id = $1")
                .bind(dataset_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Removes a dataset whose upload failed (refused, cut off, stalled) with its rows, and gives
/// the disk space they took back ([`Database::give_space_back`]): a refused gigabyte must not
/// stay in the database file and its write-ahead log.
#[tracing::instrument(skip_all, fields(dataset_id))]
pub async fn discard(db: &Database, dataset_id: i64) -> Result<(), StoreError> {
    delete(db, dataset_id).await?;
    db.give_space_back().await
}

/// Removes the datasets an earlier run of this server left loading, with their rows, and gives
/// their space back; the number removed. For start-up only: a dataset loads while its upload
/// request runs, so at start-up a loading one was left by a process that stopped mid-upload
/// (crashed, killed, lost power), and no request will ever finish it.
///
/// On SQLite one process serves the database, so every loading dataset is such a one. On
/// PostgreSQL another instance's upload may be running right now: only the datasets this
/// instance was loading (under its `ROWBENCH_INSTANCE` name) go, and any other instance's
/// still loading after [`ABANDONED_UPLOAD`] (no upload of the size limit takes that long).
/// How long an upload may have been loading before any instance's start-up removes it.
pub const ABANDONED_UPLOAD: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

#[tracing::instrument(skip_all)]
pub async fn remove_unfinished(db: &Database) -> Result<u64, StoreError> {
    let removed = match db.backend() {
        Backend::Sqlite(parts) => sqlx::query("DELETE FROM datasets WHERE status = 'loading'")
            .execute(&parts.pool)
            .await?
            .rows_affected(),
        // As in `delete`: the datasets, then their rows.
        Backend::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let gone: Vec<i64> = sqlx::query_scalar(
                "DELETE FROM datasets WHERE status = 'loading' \
                 AND (loading_by = $1 OR loading_by IS NULL OR created_at < $2) RETURNING id",
            )
            .bind(db.instance())
            .bind(Timestamp::now().as_millis() - ABANDONED_UPLOAD.as_millis() as i64)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM dataset_rows WHERE dataset_id = ANY($1)")
                .bind(&gone)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            u64::try_from(gone.len()).unwrap_or(u64::MAX)
        }
    };
    if removed > 0 {
        db.give_space_back().await?;
    }
    Ok(removed)
}

/// The `owner`'s dataset `id`, if it exists and has been read completely.
#[tracing::instrument(skip_all, fields(dataset_id = id))]
pub async fn find(db: &Database, owner: &str, id: i64) -> Result<Option<Dataset>, StoreError> {
    let record: Option<DatasetRecord> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT id, name, file_name, status, encoding, delimiter, row_count, fixed_rows, \
             columns, renames, created_at FROM datasets \
             WHERE id = $1 AND owner = $2 AND status = 'ready'",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await?
    });
    record.map(Dataset::try_from).transpose()
}

/// Renames a dataset (display only); false if it is not `owner`'s.
#[tracing::instrument(skip_all, fields(dataset_id = id))]
pub async fn rename(db: &Database, owner: &str, id: i64, name: &str) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE datasets SET name = $1 WHERE id = $2 AND owner = $3")
            .bind(name)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Up to `limit` rows with an index greater than `after` (or from the start), in order: keyset
/// paging, so page 10,000 costs what page 1 costs.
#[tracing::instrument(skip_all, fields(dataset_id))]
pub async fn rows(
    db: &Database,
    dataset_id: i64,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredRow>, StoreError> {
    let records: Vec<(i64, i64, String)> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT row_index, line, cells FROM dataset_rows \
             WHERE dataset_id = $1 AND row_index > $2 ORDER BY row_index LIMIT $3",
        )
        .bind(dataset_id)
        .bind(after.unwrap_or(-1))
        // PostgreSQL's LIMIT takes a BIGINT (sqlx has no unsigned integers for it).
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    records
        .into_iter()
        .map(|(index, line, cells)| {
            let cells = serde_json::from_str(&cells).map_err(|e| StoreError::Corrupt {
                what: "row cells",
                reason: e.to_string(),
            })?;
            Ok(StoredRow { index, line, cells })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;

    fn row(index: i64, cells: &[&str]) -> StoredRow {
        StoredRow {
            index,
            line: index + 2,
            cells: cells.iter().map(|c| c.to_string()).collect(),
        }
    }

    async fn ready_dataset(db: &Database, owner: &str, rows: &[StoredRow]) -> i64 {
        let id = create(db, owner, "people", "people.csv")
            .await
            .expect("create");
        insert_rows(db, id, rows).await.expect("insert");
        let done = Finished {
            encoding: "UTF-8",
            delimiter: ",",
            row_count: rows.len() as i64,
            fixed_rows: 0,
            columns: &[],
            renames: &[],
        };
        finish(db, id, done).await.expect("finish");
        id
    }

    #[tokio::test]
    async fn cells_come_back_exactly_as_stored() {
        let (db, _dir) = fresh_database().await;
        let tricky = [
            "",
            " padded ",
            "quote \" and, comma",
            "multi\r\nline",
            "tab\tand back\\slash \\N",
            "Zoë 🙂",
            "<b>x</b>",
        ];
        let id = ready_dataset(&db, "local", &[row(0, &tricky)]).await;
        let stored = rows(&db, id, None, 10).await.expect("rows");
        assert_eq!(stored, vec![row(0, &tricky)]);
    }

    #[tokio::test]
    async fn a_batch_larger_than_one_statement_is_stored_whole_and_in_order() {
        let (db, _dir) = fresh_database().await;
        let all: Vec<StoredRow> = (0..1_234).map(|i| row(i, &[&format!("v{i}")])).collect();
        let id = ready_dataset(&db, "local", &all).await;
        let stored = rows(&db, id, None, 2_000).await.expect("rows");
        assert_eq!(stored, all);
    }

    #[tokio::test]
    async fn rows_are_paged_by_keyset() {
        let (db, _dir) = fresh_database().await;
        let all: Vec<StoredRow> = (0..25).map(|i| row(i, &[&i.to_string()])).collect();
        let id = ready_dataset(&db, "local", &all).await;
        let first = rows(&db, id, None, 10).await.expect("page 1");
        assert_eq!(
            first.iter().map(|r| r.index).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        let last = rows(&db, id, Some(19), 10).await.expect("page 3");
        assert_eq!(
            last.iter().map(|r| r.index).collect::<Vec<_>>(),
            (20..25).collect::<Vec<_>>()
        );
        assert!(
            rows(&db, id, Some(24), 10)
                .await
                .expect("past the end")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_dataset_still_loading_or_someone_elses_is_not_found() {
        let (db, _dir) = fresh_database().await;
        let loading = create(&db, "local", "half", "half.csv")
            .await
            .expect("create");
        assert_eq!(find(&db, "local", loading).await.expect("query"), None);
        let ready = ready_dataset(&db, "alice", &[row(0, &["x"])]).await;
        assert_eq!(find(&db, "bob", ready).await.expect("query"), None);
        assert_eq!(
            find(&db, "alice", ready)
                .await
                .expect("query")
                .map(|d| d.row_count),
            Some(1)
        );
    }

    #[tokio::test]
    async fn rows_for_a_dataset_that_is_gone_are_refused() {
        let (db, _dir) = fresh_database().await;
        let id = create(&db, "local", "gone", "gone.csv")
            .await
            .expect("create");
        delete(&db, id).await.expect("delete");
        assert!(insert_rows(&db, id, &[row(0, &["x"])]).await.is_err());
        assert!(rows(&db, id, None, 10).await.expect("rows").is_empty());
    }

    #[tokio::test]
    async fn deleting_a_dataset_removes_its_rows() {
        let (db, _dir) = fresh_database().await;
        let id = ready_dataset(&db, "local", &[row(0, &["x"]), row(1, &["y"])]).await;
        delete(&db, id).await.expect("delete");
        assert!(rows(&db, id, None, 10).await.expect("rows").is_empty());
    }

    /// The database file and its write-ahead log, in bytes.
    fn disk_bytes(dir: &tempfile::TempDir) -> u64 {
        ["test.db", "test.db-wal"]
            .iter()
            .map(|name| std::fs::metadata(dir.path().join(name)).map_or(0, |m| m.len()))
            .sum()
    }

    /// A dataset left loading with `rows` rows of about 1 KB each, as an upload stopped half
    /// way leaves it.
    async fn half_loaded(db: &Database, rows: i64) -> i64 {
        let id = create(db, "local", "half", "half.csv")
            .await
            .expect("create");
        let filler = "x".repeat(1_000);
        let all: Vec<StoredRow> = (0..rows).map(|i| row(i, &[&filler])).collect();
        insert_rows(db, id, &all).await.expect("insert");
        id
    }

    #[tokio::test]
    async fn a_discarded_upload_gives_its_disk_space_back() {
        // SQLite's file; PostgreSQL's autovacuum gives space back on its own.
        let (db, dir) = crate::database::tests::fresh_sqlite().await;
        db.give_space_back().await.expect("empty the log");
        let before = disk_bytes(&dir);
        let id = half_loaded(&db, 20_000).await;
        let full = disk_bytes(&dir);
        assert!(full > before + 20_000_000, "{before} → {full}");
        discard(&db, id).await.expect("discard");
        let after = disk_bytes(&dir);
        assert!(
            after < before + 200_000,
            "the database and its log were {before} bytes, {full} with the rows, {after} after"
        );
        assert!(rows(&db, id, None, 10).await.expect("rows").is_empty());
    }

    #[tokio::test]
    async fn unfinished_datasets_are_removed_and_ready_ones_kept() {
        let (db, _dir) = fresh_database().await;
        let ready = ready_dataset(&db, "local", &[row(0, &["x"])]).await;
        let half = half_loaded(&db, 10).await;
        assert_eq!(remove_unfinished(&db).await.expect("remove"), 1);
        assert!(rows(&db, half, None, 10).await.expect("rows").is_empty());
        assert_eq!(rows(&db, ready, None, 10).await.expect("rows").len(), 1);
        assert_eq!(remove_unfinished(&db).await.expect("again"), 0);
    }

    #[tokio::test]
    async fn an_instance_starting_up_leaves_another_running_instance_upload_alone() {
        let (db, _dir) = fresh_database().await;
        if db.engine() == crate::Engine::Sqlite {
            return; // One process per SQLite database: every loading dataset is its own.
        }
        let a = db.clone().with_instance("a");
        let b = db.clone().with_instance("b");
        let theirs = half_loaded(&a, 10).await;
        let mine = half_loaded(&b, 10).await;
        assert_eq!(remove_unfinished(&b).await.expect("remove"), 1);
        assert!(rows(&b, mine, None, 10).await.expect("rows").is_empty());
        assert_eq!(
            rows(&a, theirs, None, 20).await.expect("rows").len(),
            10,
            "a's upload goes on"
        );
        // One left loading for longer than any upload takes was abandoned, whoever's it was.
        crate::testing::execute(
            &db,
            "UPDATE datasets SET created_at = $1 WHERE id = $2",
            &[
                Timestamp::now().as_millis() - ABANDONED_UPLOAD.as_millis() as i64 - 1,
                theirs,
            ],
        )
        .await;
        assert_eq!(remove_unfinished(&b).await.expect("abandoned"), 1);
    }

    /// Row `i` of the upload benchmark's file (`.ci/bench-ingest`): 8 columns, about 120 bytes.
    fn bench_row(i: i64) -> StoredRow {
        const CITIES: [&str; 8] = [
            "Berlin",
            "São Paulo",
            "Zürich",
            "Lyon",
            "Oslo",
            "Kraków",
            "Austin",
            "Osaka",
        ];
        const WORDS: [&str; 13] = [
            "good",
            "bad",
            "late",
            "broken",
            "refund",
            "fast",
            "slow",
            "kind",
            "rude",
            "helpful",
            "\"quoted\"",
            "wrong,",
            "again",
        ];
        let pick = |n: i64, len: usize| usize::try_from(n).expect("positive") % len;
        let comment: Vec<&str> = (0..7)
            .map(|w| WORDS[pick(i * 7 + w * 3, WORDS.len())])
            .collect();
        row(
            i,
            &[
                &i.to_string(),
                &format!("Customer {}", i % 9973),
                &format!("user{i}@example.com"),
                CITIES[pick(i, CITIES.len())],
                &format!("{}.{:02}", i % 999, i % 100),
                &format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                &(1 + i % 5).to_string(),
                &comment.join(" "),
            ],
        )
    }

    /// The bulk load's speed: 1,000,000 rows of 8 columns, in the upload's batches of 8,000
    /// rows. `ROWBENCH_TEST_POSTGRES=… cargo test --release -p rowbench-store --
    /// --ignored loading_a_million_rows --nocapture`
    #[tokio::test]
    #[ignore = "a benchmark: run it on its own"]
    async fn loading_a_million_rows() {
        const ROWS: i64 = 1_000_000;
        const BATCH: i64 = 8_000;
        let (db, _place) = fresh_database().await;
        let id = create(&db, "local", "bench", "bench.csv")
            .await
            .expect("create");
        let started = std::time::Instant::now();
        let mut loading = std::time::Duration::ZERO;
        for first in (0..ROWS).step_by(8_000) {
            let batch: Vec<StoredRow> = (first..first + BATCH).map(bench_row).collect();
            let sent = std::time::Instant::now();
            insert_rows(&db, id, &batch).await.expect("insert");
            loading += sent.elapsed();
        }
        let total = started.elapsed();
        let stored = crate::testing::scalar_i64(
            &db,
            "SELECT COUNT(*) FROM dataset_rows WHERE dataset_id = $1",
            &[id],
        )
        .await;
        assert_eq!(stored, ROWS);
        let peak = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|line| line.starts_with("VmHWM"))
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        eprintln!(
            "{:?}: {ROWS} rows in {:.2} s of insert_rows ({:.0} rows/s), {:.2} s with making \
             the rows ({:.0} rows/s); {peak}",
            db.engine(),
            loading.as_secs_f64(),
            ROWS as f64 / loading.as_secs_f64(),
            total.as_secs_f64(),
            ROWS as f64 / total.as_secs_f64(),
        );
    }

    #[tokio::test]
    async fn renaming_only_works_for_the_owner() {
        let (db, _dir) = fresh_database().await;
        let id = ready_dataset(&db, "alice", &[row(0, &["x"])]).await;
        assert!(!rename(&db, "bob", id, "mine").await.expect("query"));
        assert!(
            rename(&db, "alice", id, "Customer list")
                .await
                .expect("query")
        );
        let found = find(&db, "alice", id)
            .await
            .expect("query")
            .expect("exists");
        assert_eq!(found.name, "Customer list");
    }
}
