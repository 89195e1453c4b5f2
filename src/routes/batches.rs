//! The batches API: create a batch from a recipe, read its state, rows, drill-down and answer
//! charts, control it (pause, resume, cancel, retry failed rows, retry one row, run the rows a
//! trial left out, run failed, rejected or all rows again with worked examples), review a row's
//! answer, draw a review sample, delete it. Each handler parses the request, calls one use case of
//! `rowbench_workbench` and answers its model as JSON.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rowbench_mapping::ColumnMapping;
use rowbench_recipe::{PromptDraft, Recipe, RunSettings};
use rowbench_schema::ResponseSchema;
use rowbench_workbench::Workbench;
use rowbench_workbench::batch_page::{QueueQuery, ReviewFilter, RowStatus};
use rowbench_workbench::batches::{BatchAction, BatchRecord, StartBatch};
use rowbench_workbench::limits::{API_PAGE, MAX_API_PAGE};
use rowbench_workbench::reruns::RerunRequest;
use rowbench_workbench::reviews::{Decision, ReviewInput};
use rowbench_workbench::samples::SampleRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{
    ApiJson, ApiPath, ApiQuery, JSON_BODY_LIMIT, RequestBody, UnknownField, check_keys, flag,
};

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route(
            "/api/batches",
            get(list)
                .post(create)
                .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT)),
        )
        .route("/api/batches/{id}", get(show).delete(delete))
        .route("/api/batches/{id}/charts", get(charts))
        .route("/api/batches/{id}/accuracy", get(accuracy))
        .route(
            "/api/batches/{id}/sample",
            get(sample).post(draw_sample).delete(discard_sample),
        )
        .route("/api/batches/{id}/rerun", post(rerun))
        .route("/api/batches/{id}/{action}", post(control))
        .route("/api/batches/{id}/rows", get(rows))
        .route("/api/batches/{id}/rows/{row}", get(row))
        .route("/api/batches/{id}/rows/{row}/retry", post(retry_row))
        .route("/api/batches/{id}/rows/{row}/review", post(review_row))
        .route(
            "/api/batches/{id}/review-sheet",
            get(review_sheet)
                .post(apply_review_sheet)
                .layer(DefaultBodyLimit::max(SHEET_BODY_LIMIT)),
        )
        .wrap(|r| r.layer(axum::middleware::from_fn(json_errors)))
}

/// `POST /api/batches` body: a dataset and the recipe to run over it.
/// The recipe's parts are listed rather than flattened from [`Recipe`], so that a refusal can
/// name the field (serde loses the path through `flatten`).
#[derive(Debug, Deserialize)]
struct CreateBatch {
    dataset_id: i64,
    mapping: ColumnMapping,
    prompt: PromptDraft,
    schema: ResponseSchema,
    settings: RunSettings,
}

/// The fields each object of the body may have: the recipe's types ignore unknown ones (so that
/// stored recipes of other versions still load), the API refuses them.
impl RequestBody for CreateBatch {
    fn unknown_field(body: &Value) -> Option<UnknownField> {
        check_keys(
            body,
            "",
            &["dataset_id", "mapping", "prompt", "schema", "settings"],
        )
        .or_else(|| check_keys(&body["mapping"], "mapping", &["columns"]))
        .or_else(|| {
            each(
                &body["mapping"]["columns"],
                "mapping.columns",
                |column, at| {
                    if column["role"] == "param" {
                        check_keys(column, at, &["name", "role", "key", "is_key", "gold_for"])
                    } else {
                        check_keys(column, at, &["name", "role", "is_key", "gold_for"])
                    }
                },
            )
        })
        .or_else(|| check_keys(&body["prompt"], "prompt", &["system", "user"]))
        .or_else(|| check_keys(&body["schema"], "schema", &["fields"]))
        .or_else(|| {
            each(&body["schema"]["fields"], "schema.fields", |field, at| {
                if field["type"] == "enum" {
                    check_keys(
                        field,
                        at,
                        &["name", "type", "options", "description", "required"],
                    )
                } else {
                    check_keys(field, at, &["name", "type", "description", "required"])
                }
            })
        })
        .or_else(|| {
            check_keys(
                &body["settings"],
                "settings",
                &[
                    "provider",
                    "model",
                    "temperature",
                    "max_tokens",
                    "error_policy",
                    "first_rows",
                    "concurrency",
                ],
            )
        })
        .or_else(|| {
            let policy = &body["settings"]["error_policy"];
            if policy["kind"] == "stop_after" {
                check_keys(policy, "settings.error_policy", &["kind", "errors"])
            } else {
                check_keys(policy, "settings.error_policy", &["kind"])
            }
        })
    }
}

