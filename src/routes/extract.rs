//! The JSON API's extractors: axum's `Path`, `Query` and `Json`, but every refusal is an
//! [`ApiError`] in the documented shape, naming the parameter or field that was wrong.
//!
//! - [`ApiPath`]: `400 invalid_parameter` with `details.parameter` (e.g. `/api/batches/abc`, or an
//!   id beyond `i64`).
//! - [`ApiQuery`]: `400 invalid_parameter` with `details.parameter`.
//! - [`ApiJson`]: `415 unsupported_media_type` (not `application/json`), `413 too_large`,
//!   `400 invalid_json` (with `line` and `column`), `422 unknown_field`, `422 missing_field` and
//!   `422 invalid_field` (with `field`, `line` and `column`).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::routes::api_error::ApiError;

/// The largest JSON body the API reads; the same as axum's default.
pub const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// `Path<T>` whose refusal names the parameter.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => {
                let names: Vec<String> = RawPathParams::from_request_parts(parts, state)
                    .await
                    .map(|raw| raw.iter().map(|(key, _)| key.to_string()).collect())
                    .unwrap_or_default();
                Err(path_error(&rejection, &names))
            }
        }
    }
}

/// A path parameter that did not parse: which one, its value, and what it should have been.
fn path_error(rejection: &PathRejection, names: &[String]) -> ApiError {
    use axum::extract::path::ErrorKind;

    let PathRejection::FailedToDeserializePathParams(error) = rejection else {
        return ApiError::internal(rejection);
    };
    let (parameter, value, expected) = match error.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => (Some(key.clone()), Some(value.clone()), Some(*expected_type)),
        ErrorKind::ParseErrorAtIndex {
            index,
            value,
            expected_type,
        } => (
            names.get(*index).cloned(),
            Some(value.clone()),
            Some(*expected_type),
        ),
        ErrorKind::ParseError {
            value,
            expected_type,
        } => (
            // Only a single parameter has no key or index.
            (names.len() == 1).then(|| names[0].clone()),
            Some(value.clone()),
            Some(*expected_type),
        ),
        ErrorKind::InvalidUtf8InPathParam { key } => (Some(key.clone()), None, None),
        ErrorKind::DeserializeError { key, value, .. } => {
            (Some(key.clone()), Some(value.clone()), None)
        }
        // Mismatches between a route and its handler's types are ours.
        ErrorKind::WrongNumberOfParameters { .. } | ErrorKind::UnsupportedType { .. } => {
            return ApiError::internal(rejection);
        }
        _ => (None, None, None),
    };
    let message = match (&parameter, &value, expected) {
        (Some(parameter), Some(value), Some(expected)) if is_integer(expected) => format!(
            "The path parameter {parameter} must be a whole number from {} to {}, not {value:?}.",
            i64::MIN,
            i64::MAX
        ),
        _ => format!("The URL is not valid: {}", error.body_text()),
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message)
        .with_details(json!({ "parameter": parameter, "value": value }))
}

fn is_integer(type_name: &str) -> bool {
    matches!(
        type_name,
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize"
    )
}

/// `Query<T>` whose refusal names the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| query_error(&rejection))
    }
}

/// axum reads the query with `serde_urlencoded` (whose error is serde's own `value::Error`)
/// through `serde_path_to_error`: the path is the parameter's name.
fn query_error(rejection: &QueryRejection) -> ApiError {
    type QueryError = serde_path_to_error::Error<serde::de::value::Error>;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    let mut found = None;
    while let Some(error) = source {
        if let Some(error) = error.downcast_ref::<QueryError>() {
            found = Some(error);
            break;
        }
        source = error.source();
    }
    let (message, parameter) = match found {
        Some(error) => match path_text(error.path()) {
            Some(parameter) => (
                format!(
                    "The query parameter {parameter} is not valid: {}",
                    error.inner()
                ),
                Some(parameter),
            ),
            // A repeated parameter is reported at the top level, by name.
            None => (
                format!("The query string is not valid: {}", error.inner()),
                error
                    .inner()
                    .to_string()
                    .strip_prefix("duplicate field `")
                    .and_then(|rest| rest.split_once('`'))
                    .map(|(name, _)| name.to_string()),
            ),
        },
        None => (rejection.body_text(), None),
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message)
        .with_details(json!({ "parameter": parameter }))
}

/// A path as text (`mapping.columns[0].role`); `None` when it says nothing (the top level, or
/// only segments serde could not name).
fn path_text(path: &serde_path_to_error::Path) -> Option<String> {
    let text = path.to_string();
    (text != "." && !text.split('.').all(|segment| segment == "?")).then_some(text)
}

/// A request body the API reads: a JSON object whose fields it knows, all of them.
pub trait RequestBody: DeserializeOwned {
    /// The path (`mapping.columns[0].colour`) of the first field in `body` that the type does not
    /// have; `None` when there is none.
    fn unknown_field(body: &Value) -> Option<UnknownField>;
}

/// What is wrong with the shape of a body, before its types are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownField {
    /// A field its type does not have, at `path` (e.g. `settings.colour`).
    Unknown {
        path: String,
        /// The fields allowed there.
        expected: Vec<&'static str>,
    },
    /// An array where an object belongs (serde would read a struct from it, by position); the
    /// path is empty for the body itself.
    NotAnObject { path: String },
}

