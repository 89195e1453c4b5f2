//! The two wire formats: what each request asks for and how each answer and error is shaped.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::prompt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wire {
    OpenAi,
    Anthropic,
}

/// What a chat request asks for, read before any fault is decided.
pub(crate) struct Job {
    pub(crate) model: String,
    /// The schema the answer must follow, or a stand-in one when the request names none.
    pub(crate) schema: Value,
    /// The tool the answer must call (Anthropic tool use), instead of answering in text.
    pub(crate) tool: Option<String>,
    pub(crate) prompt_tokens: usize,
}

/// Used when a request carries no schema, so that even free-form answers are JSON and can be
/// broken in the usual ways.
fn stand_in_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": false
    })
}

impl Wire {
    pub(crate) fn job(self, request: &Value) -> Result<Job, String> {
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("mock")
            .to_owned();
        let prompt_tokens = prompt::tokens(prompt::prompt_chars(request));
        let (schema, tool) = match self {
            Wire::OpenAi => (
                request
                    .pointer("/response_format/json_schema/schema")
                    .cloned()
                    .or_else(|| prompt::schema_in_text(&prompt::system_text(request))),
                None,
            ),
            Wire::Anthropic => match chosen_tool(request)? {
                Some((name, schema)) => (Some(schema), Some(name)),
                None => (prompt::schema_in_text(&prompt::system_text(request)), None),
            },
        };
        Ok(Job {
            model,
            schema: schema.unwrap_or_else(stand_in_schema),
            tool,
            prompt_tokens,
        })
    }

    /// A 200: the answer as text, or as the input of the tool the request forced.
    pub(crate) fn answer(self, job: &Job, number: u64, body: AnswerBody) -> Response {
        match self {
            Wire::OpenAi => {
                let text = match body {
                    AnswerBody::Text(text) => text,
                    AnswerBody::Json(input) => input.to_string(),
                };
                let completion_tokens = prompt::tokens(text.chars().count());
                Json(json!({
                    "id": format!("mock-{number}"),
                    "object": "chat.completion",
                    "created": unix_seconds(),
                    "model": job.model,
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop"
                    }],
                    "usage": {
                        "prompt_tokens": job.prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": job.prompt_tokens + completion_tokens
                    }
                }))
                .into_response()
            }
            Wire::Anthropic => {
                let (block, stop_reason, output_chars) = match (body, &job.tool) {
                    (AnswerBody::Json(input), Some(name)) => {
                        let chars = input.to_string().chars().count();
                        let block = json!({
                            "type": "tool_use",
                            "id": format!("toolu_mock_{number}"),
                            "name": name,
                            "input": input
                        });
                        (block, "tool_use", chars)
                    }
                    (AnswerBody::Json(input), None) => {
                        let text = input.to_string();
                        let chars = text.chars().count();
                        (json!({"type": "text", "text": text}), "end_turn", chars)
                    }
                    (AnswerBody::Text(text), _) => {
                        let chars = text.chars().count();
                        (json!({"type": "text", "text": text}), "end_turn", chars)
                    }
                };
                Json(json!({
                    "id": format!("msg_mock_{number}"),
                    "type": "message",
                    "role": "assistant",
                    "model": job.model,
                    "content": [block],
                    "stop_reason": stop_reason,
                    "stop_sequence": null,
                    "usage": {
                        "input_tokens": job.prompt_tokens,
                        "output_tokens": prompt::tokens(output_chars)
                    }
                }))
                .into_response()
            }
        }
    }

    pub(crate) fn server_error(self) -> Response {
        self.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Server,
            "The server had an error while processing your request (mock fault).",
        )
    }

    pub(crate) fn rate_limited(self, retry_after_ms: u64) -> Response {
        let message =
            format!("Rate limit reached (mock fault). Please try again in {retry_after_ms}ms.");
        let mut response = self.error(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RateLimit,
            &message,
        );
        let headers = response.headers_mut();
        headers.insert("retry-after-ms", HeaderValue::from(retry_after_ms));
        headers.insert(
            "retry-after",
            HeaderValue::from(retry_after_ms.div_ceil(1000)),
        );
        response
    }

    /// `missing_key` tells Anthropic's "no key at all" from a rejected key.
    pub(crate) fn unauthorized(self, missing_key: bool) -> Response {
        let message = match (self, missing_key) {
            (Wire::Anthropic, true) => "x-api-key header is required",
            (Wire::Anthropic, false) => "invalid x-api-key",
            (Wire::OpenAi, _) => "Incorrect API key provided",
        };
        self.error(StatusCode::UNAUTHORIZED, ErrorKind::Auth, message)
    }

    /// What OpenAI and Anthropic answer for a model id they do not have.
    pub(crate) fn unknown_model(self, model: &str) -> Response {
        let message = match self {
            Wire::OpenAi => {
                format!("The model `{model}` does not exist or you do not have access to it.")
            }
            Wire::Anthropic => format!("model: {model}"),
        };
        self.error(StatusCode::NOT_FOUND, ErrorKind::UnknownModel, &message)
    }

    pub(crate) fn bad_request(self, message: &str) -> Response {
        self.error(StatusCode::BAD_REQUEST, ErrorKind::BadRequest, message)
    }

    fn error(self, status: StatusCode, kind: ErrorKind, message: &str) -> Response {
        let body = match self {
            Wire::OpenAi => {
                let (kind, code) = match kind {
                    ErrorKind::Server => ("server_error", Value::Null),
                    ErrorKind::RateLimit => ("requests", json!("rate_limit_exceeded")),
                    ErrorKind::Auth => ("invalid_request_error", json!("invalid_api_key")),
                    ErrorKind::UnknownModel => ("invalid_request_error", json!("model_not_found")),
                    ErrorKind::BadRequest => ("invalid_request_error", Value::Null),
                };
                json!({"error": {"message": message, "type": kind, "code": code}})
            }
            Wire::Anthropic => {
                let kind = match kind {
                    ErrorKind::Server => "api_error",
                    ErrorKind::RateLimit => "rate_limit_error",
                    ErrorKind::Auth => "authentication_error",
                    ErrorKind::UnknownModel => "not_found_error",
                    ErrorKind::BadRequest => "invalid_request_error",
                };
                json!({"type": "error", "error": {"type": kind, "message": message}})
            }
        };
        (status, Json(body)).into_response()
    }
}

