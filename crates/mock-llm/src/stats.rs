//! Counters of what the server answered, for tests and benchmarks to check against.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::config::Outcome;

/// A snapshot of what the server has seen since it started (or since the stats were reset).
///
/// Every request to a `/v1/…` model route counts in `requests` and in exactly one of the outcome
/// counters (`bad_requests` for bodies that are not a chat request at all).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MockStats {
    pub requests: u64,
    pub ok: u64,
    pub server_errors: u64,
    pub rate_limited: u64,
    pub hangs: u64,
    pub invalid_json: u64,
    pub schema_violations: u64,
    pub fenced: u64,
    pub unauthorized: u64,
    /// Requests for a model outside [`crate::MockConfig::models`].
    #[serde(default)]
    pub unknown_model: u64,
    pub bad_requests: u64,
    /// Keyed by the text of the last user message, so a test can find rows answered more than once.
    pub calls_per_prompt: HashMap<String, u64>,
    /// When each request arrived, in ms since the server started, for rate-limit measurements.
    pub request_times_ms: Vec<u64>,
    /// When each request answered 429 arrived, on the same clock.
    #[serde(default)]
    pub rate_limited_times_ms: Vec<u64>,
    /// Model requests being answered right now.
    #[serde(default)]
    pub in_flight: u64,
    /// The most model requests ever answered at once: a batch at concurrency 1 must never make
    /// it more than 1, however many instances run it.
    #[serde(default)]
    pub max_in_flight: u64,
}

impl MockStats {
    /// Counts one request and returns its 1-based number, which makes response ids unique.
    pub(crate) fn record(&mut self, arrived_ms: u64, prompt: String, outcome: Outcome) -> u64 {
        self.count(arrived_ms);
        *self.calls_per_prompt.entry(prompt).or_insert(0) += 1;
        let counter = match outcome {
            Outcome::Ok => &mut self.ok,
            Outcome::ServerError => &mut self.server_errors,
            Outcome::RateLimited => {
                self.rate_limited_times_ms.push(arrived_ms);
                &mut self.rate_limited
            }
            Outcome::Hang => &mut self.hangs,
            Outcome::InvalidJson => &mut self.invalid_json,
            Outcome::SchemaViolation => &mut self.schema_violations,
            Outcome::Fenced => &mut self.fenced,
            Outcome::Unauthorized => &mut self.unauthorized,
            Outcome::UnknownModel => &mut self.unknown_model,
        };
        *counter += 1;
        self.requests
    }

    pub(crate) fn record_bad_request(&mut self, arrived_ms: u64) {
        self.count(arrived_ms);
        self.bad_requests += 1;
    }

    fn count(&mut self, arrived_ms: u64) {
        self.requests += 1;
        self.request_times_ms.push(arrived_ms);
    }
}
