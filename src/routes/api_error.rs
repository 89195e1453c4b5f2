//! The JSON API's one error type: `{ "error": { "code", "message", "details" } }` with a fitting
//! status. Internals (database errors and the like) are logged here and never sent.

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} was not found"),
        )
    }

    /// A failure that is ours, not the client's: logged with its cause, reported without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on the server; the server log has the details.",
        )
    }
}

/// A use case's refusal as the JSON API answers it: 404, 422 for a request that cannot be done
/// as asked, 409 for one that does not apply to the thing's current state, 500 for ours.
impl From<rowbench_workbench::Error> for ApiError {
    fn from(err: rowbench_workbench::Error) -> Self {
        use rowbench_workbench::Error;
        match err {
            Error::NotFound { what } => ApiError::not_found(&what),
            Error::Invalid {
                code,
                message,
                details,
            } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_details(details)
            }
            Error::Conflict {
                code,
                message,
                details,
            } => ApiError::new(StatusCode::CONFLICT, code, message).with_details(details),
            Error::Forbidden { message } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            // Logged where it happened.
            Error::Internal => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on the server; the server log has the details.",
            ),
        }
    }
}

impl From<rowbench_store::StoreError> for ApiError {
    fn from(err: rowbench_store::StoreError) -> Self {
        ApiError::internal(&err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "code": self.code, "message": self.message, "details": self.details }
        });
        (self.status, Json(body)).into_response()
    }
}

/// Any `/api/...` path no route has: a JSON 404 rather than the app's HTML page.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/api", any(unknown_path))
        .route("/api/", any(unknown_path))
        .route("/api/{*rest}", any(unknown_path))
}

async fn unknown_path(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("There is no API endpoint at {method} {}", uri.path()),
    )
    .with_details(json!({ "path": uri.path() }))
}

/// The most of a plain-text error body kept as the JSON error's message.
const MAX_PLAIN_MESSAGE: usize = 2_000;

/// Middleware for the API's routers: an error answer that is not JSON (axum's own 405 for a
/// method a route does not take, a rejection no handler maps) becomes the documented JSON
/// error with the same status and headers (`Allow` included); its text becomes the message.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/event-stream"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_PLAIN_MESSAGE * 4)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let mut error = match status {
        // The router adds the `Allow` header after this layer has run.
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            format!(
                "{method} is not allowed at {path}; the Allow header lists the methods it takes."
            ),
        )
        .with_details(json!({ "method": method.as_str() })),
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", "Nothing was found here."),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(status, "too_large", "The body is too large.")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "This content type is not accepted here.",
        ),
        StatusCode::URI_TOO_LONG => ApiError::new(status, "uri_too_long", "The URL is too long."),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::new(
            status,
            "headers_too_large",
            "The request's headers are too large.",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => {
            ApiError::new(status, "invalid_body", "The request was refused.")
        }
        _ if status.is_server_error() => ApiError::internal(&text),
        _ => ApiError::new(status, "bad_request", "The request was refused."),
    };
    if !text.is_empty() && !status.is_server_error() && status != StatusCode::METHOD_NOT_ALLOWED {
        error.message = text.chars().take(MAX_PLAIN_MESSAGE).collect();
    }
    let mut json = error.into_response();
    // Keep what the original answer said about itself (Allow, caching), not its body's type.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = std::mem::replace(json.body_mut(), Body::empty());
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use rowbench_workbench::Error;
    use serde_json::json;

    use super::*;

    #[test]
    fn each_kind_of_use_case_error_answers_its_own_status_and_keeps_code_and_details() {
        let cases = [
            (Error::not_found("Batch 7"), 404, "not_found"),
            (
                Error::invalid("too_many_fields", "Too many.").with_details(json!({"limit": 100})),
                422,
                "too_many_fields",
            ),
            (
                Error::conflict("not_applicable", "Paused."),
                409,
                "not_applicable",
            ),
            (Error::Internal, 500, "internal"),
        ];
        for (error, status, code) in cases {
            let answer = ApiError::from(error.clone());
            assert_eq!(answer.status.as_u16(), status, "{error:?}");
            assert_eq!(answer.code, code, "{error:?}");
        }
        let answer = ApiError::from(Error::invalid("x", "y").with_details(json!({"limit": 100})));
        assert_eq!(answer.details, json!({"limit": 100}));
        assert_eq!(
            ApiError::from(Error::not_found("Batch 7")).message,
            "Batch 7 was not found"
        );
    }
}
