//! The datasets API: `POST /api/datasets` (streamed upload), `GET /api/datasets/{id}` (columns,
//! statistics, preview) and `GET /api/datasets/{id}/rows?after=&limit=` (keyset paged).

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::TryStreamExt;
use rowbench_ingest::{Delimiter, IngestError, IngestOptions, Ragged};
use rowbench_workbench::Workbench;
use rowbench_workbench::datasets::DatasetView;
use rowbench_workbench::limits::{API_PAGE, MAX_API_PAGE};
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{
    ApiJson, ApiPath, ApiQuery, JSON_BODY_LIMIT, RequestBody, UnknownField, check_keys,
};
use crate::startup::AppState;
use crate::uploads::{Upload, UploadError, store_upload};

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        // The ingest limits bound the upload; axum's own 2 MB default would cut it short.
        .route(
            "/api/datasets",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/datasets/{id}",
            get(show)
                .patch(rename)
                .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT)),
        )
        .route("/api/datasets/{id}/rows", get(rows))
        .wrap(|r| r.layer(axum::middleware::from_fn(json_errors)))
}

/// How to read the upload; all optional.
#[derive(Debug, Deserialize)]
struct UploadParams {
    /// Display name; defaults to the file name without its extension.
    name: Option<String>,
    /// File name when the body is raw CSV.
    filename: Option<String>,
    /// `comma`, `semicolon`, `tab` or `pipe`: overrides sniffing.
    delimiter: Option<Delimiter>,
    /// `pad` pads short rows and truncates long ones instead of refusing the file.
    ragged: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(params): ApiQuery<UploadParams>,
    request: Request,
) -> Result<impl IntoResponse, ApiError> {
    // A blank name means "the file's name"; a long one is refused as the pages refuse it.
    if let Some(name) = params.name.as_deref()
        && !name.trim().is_empty()
    {
        rowbench_workbench::datasets::check_name(name)
            .map_err(|error| ApiError::from(error).with_details(json!({ "parameter": "name" })))?;
    }
    let options = IngestOptions {
        delimiter: params.delimiter,
        ragged: match params.ragged.as_deref() {
            None | Some("reject") => Ragged::Reject,
            Some("pad") => Ragged::PadOrTruncate,
            Some(other) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    format!("ragged must be \"reject\" or \"pad\", not {other:?}"),
                )
                .with_details(json!({ "parameter": "ragged" })));
            }
        },
        limits: state.limits,
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // Before a byte of the file is read: a viewer's upload would only be thrown away.
    actor.must_edit("upload datasets")?;
    let owner = actor.owner();

    let id = if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, &state).await.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text())
        })?;
        let mut field = loop {
            match form.next_field().await {
                Ok(Some(field)) if field.name() == Some("file") => break field,
                Ok(Some(_)) => continue,
                Ok(None) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "missing_file",
                        "The form has no field named \"file\" with the CSV in it.",
                    ));
                }
                Err(e) => {
                    return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text()));
                }
            }
        };
        let file_name = field.file_name().map(str::to_string).or(params.filename).unwrap_or_else(|| "upload.csv".into());
        let name = display_name(params.name.as_deref(), &file_name);
        // The field borrows the form, but the parser runs on its own thread: hand the chunks
        // over through a small channel, which also keeps memory bounded.
        let (chunks, received) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let pump = async move {
            loop {
                // Stops once the upload does (refused, stalled): a stalled client sends no
                // next chunk that would show the upload gone.
                let next = tokio::select! {
                    next = field.chunk() => next.map_err(std::io::Error::other).transpose(),
                    () = chunks.closed() => break,
                };
                match next {
                    Some(chunk) => {
                        if chunks.send(chunk).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                }
            }
        };
        let body = Box::pin(futures_util::stream::unfold(received, |mut received| async move {
            received.recv().await.map(|chunk| (chunk, received))
        }));
        let upload = Upload { owner, name: &name, file_name: &file_name, options, idle: state.upload_idle };
        let ((), stored) = tokio::join!(pump, store_upload(&state.db, upload, body));
        stored
    } else if is_csv_content_type(&content_type) {
        let file_name = params.filename.unwrap_or_else(|| "upload.csv".into());
        let name = display_name(params.name.as_deref(), &file_name);
        let body = request.into_body().into_data_stream().map_err(std::io::Error::other);
        let upload = Upload { owner, name: &name, file_name: &file_name, options, idle: state.upload_idle };
        store_upload(&state.db, upload, body).await
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Send the CSV as multipart/form-data (field \"file\") or as a text/csv body, not {content_type:?}."
            ),
        ));
    }
    .map_err(upload_error)?;

    let body = state.workbench.dataset(&actor, id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/datasets/{id}"))],
        Json(body),
    ))
}

