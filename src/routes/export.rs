//! `GET /api/batches/{id}/export?format=csv|json|jsonl&metadata=&formula_guard=&model_answers=`:
//! a batch's rows and answers (the reviewed answer where a person reviewed the row) as a download, streamed straight from the database in constant memory.
//!
//! Three stages run side by side, joined by small bounded channels so none can run ahead of the
//! client: a task reads keyset pages of rows, a blocking thread turns them into bytes with
//! `rowbench_export`, and the response body sends those bytes as they come.

use std::io::{self, Write};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use rowbench_export::{ExportError, ExportOptions, Exporter, Format, Layout, download};
use rowbench_store::export::{ExportCursor, ExportPage};
use rowbench_store::{Database, StoreError};
use rowbench_workbench::export::{PAGE_ROWS, export_row};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{ApiPath, ApiQuery, flag};
use crate::startup::AppState;

/// Bytes per body chunk.
const CHUNK_BYTES: usize = 64 * 1024;
/// Body chunks that may wait for a slow client before the writer waits too.
const CHUNKS_IN_FLIGHT: usize = 8;

/// `true` when the export is missing answers: the batch is not completed, or some of its rows
/// did not succeed.
pub const PARTIAL_HEADER: &str = "x-rowbench-partial";
/// Rows with an outcome (succeeded or failed) when the export started.
pub const ROWS_FINISHED_HEADER: &str = "x-rowbench-rows-finished";
/// Rows in the batch.
pub const ROWS_TOTAL_HEADER: &str = "x-rowbench-rows-total";
/// The batch's accuracy per field when the download started (see [`accuracy_header`]).
pub const ACCURACY_HEADER: &str = "x-rowbench-accuracy";

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/api/batches/{id}/export", get(export_batch))
        .wrap(|r| r.layer(axum::middleware::from_fn(json_errors)))
}

#[derive(Debug, Deserialize)]
struct ExportParams {
    format: Option<String>,
    metadata: Option<String>,
    formula_guard: Option<String>,
    /// Adds `<field>_model`, the model's own answer, beside each reviewed one.
    model_answers: Option<String>,
}

async fn export_batch(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let format = match params.format.as_deref() {
        None | Some("") => Format::Csv,
        Some(text) => Format::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_format",
                format!("format must be csv, json or jsonl, not {text:?}"),
            )
            .with_details(json!({ "parameter": "format", "formats": ["csv", "json", "jsonl"] }))
        })?,
    };
    let metadata = flag("metadata", params.metadata.as_deref(), true)?;
    let formula_guard = flag("formula_guard", params.formula_guard.as_deref(), true)?;
    let model_answers = flag("model_answers", params.model_answers.as_deref(), false)?;

    let setup = state
        .workbench
        .open_export(&actor, id, format.extension())
        .await?;
    let (plan, partial, summary) = (setup.plan, setup.partial, setup.summary);
    // The accuracy travels with the file (the same figures as `GET …/sample` where a reviewed
    // sample speaks for the batch, else as `GET …/accuracy`).
    let sample = state.workbench.sample(&actor, id, 0.0).await?;
    let accuracy = accuracy_header(
        &state.workbench.accuracy(&actor, id, 0.0).await?,
        sample.as_ref(),
    );
    let layout = plan.layout(metadata).with_model_answers(model_answers);
    let options = ExportOptions {
        format,
        formula_guard,
    };

    let (pages_tx, pages_rx) = mpsc::channel(1);
    let (bytes_tx, bytes_rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(read_pages(state.db.clone(), id, setup.dataset_id, pages_tx));
    tokio::task::spawn_blocking(move || write_pages(pages_rx, bytes_tx, layout, options));
    // Fused: the compression layer polls once more after the end, which `unfold` forbids.
    let body = Body::from_stream(futures_util::StreamExt::fuse(futures_util::stream::unfold(
        bytes_rx,
        |mut chunks| async move { chunks.recv().await.map(|chunk| (chunk, chunks)) },
    )));

    let disposition = download::content_disposition(&plan.dataset_name, partial, format);
    let header_value = |text: &str| HeaderValue::from_str(text).map_err(|e| ApiError::internal(&e));
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        ),
        (header::CONTENT_DISPOSITION, header_value(&disposition)?),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            HeaderName::from_static(PARTIAL_HEADER),
            HeaderValue::from_static(if partial { "true" } else { "false" }),
        ),
        (
            HeaderName::from_static(ROWS_FINISHED_HEADER),
            HeaderValue::from(summary.done_rows + summary.failed_rows),
        ),
        (
            HeaderName::from_static(ROWS_TOTAL_HEADER),
            HeaderValue::from(summary.total_rows),
        ),
        (
            HeaderName::from_static(ACCURACY_HEADER),
            header_value(&accuracy)?,
        ),
    ];
    Ok((headers, body).into_response())
}

