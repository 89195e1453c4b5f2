//! `GET /healthz`: 200 when the server can reach its database, 503 otherwise.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use rowbench_store::Database;
use serde_json::{Value, json};

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new().route("/healthz", get(healthz))
}

async fn healthz(State(db): State<Database>) -> (StatusCode, Json<Value>) {
    match db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "ok" })),
        ),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
        }
    }
}
