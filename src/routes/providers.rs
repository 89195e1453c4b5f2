//! The providers API: `POST /api/providers/check` makes one small call to a configured model,
//! with the server's key for it, and says whether it works and, if not, what to fix.

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use rowbench_workbench::providers::ConnectionReport;
use rowbench_workbench::{Error, Workbench};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{ApiJson, RequestBody, UnknownField, check_keys};

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/api/providers/check", post(check))
        .wrap(|r| r.layer(axum::middleware::from_fn(json_errors)))
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
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiJson(body): ApiJson<CheckBody>,
) -> Result<Json<ConnectionReport>, ApiError> {
    match workbench
        .check_connection(&actor, &body.provider, &body.model)
        .await
    {
        Ok(report) => Ok(Json(report)),
        // The body's field that names what this server does not have.
        Err(error @ Error::NotFound { .. }) => {
            Err(ApiError::from(error).with_details(json!({ "field": "provider" })))
        }
        Err(error) => Err(error.into()),
    }
}