/// Checks the keys of the object `value` against `allowed`; `at` is the object's own path (`""`
/// for the body itself). An array is refused; anything else passes (the typed read reports it).
pub fn check_keys(value: &Value, at: &str, allowed: &[&'static str]) -> Option<UnknownField> {
    if value.is_array() {
        return Some(UnknownField::NotAnObject {
            path: at.to_string(),
        });
    }
    let object = value.as_object()?;
    object
        .keys()
        .find(|key| !allowed.contains(&key.as_str()))
        .map(|key| UnknownField::Unknown {
            path: join(at, key),
            expected: allowed.to_vec(),
        })
}

/// `at.key`, or `key` at the top.
pub fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// `Json<T>` with the API's refusals, and unknown fields refused.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: RequestBody,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            let given = request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                match &given {
                    Some(given) => format!(
                        "Send the body as JSON with content-type: application/json, not {given:?}."
                    ),
                    None => "Send the body as JSON with content-type: application/json.".into(),
                },
            )
            .with_details(json!({ "content_type": given })));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_error)?;
        Ok(ApiJson(parse_body(&bytes)?))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_error(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "The body is larger than the {} KB a JSON request may have.",
                JSON_BODY_LIMIT / 1024
            ),
        )
        .with_details(json!({ "limit_bytes": JSON_BODY_LIMIT }))
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "upload_interrupted",
            format!("The body could not be read: {}", rejection.body_text()),
        )
    }
}

/// Reads a JSON body: syntax first (with where), then unknown fields, then types.
pub fn parse_body<T: RequestBody>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The body is not valid JSON: {e}"),
        )
        .with_details(json!({ "line": e.line(), "column": e.column() }))
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "The body must be a JSON object.",
        )
        .with_details(json!({ "field": null })));
    }
    match T::unknown_field(&value) {
        None => {}
        Some(UnknownField::Unknown { path, expected }) => {
            let (parent, name) = match path.rsplit_once('.') {
                Some((parent, name)) => (Some(parent), name),
                None => (None, path.as_str()),
            };
            let message = match parent {
                Some(parent) => format!(
                    "{parent} has no field {name:?}; its fields are {}.",
                    expected.join(", ")
                ),
                None => format!(
                    "The body has no field {name:?}; its fields are {}.",
                    expected.join(", ")
                ),
            };
            return Err(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_field", message)
                    .with_details(json!({ "field": path, "expected": expected })),
            );
        }
        Some(UnknownField::NotAnObject { path }) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("The field {path} must be a JSON object."),
            )
            .with_details(json!({ "field": path })));
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = path_text(e.path()).unwrap_or_default();
        let inner = e.inner();
        let (line, column) = (inner.line(), inner.column());
        let text = inner.to_string();
        // serde reports a missing field at its parent; name the field itself.
        let missing = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| join(&path, name));
        match missing {
            Some(field) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
                format!("The body is missing the field {field}."),
            )
            .with_details(json!({ "field": field, "line": line, "column": column })),
            None => {
                let message = if path.is_empty() {
                    format!("The body is not what this endpoint takes: {text}")
                } else {
                    format!("The field {path} is not valid: {text}")
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
                    .with_details(json!({
                        "field": (!path.is_empty()).then_some(path),
                        "line": line,
                        "column": column
                    }))
            }
        }
    })
}

/// A true/false query parameter: `true`/`1`, `false`/`0`, or `default` when absent or empty;
/// anything else is `400 invalid_parameter` naming it.
pub fn flag(name: &str, value: Option<&str>, default: bool) -> Result<bool, ApiError> {
    match value {
        None | Some("") => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("{name} must be true or false, not {other:?}"),
        )
        .with_details(json!({ "parameter": name }))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[allow(dead_code)]
        name: String,
        #[allow(dead_code)]
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    struct Inner {
        #[allow(dead_code)]
        size: u32,
    }

    impl RequestBody for Body {
        fn unknown_field(body: &Value) -> Option<UnknownField> {
            check_keys(body, "", &["name", "inner"])
                .or_else(|| check_keys(&body["inner"], "inner", &["size"]))
        }
    }

    fn refusal(body: &str) -> (u16, &'static str, Value) {
        let error = parse_body::<Body>(body.as_bytes()).expect_err("refused");
        (error.status.as_u16(), error.code, error.details)
    }

    #[test]
    fn malformed_json_says_where() {
        let (status, code, details) = refusal("{\"name\": \n  \"x\",}");
        assert_eq!((status, code), (400, "invalid_json"));
        assert_eq!(details["line"], 2, "{details}");
    }

    #[test]
    fn a_wrong_type_names_the_nested_field() {
        let (status, code, details) = refusal(r#"{"name": "x", "inner": {"size": "big"}}"#);
        assert_eq!((status, code), (422, "invalid_field"));
        assert_eq!(details["field"], "inner.size", "{details}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let (status, code, details) = refusal(r#"{"inner": {"size": 1}}"#);
        assert_eq!((status, code), (422, "missing_field"));
        assert_eq!(details["field"], "name", "{details}");
    }

    #[test]
    fn an_unknown_field_is_named_with_the_fields_allowed_there() {
        let (status, code, details) =
            refusal(r#"{"name": "x", "inner": {"size": 1, "colour": 2}}"#);
        assert_eq!((status, code), (422, "unknown_field"));
        assert_eq!(details["field"], "inner.colour", "{details}");
        assert_eq!(details["expected"], json!(["size"]));
    }
}
