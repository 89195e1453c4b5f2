//! The provider-neutral shapes of one structured chat call: the request, what went over the wire, the outcome, and why a call failed.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How the answer's schema is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// The provider's own structured-output feature (OpenAI `response_format`, Anthropic forced
    /// tool use, Gemini `responseSchema`): the model is constrained while it writes.
    #[default]
    Native,
    /// The schema is written into the system prompt and the JSON is fished out of the text:
    /// for servers that speak the wire format but lack the feature.
    Instructions,
}

/// One call: a system and user prompt and the JSON Schema the answer must match.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub system: String,
    pub user: String,
    /// JSON Schema (draft 2020-12) of the answer.
    pub schema: Value,
    /// A short name for the schema; providers that need an identifier (OpenAI's
    /// `json_schema.name`, Anthropic's tool name) get a sanitized version of it.
    pub schema_name: String,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub structured: StructuredOutput,
    pub repair: Option<Repair>,
}

/// A second chance: the previous answer and why it failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub previous_answer: String,
    pub errors: Vec<String>,
}

/// What went over the wire, kept for the drill-down view. Never holds headers, so never a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// The body as sent.
    pub request: Value,
    /// The URL as requested; keys travel in headers, never here.
    pub url: String,
    /// `None` when no response arrived (timeout, refused connection).
    pub http_status: Option<u16>,
    /// The body as received, cut at [`MAX_RAW_RESPONSE_BYTES`].
    pub raw_response: String,
    pub latency_ms: u64,
}

/// The most of a response body an [`Exchange`] keeps.
pub const MAX_RAW_RESPONSE_BYTES: usize = 1024 * 1024;

/// A call that reached the model and got a well-formed reply. The reply may still not hold a
/// usable answer (a refusal, prose without JSON): that is `answer: Err(..)`, not a failure,
/// because the tokens were spent and the exchange is worth showing.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatOutcome {
    pub exchange: Exchange,
    /// The JSON the model answered, or why none could be read. Not yet checked against the schema.
    pub answer: Result<Value, String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

/// Why a call produced no outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("the provider did not answer in time")]
    Timeout,
    #[error("could not reach the provider: {0}")]
    Connect(String),
    #[error("rate limited by the provider{}", after(*retry_after))]
    RateLimited { retry_after: Option<Duration> },
    #[error("the provider failed with HTTP {status}{}", after(*retry_after))]
    Server {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// 401/403: the key is missing, wrong or lacks access. `status` is 0 when the key could
    /// not even be put into a header.
    #[error("the provider refused the API key (HTTP {status}): {message}")]
    Auth { status: u16, message: String },
    /// The provider refused this request (400, 404, 422, an unfollowed redirect...): sending it
    /// again would fail the same way.
    #[error("the provider rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// The provider answered something this client cannot read.
    #[error("unreadable response: {0}")]
    Protocol(String),
}

fn after(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" (retry after {:.1}s)", wait.as_secs_f64()),
        None => String::new(),
    }
}

impl CallError {
    /// Whether trying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CallError::Timeout
                | CallError::Connect(_)
                | CallError::RateLimited { .. }
                | CallError::Server { .. }
        )
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::RateLimited { retry_after } | CallError::Server { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// A key problem: every further call to this provider will fail too, so a run should stop.
    pub fn is_auth(&self) -> bool {
        matches!(self, CallError::Auth { .. })
    }
}

/// A failed call, with the exchange when one took place so the failure can be inspected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct CallFailure {
    pub error: CallError,
    pub exchange: Option<Exchange>,
}

impl CallFailure {
    pub fn new(error: CallError, exchange: Option<Exchange>) -> Self {
        CallFailure { error, exchange }
    }
}

/// A language model that answers one [`ChatRequest`] with JSON.
#[async_trait]
pub trait Provider: Send + Sync {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatOutcome, CallFailure>;
}
