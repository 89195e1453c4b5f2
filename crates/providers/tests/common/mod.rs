//! A tiny fake LLM server on 127.0.0.1:0 that records what it was sent and answers as told.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use rowbench_providers::catalog::{ProviderConfig, ProviderKind, RateLimit, Secret};
use rowbench_providers::{ChatRequest, Provider, StructuredOutput};
use serde_json::{Value, json};

pub const KEY: &str = "sk-test-SUPERSECRET-0123456789";

/// What the fake answers.
#[derive(Clone, Debug)]
pub enum Reply {
    Body {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Answers only after this long, to trip the client's timeout.
    Hang(Duration),
    /// A 302 to another path on the same server.
    Redirect,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::Body {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: body.to_string(),
        }
    }

    pub fn with_header(self, name: &'static str, value: &str) -> Reply {
        match self {
            Reply::Body {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_owned()));
                Reply::Body {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct Shared {
    reply: Reply,
    seen: Arc<Mutex<Vec<Seen>>>,
}

pub struct Fake {
    pub origin: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

pub async fn serve(reply: Reply) -> Fake {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = Shared {
        reply,
        seen: seen.clone(),
    };
    let app = Router::new().fallback(handle).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let origin = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the fake server runs");
    });
    Fake { origin, seen }
}

async fn handle(State(state): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.expect("a readable body");
    state.seen.lock().expect("not poisoned").push(Seen {
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    match state.reply {
        Reply::Body {
            status,
            headers,
            body,
        } => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).expect("a valid status");
            for (name, value) in headers {
                response.headers_mut().insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(&value).expect("a valid header"),
                );
            }
            response
        }
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
            Response::new(Body::from("{}"))
        }
        Reply::Redirect => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::FOUND;
            response
                .headers_mut()
                .insert("location", HeaderValue::from_static("/elsewhere"));
            response
        }
    }
}

pub const KINDS: [ProviderKind; 3] = [
    ProviderKind::OpenAi,
    ProviderKind::Anthropic,
    ProviderKind::Gemini,
];

pub fn config(kind: ProviderKind, origin: &str, timeout: Duration) -> ProviderConfig {
    let base_url = match kind {
        ProviderKind::OpenAi => format!("{origin}/v1"),
        _ => origin.to_owned(),
    };
    ProviderConfig {
        id: "fake".into(),
        label: "Fake".into(),
        kind,
        base_url,
        api_key: Some(Secret::new(KEY)),
        models: Vec::new(),
        rate_limit: RateLimit::default(),
        timeout,
        connect_timeout: Duration::from_secs(2),
    }
}

pub fn provider(kind: ProviderKind, origin: &str) -> std::sync::Arc<dyn Provider> {
    provider_with_timeout(kind, origin, Duration::from_secs(10))
}

pub fn provider_with_timeout(
    kind: ProviderKind,
    origin: &str,
    timeout: Duration,
) -> std::sync::Arc<dyn Provider> {
    config(kind, origin, timeout)
        .connect()
        .expect("an HTTP client")
}

pub fn request(structured: StructuredOutput) -> ChatRequest {
    ChatRequest {
        model: "some-model".into(),
        system: "You label tickets.".into(),
        user: "The printer is on fire".into(),
        schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"label": {"type": "string"}},
            "required": ["label"],
            "additionalProperties": false
        }),
        schema_name: "label".into(),
        temperature: Some(0.0),
        max_tokens: Some(100),
        structured,
        repair: None,
    }
}

/// A successful reply in `kind`'s wire format answering `{"label": "fire"}` with 11 in and 5 out tokens.
pub fn success(kind: ProviderKind) -> Value {
    match kind {
        ProviderKind::OpenAi => json!({
            "id": "chatcmpl-1", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"label\":\"fire\"}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
        }),
        ProviderKind::Anthropic => json!({
            "id": "msg_1", "type": "message", "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "label", "input": {"label": "fire"}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 11, "output_tokens": 5}
        }),
        ProviderKind::Gemini | ProviderKind::Demo => json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "{\"label\": \"fire\"}"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 5, "totalTokenCount": 16}
        }),
    }
}

/// The same reply with the answer as prose around a JSON object, as instructions mode gets.
pub fn prose_success(kind: ProviderKind) -> Value {
    let text = "Here you go:\n```json\n{\"label\": \"fire\"}\n```";
    match kind {
        ProviderKind::OpenAi => {
            json!({"choices": [{"message": {"content": text}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}})
        }
        ProviderKind::Anthropic => {
            json!({"content": [{"type": "text", "text": text}], "usage": {"input_tokens": 1, "output_tokens": 1}})
        }
        ProviderKind::Gemini | ProviderKind::Demo => {
            json!({"candidates": [{"content": {"parts": [{"text": text}]}}]})
        }
    }
}