/// The first unknown field of the items of the array `items` (at path `at`).
fn each(
    items: &Value,
    at: &str,
    check: impl Fn(&Value, &str) -> Option<UnknownField>,
) -> Option<UnknownField> {
    items
        .as_array()?
        .iter()
        .enumerate()
        .find_map(|(i, item)| check(item, &format!("{at}[{i}]")))
}

async fn create(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiJson(body): ApiJson<CreateBatch>,
) -> Result<impl IntoResponse, ApiError> {
    let start = StartBatch {
        dataset_id: body.dataset_id,
        recipe: Recipe {
            mapping: body.mapping,
            prompt: body.prompt,
            schema: body.schema,
            settings: body.settings,
        },
    };
    let id = workbench.start_batch(&actor, start).await?;
    Ok((
        StatusCode::CREATED,
        Json(workbench.batch(&actor, id).await?),
    ))
}

async fn list(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(json!({ "batches": workbench.batches(&actor).await? })))
}

async fn show(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BatchRecord>, ApiError> {
    Ok(Json(workbench.batch(&actor, id).await?))
}

/// `POST /api/batches/{id}/{start|pause|resume|cancel|retry-failed|run-remaining}`.
async fn control(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath((id, action)): ApiPath<(i64, String)>,
) -> Result<Json<BatchRecord>, ApiError> {
    let Some(action) = BatchAction::parse(&action) else {
        // An unknown batch reads as such before an unknown action.
        workbench.batch(&actor, id).await?;
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_action",
            format!(
                "\"{action}\" is not a batch action; use start, pause, resume, cancel, retry-failed or run-remaining"
            ),
        ));
    };
    workbench.control(&actor, id, action).await?;
    Ok(Json(workbench.batch(&actor, id).await?))
}

#[derive(Debug, Deserialize)]
struct RowsParams {
    status: Option<String>,
    /// `unreviewed`, `accepted`, `fixed` or `rejected`.
    review: Option<String>,
    /// `true`: only the rows of the batch's review sample.
    sample: Option<String>,
    /// Text searched (case-insensitively) in the batch's key columns.
    q: Option<String>,
    /// A comparison's id: only the rows its runs disagree on, with every run's answer.
    disagree: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
}

/// The JSON twin of the batch page's queue table.
async fn rows(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<RowsParams>,
) -> Result<impl IntoResponse, ApiError> {
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(RowStatus::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_status",
                format!(
                    "status must be queued, running, succeeded, failed or cancelled, not \"{text}\""
                ),
            )
            .with_details(json!({ "parameter": "status" }))
        })?),
    };
    let review = match params.review.as_deref() {
        None | Some("") => None,
        Some(text) => Some(ReviewFilter::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                format!("review must be unreviewed, accepted, fixed or rejected, not \"{text}\""),
            )
            .with_details(json!({ "parameter": "review" }))
        })?),
    };
    let limit = params.limit.unwrap_or(API_PAGE);
    if !(1..=MAX_API_PAGE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            format!("limit must be between 1 and {MAX_API_PAGE}"),
        )
        .with_details(json!({ "parameter": "limit" })));
    }
    let sample = flag("sample", params.sample.as_deref(), false)?;
    let search = params.q.unwrap_or_default();
    if let Some(comparison) = params.disagree {
        if status.is_some() || review.is_some() || sample || !search.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "disagree lists every row the runs disagree on: it takes after and limit, not \
                 status, review, sample or q",
            )
            .with_details(json!({ "parameter": "disagree" })));
        }
        let page = workbench
            .disagreements(&actor, id, comparison, params.after, limit)
            .await?;
        return Ok(Json(page).into_response());
    }
    let query = QueueQuery {
        status,
        review,
        sample,
        search,
        after: params.after,
        before: None,
        limit,
    };
    Ok(Json(workbench.rows_page(&actor, id, query).await?).into_response())
}

async fn row(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
) -> Result<impl IntoResponse, ApiError> {
    let (answer, _) = workbench.row(&actor, id, row).await?;
    Ok(Json(answer))
}

/// `POST /api/batches/{id}/rows/{row}/review` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    decision: Decision,
    #[serde(default)]
    answer: Option<Value>,
    #[serde(default)]
    reason: Option<String>,
}

impl RequestBody for ReviewBody {
    fn unknown_field(body: &Value) -> Option<UnknownField> {
        check_keys(body, "", &["decision", "answer", "reason"])
    }
}

/// A person's review of a row's answer: the row as `GET …/rows/{row}` answers it, with it.
async fn review_row(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = ReviewInput {
        decision: body.decision,
        answer: body.answer,
        reason: body.reason,
    };
    Ok(Json(workbench.review_row(&actor, id, row, input).await?))
}

