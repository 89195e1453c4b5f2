//! The comparisons API: start a run of a batch's rows with another model, provider, prompt or
//! temperature, read how far a comparison's runs agree, field by field, and what the batch would
//! cost on other models. Each handler parses
//! the request, calls one use case of `rowbench_workbench` and answers its model as JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rowbench_workbench::Workbench;
use rowbench_workbench::comparisons::{CompareRequest, ComparisonView};
use rowbench_workbench::costs::CostsElsewhere;
use serde_json::Value;

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::batches::{AccuracyParams, tolerance};
use crate::routes::extract::{ApiJson, ApiPath, ApiQuery, RequestBody, UnknownField, check_keys};

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/api/batches/{id}/compare", post(compare))
        .route("/api/comparisons/{id}", get(show))
        .route("/api/batches/{id}/costs", get(costs))
        .wrap(|r| r.layer(axum::middleware::from_fn(json_errors)))
}

impl RequestBody for CompareRequest {
    fn unknown_field(body: &Value) -> Option<UnknownField> {
        check_keys(body, "", &["settings", "prompt", "rows"])
            .or_else(|| check_keys(&body["prompt"], "prompt", &["system", "user"]))
    }
}

/// `POST /api/batches/{id}/compare` with `{"settings": {…}, "prompt": {…}, "rows": "all" |
/// {"first": N} | {"sample": N, "seed": S}}`: starts the run; answers `{"comparison_id",
/// "batch_id", "rows"}`.
async fn compare(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CompareRequest>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(workbench.compare(&actor, id, body).await?),
    ))
}

/// `GET /api/comparisons/{id}?tolerance=`: the runs and, per field, `agreement`, `kappa`,
/// `confusion` and `rows_compared` (numbers within `tolerance` agree; default 0).
async fn show(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<AccuracyParams>,
) -> Result<Json<ComparisonView>, ApiError> {
    let tolerance = tolerance(&params)?;
    Ok(Json(workbench.comparison(&actor, id, tolerance).await?))
}

/// `GET /api/batches/{id}/costs`: the batch's recorded tokens priced on every model with a known
/// price, cheapest first, with the batch-API price where the provider has one.
async fn costs(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CostsElsewhere>, ApiError> {
    Ok(Json(workbench.costs_elsewhere(&actor, id).await?))
}
