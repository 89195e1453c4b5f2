//! The batches API: create a batch from a recipe, read its state, rows, drill-down and answer
//! charts, control it (pause, resume, cancel, retry failed rows, retry one row, run the rows a
//! trial left out), delete it.

use app::api::batch_page::answer_charts;
use app::api::prompt::MAX_TEMPLATE_BYTES;
use app::api::schema::MAX_FIELDS;
use app::error::AppError;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use rowbench_mapping::ColumnMapping;
use rowbench_recipe::{BatchConfig, BlockerStep, PromptDraft, Recipe, RunSettings};
use rowbench_schema::ResponseSchema;
use rowbench_store::batch_view::{Chart, QueueFilter, queue_page};
use rowbench_store::batches::{self, BatchSummary, RunRemaining};
use rowbench_store::queue::{self, RowStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{
    ApiJson, ApiPath, ApiQuery, JSON_BODY_LIMIT, RequestBody, UnknownField, check_keys,
};
use crate::startup::AppState;

/// Rows a page holds when the client does not say.
const DEFAULT_PAGE: u32 = 100;
/// The largest page a client may ask for.
const MAX_PAGE: u32 = 1_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/batches",
            get(list)
                .post(create)
                .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT)),
        )
        .route("/api/batches/{id}", get(show).delete(delete))
        .route("/api/batches/{id}/charts", get(charts))
        .route("/api/batches/{id}/{action}", post(control))
        .route("/api/batches/{id}/rows", get(rows))
        .route("/api/batches/{id}/rows/{row}", get(row))
        .route("/api/batches/{id}/rows/{row}/retry", post(retry_row))
        .layer(axum::middleware::from_fn(json_errors))
}

/// The owner of everything in local mode.
fn owner() -> &'static str {
    app::server::LOCAL_USER
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
                        check_keys(column, at, &["name", "role", "key", "is_key"])
                    } else {
                        check_keys(column, at, &["name", "role", "is_key"])
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

/// The limits the wizard's steps enforce when they save, which a recipe sent whole must keep too.
fn check_limits(recipe: &Recipe) -> Result<(), ApiError> {
    let fields = recipe.schema.fields.len();
    if fields > MAX_FIELDS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_fields",
            format!("The schema has {fields} fields; it may have at most {MAX_FIELDS}."),
        )
        .with_details(json!({ "field": "schema.fields", "found": fields, "limit": MAX_FIELDS })));
    }
    let bytes = recipe.prompt.system.len() + recipe.prompt.user.len();
    if bytes > MAX_TEMPLATE_BYTES {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "template_too_large",
            format!(
                "Together the two templates may be at most {} KB; these are {bytes} bytes.",
                MAX_TEMPLATE_BYTES / 1000
            ),
        )
        .with_details(
            json!({ "field": "prompt", "found_bytes": bytes, "limit_bytes": MAX_TEMPLATE_BYTES }),
        ));
    }
    Ok(())
}

/// The part of the body a blocker is about.
fn blocker_field(step: BlockerStep) -> &'static str {
    match step {
        BlockerStep::Columns => "mapping",
        BlockerStep::Prompt => "prompt",
        BlockerStep::Schema => "schema",
        BlockerStep::Review => "settings",
    }
}

async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBatch>,
) -> Result<impl IntoResponse, ApiError> {
    let recipe = Recipe {
        mapping: body.mapping,
        prompt: body.prompt,
        schema: body.schema,
        settings: body.settings,
    };
    check_limits(&recipe)?;
    let Some(dataset) = rowbench_store::datasets::find(&state.db, owner(), body.dataset_id).await?
    else {
        return Err(ApiError::not_found("The dataset"));
    };
    let columns: Vec<String> = dataset
        .columns
        .as_array()
        .map(|cols| {
            cols.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !recipe
        .mapping
        .columns
        .iter()
        .map(|c| &c.name)
        .eq(columns.iter())
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "mapping_mismatch",
            "The mapping must list the dataset's columns, in order.",
        )
        .with_details(json!({ "columns": columns })));
    }
    let server = state.server_state();
    let blockers = app::api::review::ssr::blockers(&server, &recipe);
    if !blockers.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_recipe",
            format!("The batch was not started: {}", blockers[0].message),
        )
        .with_details(json!({
            "field": blocker_field(blockers[0].step),
            "blockers": blockers
        })));
    }
    let id = server
        .start_batch(dataset.id, &dataset.name, columns, recipe)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => ApiError::not_found("The dataset"),
            AppError::Invalid(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_recipe", message)
            }
            other => ApiError::internal(&other),
        })?;
    Ok((StatusCode::CREATED, Json(batch_json(&state, id).await?)))
}