fn is_csv_content_type(content_type: &str) -> bool {
    content_type.is_empty()
        || [
            "text/csv",
            "text/plain",
            "text/tab-separated-values",
            "application/csv",
            "application/octet-stream",
        ]
        .iter()
        .any(|t| content_type.starts_with(t))
}

/// The name shown for a dataset: the one given, else the file name without its extension.
fn display_name(given: Option<&str>, file_name: &str) -> String {
    match given.map(str::trim) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => {
            let stem = std::path::Path::new(file_name)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("");
            if stem.is_empty() {
                "Untitled dataset".to_string()
            } else {
                stem.to_string()
            }
        }
    }
}

fn upload_error(err: UploadError) -> ApiError {
    match err {
        UploadError::Ingest(e) => ingest_error(e),
        UploadError::Store(e) => ApiError::internal(&e),
        UploadError::Parser(e) => ApiError::internal(&e),
        UploadError::Stalled { idle } => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "upload_stalled",
            format!(
                "No data arrived for {} s, so the upload was stopped and nothing was kept. Send the file again.",
                idle.as_secs()
            ),
        )
        .with_details(json!({ "idle_secs": idle.as_secs() })),
    }
}

/// Each ingest error with its status, a stable code and the where (line, column, limit).
fn ingest_error(err: IngestError) -> ApiError {
    let message = err.to_string();
    let (status, code, details) = match &err {
        IngestError::EmptyFile => (StatusCode::UNPROCESSABLE_ENTITY, "empty_file", json!(null)),
        IngestError::HeaderOnly => (StatusCode::UNPROCESSABLE_ENTITY, "header_only", json!(null)),
        IngestError::RaggedRow {
            line,
            expected,
            found,
        } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "ragged_row",
            json!({ "line": line, "expected": expected, "found": found }),
        ),
        IngestError::UnterminatedQuote { line } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unterminated_quote",
            json!({ "line": line }),
        ),
        IngestError::NotText(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_text", json!(null)),
        IngestError::TooLarge { limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            json!({ "limit_bytes": limit.0 }),
        ),
        IngestError::TooManyColumns { found, limit } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_columns",
            json!({ "found": found, "limit": limit }),
        ),
        IngestError::FieldTooLong {
            line,
            column,
            limit,
        } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "field_too_long",
            json!({ "line": line, "column": column, "limit_bytes": limit.0 }),
        ),
        IngestError::RowTooLong { line, limit } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "row_too_long",
            json!({ "line": line, "limit_bytes": limit.0 }),
        ),
        IngestError::InvalidUtf8 { line, column } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_utf8",
            json!({ "line": line, "column": column }),
        ),
        IngestError::Read(_) => (StatusCode::BAD_REQUEST, "upload_interrupted", json!(null)),
    };
    ApiError::new(status, code, message).with_details(details)
}

async fn show(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DatasetView>, ApiError> {
    Ok(Json(workbench.dataset(&actor, id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameBody {
    name: String,
}

impl RequestBody for RenameBody {
    fn unknown_field(body: &serde_json::Value) -> Option<UnknownField> {
        check_keys(body, "", &["name"])
    }
}

/// `PATCH /api/datasets/{id}` with `{"name": "…"}`: the display name only; the data is unchanged.
async fn rename(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RenameBody>,
) -> Result<Json<DatasetView>, ApiError> {
    workbench.rename_dataset(&actor, id, &body.name).await?;
    Ok(Json(workbench.dataset(&actor, id).await?))
}

#[derive(Debug, Deserialize)]
struct PageParams {
    after: Option<i64>,
    limit: Option<u32>,
}

async fn rows(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<rowbench_workbench::datasets::RowsAfter>, ApiError> {
    let limit = page.limit.unwrap_or(API_PAGE);
    if limit == 0 || limit > MAX_API_PAGE {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("limit must be between 1 and {MAX_API_PAGE}, not {limit}"),
        )
        .with_details(json!({ "parameter": "limit" })));
    }
    Ok(Json(
        workbench
            .dataset_rows(&actor, id, page.after, limit)
            .await?,
    ))
}
