//! What the mock does to each request: how slow it is and how often it misbehaves, and in which way.

use serde::{Deserialize, Serialize};

/// How the server behaves. Can be replaced while it runs ([`crate::MockServer::set_config`] or
/// `POST /config`); requests already in flight keep the configuration they started with.
///
/// Missing fields take their defaults when deserialized, so `POST /config` with `{}` resets
/// everything; unknown fields are rejected so that a typo in a benchmark script is not silently
/// ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// Base delay before every answer.
    pub latency_ms: u64,
    /// Uniform spread around `latency_ms`: the delay is drawn from
    /// `latency_ms - jitter_ms ..= latency_ms + jitter_ms` (never below zero).
    pub jitter_ms: u64,
    pub faults: FaultRates,
    /// Seeds the fault and jitter draws; setting a configuration restarts the sequence.
    pub seed: u64,
    /// How long a "hang" lasts before it finally answers 500. Long enough, by default, for any
    /// sane client timeout to fire first.
    pub hang_ms: u64,
    /// Sent with every 429, in `retry-after-ms` and rounded up to seconds in `retry-after`.
    pub retry_after_ms: u64,
    /// Whether `POST /v1/messages` answers 401 when `x-api-key` is missing, as Anthropic does.
    /// The OpenAI-compatible route accepts any bearer or none, like most local servers.
    pub require_anthropic_key: bool,
    /// When set, the one key both chat routes accept (`Authorization: Bearer` or `x-api-key`):
    /// any other key, or none, answers 401 as a provider does for a wrong key.
    pub api_key: Option<String>,
    /// When not empty, the only model ids that exist: a request for any other answers 404 with
    /// the wire's own model-not-found error.
    pub models: Vec<String>,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            jitter_ms: 0,
            faults: FaultRates::default(),
            seed: 0,
            hang_ms: 30_000,
            retry_after_ms: 50,
            require_anthropic_key: true,
            api_key: None,
            models: Vec::new(),
        }
    }
}

/// The probability (0 to 1) that a request gets each fault.
///
/// One number is drawn per request and compared against the rates stacked in field order, so each
/// fault happens at exactly its own rate as long as they sum to at most 1; past that, the later
/// faults are crowded out. Values outside 0..=1 (or NaN) are clamped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// 500 with a JSON error body.
    pub server_error: f64,
    /// 429 with `retry-after-ms` and `retry-after` headers.
    pub rate_limited: f64,
    /// No answer for `hang_ms`, then a 500.
    pub hang: f64,
    /// 200, but the answer text is not JSON.
    pub invalid_json: f64,
    /// 200 with JSON that breaks the schema: a required key missing, a value of the wrong type or
    /// an extra key where none are allowed.
    pub schema_violation: f64,
    /// 200 with the answer inside a ```json fence with prose around it.
    pub fenced_json: f64,
    /// 401 as for a wrong API key.
    pub unauthorized: f64,
}

/// What a single request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    ServerError,
    RateLimited,
    Hang,
    InvalidJson,
    SchemaViolation,
    Fenced,
    Unauthorized,
    /// The request names a model not in [`MockConfig::models`]; never drawn, decided per request.
    UnknownModel,
}

impl FaultRates {
    /// Picks the outcome for a uniform `draw` in `0..1`.
    pub(crate) fn outcome(&self, draw: f64) -> Outcome {
        let stacked = [
            (self.server_error, Outcome::ServerError),
            (self.rate_limited, Outcome::RateLimited),
            (self.hang, Outcome::Hang),
            (self.invalid_json, Outcome::InvalidJson),
            (self.schema_violation, Outcome::SchemaViolation),
            (self.fenced_json, Outcome::Fenced),
            (self.unauthorized, Outcome::Unauthorized),
        ];
        let mut edge = 0.0;
        for (rate, outcome) in stacked {
            edge += clamp_rate(rate);
            if draw < edge {
                return outcome;
            }
        }
        Outcome::Ok
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_of_one_catches_every_draw() {
        let rates = FaultRates {
            hang: 1.0,
            ..FaultRates::default()
        };
        for draw in [0.0, 0.5, 0.999_999] {
            assert_eq!(rates.outcome(draw), Outcome::Hang);
        }
    }

    #[test]
    fn rates_are_stacked_in_field_order() {
        let rates = FaultRates {
            server_error: 0.25,
            unauthorized: 0.25,
            ..FaultRates::default()
        };
        assert_eq!(rates.outcome(0.1), Outcome::ServerError);
        assert_eq!(rates.outcome(0.3), Outcome::Unauthorized);
        assert_eq!(rates.outcome(0.6), Outcome::Ok);
    }

    #[test]
    fn nonsense_rates_are_clamped() {
        let rates = FaultRates {
            server_error: f64::NAN,
            rate_limited: -3.0,
            invalid_json: 7.0,
            ..FaultRates::default()
        };
        assert_eq!(rates.outcome(0.0), Outcome::InvalidJson);
    }

    #[test]
    fn an_empty_config_document_means_the_defaults() {
        let config: MockConfig = serde_json::from_str("{}").expect("{} is a valid config");
        assert_eq!(config, MockConfig::default());
        assert_eq!(config.hang_ms, 30_000);
        assert_eq!(config.retry_after_ms, 50);
    }

    #[test]
    fn a_misspelled_config_field_is_rejected() {
        let parsed = serde_json::from_str::<MockConfig>(r#"{"latency":5}"#);
        assert!(parsed.is_err());
    }
}