fn summary_json(b: &BatchSummary) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "status": b.status,
        "total_rows": b.total_rows,
        "done_rows": b.done_rows,
        "failed_rows": b.failed_rows,
        "created_at": b.created_at,
    })
}

async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let list = batches::list(&state.db, owner(), app::api::batches::LIST_LIMIT).await?;
    Ok(Json(
        json!({ "batches": list.iter().map(summary_json).collect::<Vec<_>>() }),
    ))
}

/// A batch's state, counts by row state, totals and configuration.
async fn batch_json(state: &AppState, id: i64) -> Result<Value, ApiError> {
    let Some(batch) = batches::find(&state.db, owner(), id).await? else {
        return Err(ApiError::not_found("The batch"));
    };
    let counts = batches::row_counts(&state.db, id).await?;
    let totals = queue::totals(&state.db, id).await?;
    let config: Option<BatchConfig> = serde_json::from_value(batch.config.clone()).ok();
    let mut body = summary_json(&batch.summary);
    body["dataset_id"] = json!(batch.dataset_id);
    body["counts"] = json!(counts);
    body["totals"] = json!({
        "calls": totals.calls,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "cost_usd": totals.cost_usd,
    });
    body["pause_reason"] = json!(totals.pause_reason);
    if let Some(config) = config {
        body["provider"] = json!(config.recipe.settings.provider);
        body["model"] = json!(config.recipe.settings.model);
        body["settings"] = json!(config.recipe.settings);
        body["json_schema"] = config.json_schema;
    }
    Ok(body)
}

async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(batch_json(&state, id).await?))
}

/// `POST /api/batches/{id}/{start|pause|resume|cancel|retry-failed|run-remaining}`.
async fn control(
    State(state): State<AppState>,
    ApiPath((id, action)): ApiPath<(i64, String)>,
) -> Result<impl IntoResponse, ApiError> {
    if batches::find(&state.db, owner(), id).await?.is_none() {
        return Err(ApiError::not_found("The batch"));
    }
    let changed = match action.as_str() {
        "pause" => queue::pause(&state.db, owner(), id, None).await?,
        // A batch starts running when it is created; start on a paused one resumes it.
        "start" | "resume" => queue::resume(&state.db, owner(), id).await?,
        "cancel" => queue::cancel(&state.db, owner(), id).await?,
        "retry-failed" => queue::retry_failed(&state.db, owner(), id).await?,
        "run-remaining" => match batches::run_remaining(&state.db, owner(), id).await? {
            RunRemaining::Extended { .. } => true,
            RunRemaining::NotFound => return Err(ApiError::not_found("The batch")),
            RunRemaining::NotLimited => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "not_applicable",
                    "The batch already covers every row of its dataset: there are no remaining rows to run",
                ));
            }
            RunRemaining::Cancelled => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "not_applicable",
                    "The batch was cancelled, so its remaining rows cannot be run; clone it into a new draft to run it again",
                )
                .with_details(json!({ "status": "cancelled" })));
            }
        },
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_action",
                format!(
                    "\"{other}\" is not a batch action; use start, pause, resume, cancel, retry-failed or run-remaining"
                ),
            ));
        }
    };
    if !changed {
        let current = batch_json(&state, id).await?;
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_applicable",
            format!(
                "The batch is {}: {action} does not apply to it now",
                current["status"].as_str().unwrap_or("in another state")
            ),
        )
        .with_details(json!({ "status": current["status"] })));
    }
    state.wake.notify_one();
    Ok(Json(batch_json(&state, id).await?))
}

