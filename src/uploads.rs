//! Turning an upload body into a stored dataset, streaming: the body is parsed on a blocking
//! thread as it arrives, and rows are written in batched transactions while parsing goes on, so
//! the whole file is never in memory.
//!
//! An upload that does not end as a dataset leaves nothing behind: refused, cut off, stalled or
//! dropped with its request (the client went away), its dataset is discarded and the disk space
//! its rows took is given back; one left by a crash is removed at the next start-up.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use rowbench_ingest::{CsvIngest, IngestError, IngestOptions, Summary};
use rowbench_store::datasets::{self, ColumnRename, DatasetColumn, Finished, StoredRow};
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
    /// No bytes of the body arrived for `idle`.
    #[error("no data arrived for {} s", idle.as_secs())]
    Stalled { idle: Duration },
}

/// The read error a body gives once no bytes arrived for its idle time.
#[derive(Debug, thiserror::Error)]
#[error("no data arrived for {} s", idle.as_secs())]
struct Stalled {
    idle: Duration,
}

/// What the upload is and how to read it.
pub struct Upload<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub file_name: &'a str,
    pub options: IngestOptions,
    /// How long the body may send nothing before the upload is given up as stalled.
    pub idle: Duration,
}

/// Reads `body` into a new dataset and returns its id; on any error nothing is left behind.
#[tracing::instrument(skip_all, fields(file_name = upload.file_name))]
pub async fn store_upload<S>(db: &Database, upload: Upload<'_>, body: S) -> Result<i64, UploadError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static,
{
    let id = datasets::create(db, upload.owner, upload.name, upload.file_name).await?;
    let mut unfinished = DiscardOnDrop {
        db: db.clone(),
        id: Some(id),
    };
    let body = until_idle(body, upload.idle);
    let read = read_into(db, id, upload.options, body).await;
    // Finished or failed: no longer the guard's to discard.
    unfinished.id = None;
    match read {
        Ok(()) => Ok(id),
        Err(err) => {
            discard(db, id).await;
            Err(err.stalled_after(upload.idle))
        }
    }
}

/// Discards the dataset of an upload dropped before it finished (hyper drops a request's
/// handler when its client goes away mid-body). A drop cannot wait, so a task of its own
/// does it; should even that not run, start-up removes the dataset.
struct DiscardOnDrop {
    db: Database,
    id: Option<i64>,
}

impl Drop for DiscardOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        tracing::info!(
            dataset_id = id,
            "the upload was dropped mid-way; discarding it"
        );
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let db = self.db.clone();
                runtime.spawn(async move { discard(&db, id).await });
            }
            Err(_) => tracing::warn!(
                dataset_id = id,
                "no runtime to discard a dropped upload on; start-up will remove it"
            ),
        }
    }
}

/// Removes a failed upload's dataset and gives its space back; a failure is logged (start-up
/// removes what is left), never the answer's.
async fn discard(db: &Database, id: i64) {
    if let Err(cleanup) = datasets::discard(db, id).await {
        tracing::error!(error = %cleanup, dataset_id = id, "could not remove a failed upload");
    }
}

/// `body`, failing with [`Stalled`] once it sends nothing for `idle`. Only time spent waiting
/// for the client counts: while the database is busy the body is not asked for more.
fn until_idle<S>(
    body: S,
    idle: Duration,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static,
{
    Box::pin(futures_util::stream::unfold(
        Some(body),
        move |body| async move {
            let mut body = body?;
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(body))),
                Ok(None) => None,
                // Ends the body: nothing comes after the error.
                Err(_elapsed) => Some((Err(std::io::Error::other(Stalled { idle })), None)),
            }
        },
    ))
}

impl UploadError {
    /// [`UploadError::Stalled`] for a read that failed because the body stalled.
    fn stalled_after(self, idle: Duration) -> Self {
        match &self {
            UploadError::Ingest(IngestError::Read(error))
                if error.get_ref().is_some_and(|inner| inner.is::<Stalled>()) =>
            {
                UploadError::Stalled { idle }
            }
            _ => self,
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

    let columns: Vec<DatasetColumn> = summary
        .stats
        .columns
        .iter()
        .map(|c| DatasetColumn {
            name: c.name.clone(),
            filled: c.filled,
            fill_rate: c.fill_rate,
            samples: c.samples.clone(),
        })
        .collect();
    let renames: Vec<ColumnRename> = summary
        .header
        .renames
        .iter()
        .map(|r| ColumnRename {
            position: r.position,
            original: r.original.clone(),
            renamed: r.renamed.clone(),
        })
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn stored_counts(db: &Database) -> (i64, i64) {
        (
            rowbench_store::testing::scalar_i64(db, "SELECT count(*) FROM datasets", &[]).await,
            rowbench_store::testing::scalar_i64(db, "SELECT count(*) FROM dataset_rows", &[]).await,
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_upload_dropped_with_its_request_is_discarded() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Database::connect(&url).await.expect("database opens");
        db.migrate().await.expect("migrations apply");
        // Enough rows for a few batches, then a body that never ends nor fails.
        let mut head = String::from("id,text\n");
        for i in 0..30_000 {
            head.push_str(&format!("{i},row {i}\n"));
        }
        let first = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(head))]);
        let body = Box::pin(first.chain(futures_util::stream::pending()));
        let upload = Upload {
            owner: "local",
            name: "half",
            file_name: "half.csv",
            options: IngestOptions::default(),
            // Only so the parser's thread, still waiting for the body, ends with the test.
            idle: Duration::from_secs(2),
        };
        let stored = store_upload(&db, upload, body);
        let rows_stored = async {
            while stored_counts(&db).await.1 == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::select! {
            result = stored => panic!("the upload ended: {result:?}"),
            () = rows_stored => {}
        }
        // The upload's future is dropped here, as hyper drops a request's handler.
        for _ in 0..100 {
            if stored_counts(&db).await == (0, 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("left behind: {:?}", stored_counts(&db).await);
    }
}
