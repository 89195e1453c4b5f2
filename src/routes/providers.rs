//! The providers API: `POST /api/providers/check` makes one small call to a configured model,
//! with the server's key for it, and says whether it works and, if not, what to fix.

use std::sync::Arc;

use app::api::review::ConnectionReport;
use app::error::AppError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use rowbench_providers::Catalog;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{ApiJson, RequestBody, UnknownField, check_keys};
use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/providers/check", post(check))
        .layer(axum::middleware::from_fn(json_errors))
}

/// `POST /api/providers/check` body: which configured model to try.
#[derive(Debug, Deserialize)]
struct CheckBody {
    provider: String,
    model: String,
}

impl RequestBody for CheckBody {
    fn unknown_field(body: &Value) -> Option<UnknownField> {
        check_keys(body, "", &["provider", "model"])
    }
}

/// 200 with the verdict whether or not the connection works: the check itself ran. Only a
/// provider or model this server does not have is refused.
async fn check(
    State(catalog): State<Arc<Catalog>>,
    ApiJson(body): ApiJson<CheckBody>,
) -> Result<Json<ConnectionReport>, ApiError> {
    app::api::review::ssr::check_connection(&catalog, &body.provider, &body.model)
        .await
        .map(Json)
        .map_err(|error| match error {
            AppError::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} was not found"),
            )
            .with_details(json!({ "field": "provider" })),
            AppError::Invalid(message) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "model_not_configured",
                message,
            )
            .with_details(json!({ "field": "model" })),
            other => ApiError::internal(&other),
        })
}