#[derive(Debug, Deserialize)]
struct RowsParams {
    status: Option<String>,
    /// Text searched (case-insensitively) in the batch's key columns.
    q: Option<String>,
    after: Option<i64>,
    limit: Option<u32>,
}

/// The JSON twin of the batch page's queue table.
async fn rows(
    State(state): State<AppState>,
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
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        )
        .with_details(json!({ "parameter": "limit" })));
    }
    let Some(batch) = batches::find(&state.db, owner(), id).await? else {
        return Err(ApiError::not_found("The batch"));
    };
    let keys: Vec<usize> = serde_json::from_value::<BatchConfig>(batch.config)
        .map(|c| {
            c.recipe
                .mapping
                .columns
                .iter()
                .enumerate()
                .filter(|(_, col)| col.is_key)
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    let search = params.q.unwrap_or_default();
    let filter = QueueFilter {
        status,
        search: Some((&keys, search.as_str())),
        after: params.after,
        before: None,
        limit,
    };
    let Some(page) = queue_page(&state.db, owner(), id, filter).await? else {
        return Err(ApiError::not_found("The batch"));
    };
    let next_after = (page.len() == limit as usize)
        .then(|| page.last().map(|r| r.row_index))
        .flatten();
    Ok(Json(json!({ "rows": page, "next_after": next_after })))
}

async fn row(
    State(state): State<AppState>,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
) -> Result<impl IntoResponse, ApiError> {
    let Some(detail) = queue::row_detail(&state.db, owner(), id, row).await? else {
        return Err(ApiError::not_found(&format!("Row {row} of batch {id}")));
    };
    let config: Option<BatchConfig> = batches::find(&state.db, owner(), id)
        .await?
        .and_then(|b| serde_json::from_value(b.config).ok());
    let mut body = json!(detail);
    if let (Some(config), Some(cells)) = (config, detail.cells.as_ref()) {
        body["columns"] = json!(config.columns);
        match config.recipe.render(cells) {
            Ok(messages) => body["messages"] = json!(messages),
            Err((part, issue)) => {
                body["messages_error"] = json!(format!("{}: {}", part.label(), issue.message));
            }
        }
    }
    Ok(Json(body))
}

/// Deletes a batch with its rows and call records (its dataset stays).
async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    if !batches::delete_batch(&state.db, owner(), id).await? {
        return Err(ApiError::not_found("The batch"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The JSON twin of the batch page's charts: for each enum and boolean field how many succeeded
/// rows gave each answer, for each number field a histogram in equal bins.
async fn charts(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let Some(batch) = batches::find(&state.db, owner(), id).await? else {
        return Err(ApiError::not_found("The batch"));
    };
    let schema = serde_json::from_value::<BatchConfig>(batch.config)
        .map(|config| config.recipe.schema)
        .unwrap_or_default();
    let charts: Vec<Value> = answer_charts(&state.server_state(), id, &schema)
        .await?
        .into_iter()
        .map(|(field, chart)| match chart {
            Chart::Counts(counts) => {
                let counts: Vec<Value> = counts
                    .into_iter()
                    .map(|(answer, rows)| json!({ "answer": answer, "rows": rows }))
                    .collect();
                json!({ "field": field, "kind": "counts", "counts": counts })
            }
            Chart::Histogram(bins) => {
                let bins: Vec<Value> = bins
                    .into_iter()
                    .map(|(from, to, rows)| json!({ "from": from, "to": to, "rows": rows }))
                    .collect();
                json!({ "field": field, "kind": "histogram", "bins": bins })
            }
        })
        .collect();
    Ok(Json(json!({ "charts": charts })))
}

async fn retry_row(
    State(state): State<AppState>,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
) -> Result<impl IntoResponse, ApiError> {
    if batches::find(&state.db, owner(), id).await?.is_none() {
        return Err(ApiError::not_found("The batch"));
    }
    if !queue::retry_row(&state.db, owner(), id, row).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_applicable",
            format!("Row {row} is not finished (or does not exist), so it cannot be retried"),
        ));
    }
    state.wake.notify_one();
    Ok(Json(batch_json(&state, id).await?))
}
