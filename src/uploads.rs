//! Turning an upload body into a stored dataset, streaming: the body is parsed on a blocking
//! thread as it arrives, and rows are written in batched transactions while parsing goes on, so
//! the whole file is never in memory.

use bytes::Bytes;
use futures_util::Stream;
use rowbench_ingest::{CsvIngest, IngestError, IngestOptions, Summary};
use rowbench_store::datasets::{self, Finished, StoredRow};
use rowbench_store::{Database, StoreError};
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};

/// Rows per transaction: large enough that commits are rare, small enough to bound memory.
const ROWS_PER_BATCH: usize = 8_000;
/// Batches parsed ahead of the database writer.
const BATCHES_IN_FLIGHT: usize = 2;

/// Why an upload did not become a dataset.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the parser stopped unexpectedly: {0}")]
    Parser(String),
}

/// What the upload is and how to read it.
pub struct Upload<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub file_name: &'a str,
    pub options: IngestOptions,
}

/// Reads `body` into a new dataset and returns its id; on any error nothing is left behind.
#[tracing::instrument(skip_all, fields(file_name = upload.file_name))]
pub async fn store_upload<S>(db: &Database, upload: Upload<'_>, body: S) -> Result<i64, UploadError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static,
{
    let id = datasets::create(db, upload.owner, upload.name, upload.file_name).await?;
    match read_into(db, id, upload.options, body).await {
        Ok(()) => Ok(id),
        Err(err) => {
            if let Err(cleanup) = datasets::delete(db, id).await {
                tracing::error!(error = %cleanup, dataset_id = id, "could not remove a failed upload");
            }
            Err(err)
        }
    }
}

async fn read_into<S>(
    db: &Database,
    id: i64,
    options: IngestOptions,
    body: S,
) -> Result<(), UploadError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static,
{
    let reader = SyncIoBridge::new(StreamReader::new(body));
    let (batches, mut received) = mpsc::channel::<Vec<StoredRow>>(BATCHES_IN_FLIGHT);
    let parser = tokio::task::spawn_blocking(move || parse(reader, options, &batches));

    let mut written: Result<(), StoreError> = Ok(());
    while let Some(batch) = received.recv().await {
        written = datasets::insert_rows(db, id, &batch).await;
        if written.is_err() {
            // Dropping the receiver stops the parser at its next batch.
            break;
        }
    }
    drop(received);
    let parsed = parser
        .await
        .map_err(|e| UploadError::Parser(e.to_string()))?;
    written?;
    let summary = parsed?.ok_or_else(|| UploadError::Parser("stopped before the end".into()))?;

    let columns = serde_json::to_value(&summary.stats.columns).unwrap_or_default();
    let renames = serde_json::to_value(&summary.header.renames).unwrap_or_default();
    let delimiter = serde_json::to_value(summary.sniffed.delimiter)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    datasets::finish(
        db,
        id,
        Finished {
            encoding: &summary.sniffed.encoding,
            delimiter: &delimiter,
            row_count: i64::try_from(summary.stats.rows).unwrap_or(i64::MAX),
            fixed_rows: i64::try_from(summary.stats.fixed_rows).unwrap_or(i64::MAX),
            columns: &columns,
            renames: &renames,
        },
    )
    .await?;
    Ok(())
}

/// The blocking half: parse records and hand them over in batches. `None` when the writer went
/// away (its own error is the one to report).
fn parse<R: std::io::Read>(
    reader: R,
    options: IngestOptions,
    batches: &mpsc::Sender<Vec<StoredRow>>,
) -> Result<Option<Summary>, IngestError> {
    let mut ingest = CsvIngest::open(reader, options)?;
    let mut batch = Vec::with_capacity(ROWS_PER_BATCH);
    let mut index = 0i64;
    while let Some(record) = ingest.next_record()? {
        batch.push(StoredRow {
            index,
            line: i64::try_from(record.line).unwrap_or(i64::MAX),
            cells: record.fields,
        });
        index += 1;
        if batch.len() == ROWS_PER_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_BATCH));
            if batches.blocking_send(full).is_err() {
                return Ok(None);
            }
        }
    }
    if !batch.is_empty() && batches.blocking_send(batch).is_err() {
        return Ok(None);
    }
    ingest.finish().map(Some)
}