/// The largest review sheet taken back (a sheet of 200,000 rows with short answers fits).
const SHEET_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// `GET /api/batches/{id}/review-sheet`: the batch's finished rows as CSV to review in a
/// spreadsheet, with empty `verdict`, `reason` and `fix_<field>` columns.
async fn review_sheet(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    use axum::http::{HeaderValue, header};
    let (name, bytes) = workbench.review_sheet(&actor, id).await?;
    let disposition = rowbench_export::download::content_disposition_ending(&name, "-review.csv");
    let disposition = HeaderValue::from_str(&disposition).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetParams {
    /// `check`, `all` (the default) or `valid`.
    apply: Option<String>,
}

/// `POST /api/batches/{id}/review-sheet?apply=check|all|valid` with a filled review sheet as the
/// body: what it does, or would do. With `all`, a sheet with any problem answers
/// `422 invalid_sheet` and nothing is applied.
async fn apply_review_sheet(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<SheetParams>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    use rowbench_workbench::review_sheet::SheetApply;
    let apply = match params.apply.as_deref() {
        None | Some("") => SheetApply::All,
        Some(text) => SheetApply::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                format!("apply must be check, all or valid, not \"{text}\""),
            )
            .with_details(json!({ "parameter": "apply" }))
        })?,
    };
    Ok(Json(
        workbench
            .apply_review_sheet(&actor, id, &body, apply)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccuracyParams {
    /// Numbers within this of each other count as equal (default 0: exactly).
    pub(crate) tolerance: Option<f64>,
}

/// Per answer field, how often the model was right on the rows people reviewed, with a 95%
/// Wilson interval, and for enum and boolean fields the confusion matrix.
async fn accuracy(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<AccuracyParams>,
) -> Result<impl IntoResponse, ApiError> {
    let tolerance = tolerance(&params)?;
    Ok(Json(workbench.accuracy(&actor, id, tolerance).await?))
}

/// The number-tolerance parameter the accuracy and agreement reads take: 0 or more.
pub(crate) fn tolerance(params: &AccuracyParams) -> Result<f64, ApiError> {
    let tolerance = params.tolerance.unwrap_or(0.0);
    if !tolerance.is_finite() || tolerance < 0.0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("tolerance must be a number of 0 or more, not {tolerance}"),
        )
        .with_details(json!({ "parameter": "tolerance" })));
    }
    Ok(tolerance)
}

/// `GET /api/batches/{id}/sample`: the batch's review sample and, per field, the whole batch's
/// accuracy its reviews estimate; `404 not_found` when none was drawn.
async fn sample(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<AccuracyParams>,
) -> Result<impl IntoResponse, ApiError> {
    let tolerance = tolerance(&params)?;
    match workbench.sample(&actor, id, tolerance).await? {
        Some(report) => Ok(Json(report)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("Batch {id} has no review sample: draw one with POST."),
        )),
    }
}

impl RequestBody for SampleRequest {
    fn unknown_field(body: &Value) -> Option<UnknownField> {
        check_keys(body, "", &["size", "stratify_by"])
    }
}

/// `POST /api/batches/{id}/sample` with `{"size": N, "stratify_by": "<field>"}`: draws a new
/// review sample in place of the old one.
async fn draw_sample(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SampleRequest>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(workbench.draw_sample(&actor, id, body).await?),
    ))
}

impl RequestBody for RerunRequest {
    fn unknown_field(body: &Value) -> Option<UnknownField> {
        check_keys(body, "", &["rows", "examples"])
            .or_else(|| check_keys(&body["examples"], "examples", &["count", "choose", "by"]))
    }
}

/// `POST /api/batches/{id}/rerun` with `{"rows": "failed" | "rejected" | "all", "examples":
/// {"count": k, "choose": "closest" | "random", "by": ["<column>", …]}}` (examples optional):
/// the rows go back to the queue; answers what was started and the batch.
async fn rerun(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RerunRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let report = workbench.rerun(&actor, id, body).await?;
    let batch = workbench.batch(&actor, id).await?;
    Ok(Json(json!({ "rerun": report, "batch": batch })))
}

/// `DELETE /api/batches/{id}/sample`: forgets the sample; its reviews stay.
async fn discard_sample(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    workbench.discard_sample(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a batch with its rows and call records (its dataset stays).
async fn delete(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    workbench.delete_batch(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The JSON twin of the batch page's charts: for each enum and boolean field how many succeeded
/// rows gave each answer, for each number field a histogram in equal bins.
async fn charts(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        json!({ "charts": workbench.charts(&actor, id).await? }),
    ))
}

async fn retry_row(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
) -> Result<Json<BatchRecord>, ApiError> {
    workbench.retry_row(&actor, id, row).await?;
    Ok(Json(workbench.batch(&actor, id).await?))
}
