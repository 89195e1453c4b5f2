//! A mock LLM server speaking the OpenAI-compatible and Anthropic wire formats, with latency and fault injection.
//!
//! Integration tests and queue benchmarks start one with [`MockServer::start`] and point a
//! provider at [`MockServer::url`]. It answers every chat request with a deterministic,
//! schema-valid example for the schema the request carries, except for the share of requests
//! that [`FaultRates`] turns into errors, rate limits, hangs or malformed answers.
//!
//! Routes: `POST /v1/chat/completions` (OpenAI-compatible), `POST /v1/messages` (Anthropic),
//! `GET /v1/models`, `GET`/`DELETE /stats` and `GET`/`POST /config` (for out-of-process use).

mod config;
mod prompt;
mod server;
mod stats;
mod violation;
mod wire;

pub use config::{FaultRates, MockConfig};
pub use server::MockServer;
pub use stats::MockStats;