pub(crate) enum AnswerBody {
    /// Whatever the model "wrote", JSON or not.
    Text(String),
    /// A JSON answer, clean or broken: the input of the forced tool call, else written as text.
    Json(Value),
}

#[derive(Clone, Copy)]
enum ErrorKind {
    Server,
    RateLimit,
    Auth,
    UnknownModel,
    BadRequest,
}

/// The tool an Anthropic request forces, as `(name, input_schema)`. `tool_choice` `auto` and `any`
/// pick the first tool, as a model asked for structured output would.
fn chosen_tool(request: &Value) -> Result<Option<(String, Value)>, String> {
    let (Some(tools), Some(choice)) = (
        request.get("tools").and_then(Value::as_array),
        request.get("tool_choice"),
    ) else {
        return Ok(None);
    };
    let tool = match choice.get("type").and_then(Value::as_str) {
        Some("none") => return Ok(None),
        Some("tool") => {
            let name = choice.get("name").and_then(Value::as_str).unwrap_or("");
            tools
                .iter()
                .find(|tool| tool.get("name").and_then(Value::as_str) == Some(name))
                .ok_or_else(|| format!("tool_choice names tool {name:?}, which is not in tools"))?
        }
        _ => tools
            .first()
            .ok_or("tool_choice is set but tools is empty")?,
    };
    let name = tool
        .get("name")
        .and_then(Value::as_str)
        .ok_or("a tool has no name")?;
    let schema = tool
        .get("input_schema")
        .cloned()
        .ok_or_else(|| format!("tool {name:?} has no input_schema"))?;
    Ok(Some((name.to_owned(), schema)))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