/// Per field with anything compared, its accuracy and 95% interval (four decimals), the rows
/// compared and what they were, as one line of JSON: `{"sentiment":{"accuracy":0.9333,
/// "ci_low":0.874,"ci_high":0.9661,"compared":120,"from":"sample","sample_rows":120,
/// "population":5000}}`. A field reviewed in the batch's review sample states the sample's
/// estimate for the whole batch (`"from":"sample"`); any other the rows reviewed or with a gold
/// answer (`"from":"reviewed"`). `{}` before any review or gold answer. Field names are
/// identifiers, so the line is plain ASCII.
fn accuracy_header(
    accuracy: &rowbench_workbench::accuracy::BatchAccuracy,
    sample: Option<&rowbench_workbench::samples::SampleReport>,
) -> String {
    let round = |x: Option<f64>| x.map(|x| (x * 10_000.0).round() / 10_000.0);
    let fields: serde_json::Map<String, serde_json::Value> = accuracy
        .fields
        .iter()
        .filter_map(|f| {
            let sampled = sample.and_then(|s| {
                s.fields
                    .iter()
                    .find(|g| g.field == f.field && g.reviewed > 0)
                    .map(|g| (s, g))
            });
            let figures = match sampled {
                Some((s, g)) => json!({
                    "accuracy": round(g.accuracy),
                    "ci_low": round(g.ci_low),
                    "ci_high": round(g.ci_high),
                    "compared": g.reviewed,
                    "from": "sample",
                    "sample_rows": s.rows,
                    "population": s.population,
                }),
                None if f.reviewed > 0 => json!({
                    "accuracy": round(f.accuracy),
                    "ci_low": round(f.ci_low),
                    "ci_high": round(f.ci_high),
                    "compared": f.reviewed,
                    "from": "reviewed",
                }),
                None => return None,
            };
            Some((f.field.clone(), figures))
        })
        .collect();
    serde_json::Value::Object(fields).to_string()
}

type Page = Result<ExportPage, StoreError>;

/// Reads the batch's rows page after page into `pages`; stops at the end, on an error (passed
/// on), or when the writer is gone (the client left). Pages are parsed by the writer, so the
/// next query runs while the last page is being written.
async fn read_pages(
    db: Database,
    batch_id: i64,
    dataset_id: Option<i64>,
    pages: mpsc::Sender<Page>,
) {
    let mut cursor = match ExportCursor::open(&db, batch_id, dataset_id, PAGE_ROWS).await {
        Ok(cursor) => cursor,
        Err(err) => {
            let _ = pages.send(Err(err)).await;
            return;
        }
    };
    loop {
        let page = match cursor.next_page().await {
            Ok(Some(page)) => Ok(page),
            Ok(None) => return,
            Err(err) => Err(err),
        };
        let failed = page.is_err();
        if pages.send(page).await.is_err() || failed {
            return;
        }
    }
}

/// Turns pages into bytes on a blocking thread (parsing and formatting are CPU work, which would
/// hold up other requests on an async worker). A failure ends the body with an error, so the
/// client sees a broken download rather than a file that silently stops early.
fn write_pages(
    pages: mpsc::Receiver<Page>,
    chunks: mpsc::Sender<io::Result<Bytes>>,
    layout: Layout,
    options: ExportOptions,
) {
    let out = ChunkWriter {
        chunks: chunks.clone(),
        buffer: Vec::with_capacity(CHUNK_BYTES),
    };
    let failure = match write_all(pages, out, layout, options) {
        Ok(()) => return,
        Err(Failure::Export(e)) if client_left(&e) => {
            tracing::debug!("the client left during an export");
            return;
        }
        Err(Failure::Export(e)) => e.to_string(),
        Err(Failure::Store(e)) => e.to_string(),
    };
    tracing::error!(error = %failure, "export failed");
    let _ = chunks.blocking_send(Err(io::Error::other("the export failed")));
}

enum Failure {
    Export(ExportError),
    Store(StoreError),
}

/// Whether `error` only says the body's receiver is gone.
fn client_left(error: &ExportError) -> bool {
    error.io_kind() == Some(io::ErrorKind::BrokenPipe)
}

fn write_all(
    mut pages: mpsc::Receiver<Page>,
    out: ChunkWriter,
    layout: Layout,
    options: ExportOptions,
) -> Result<(), Failure> {
    let mut exporter = Exporter::new(out, layout, options).map_err(Failure::Export)?;
    while let Some(page) = pages.blocking_recv() {
        let records = page
            .and_then(|page| page.records())
            .map_err(Failure::Store)?;
        for record in records {
            let row = export_row(&record);
            exporter.write_row(&row).map_err(Failure::Export)?;
        }
    }
    exporter.finish().map_err(Failure::Export)?;
    Ok(())
}

/// Collects written bytes into chunks of [`CHUNK_BYTES`] and hands each to the response body,
/// waiting while the body's queue is full: that wait is what keeps memory constant when the
/// client reads slower than the database.
struct ChunkWriter {
    chunks: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.chunks
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            self.send()
        }
    }
}
