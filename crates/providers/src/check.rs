//! "Check the connection": one tiny real call with a provider and model before a batch starts, and what its failure means, in words that say what to fix.
//!
//! [`check_connection`] sends the smallest structured request the provider accepts (a one-field
//! schema, [`CHECK_MAX_TOKENS`] output tokens) through the same client a batch uses, so a model
//! that refuses the batch's structured-output mode fails here too. [`classify`] sorts a failed
//! call into a [`CheckVerdict`]; [`ConnectionCheck::message`] is the sentence a person reads.
//! The key never appears in a verdict or a message: provider messages are cut short and any
//! copy of the key in them is replaced.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::catalog::{ProviderConfig, ProviderKind, Secret, http_client, without_credentials};
use crate::types::{CallError, CallFailure, ChatRequest, StructuredOutput};

/// Output tokens the check asks for: enough for `{"ok":true}`, cheap on any price list. A reply
/// cut off at this limit still proves the connection.
pub const CHECK_MAX_TOKENS: u32 = 16;
/// The longest a check waits for its answer (less when the provider's own timeout is shorter):
/// a person is waiting at the button.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a provider's own message a verdict quotes.
const MAX_DETAIL_CHARS: usize = 200;

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CheckVerdict {
    /// The call went through: the address, the key and the model work.
    Ok { latency_ms: u64 },
    /// 401/403 (or Gemini's 400 `API_KEY_INVALID`): the key is wrong, missing or lacks access.
    /// `status` 0: the key could not even be put into a header.
    KeyRefused {
        status: u16,
        detail: String,
        key_set: bool,
    },
    /// The provider does not have the model (404, or its own model-not-found error).
    UnknownModel { status: u16, detail: String },
    /// Something answered at the base URL, but not as a chat API (a 404 for the path, an HTML
    /// page, a body that is not a chat reply): the base URL is likely wrong.
    NotAnApi { status: Option<u16>, detail: String },
    /// No answer at all: the host name does not resolve, nothing listens, TLS failed.
    Unreachable { detail: String },
    /// Connected (or tried to) but no answer came within the check's time limit.
    TimedOut { seconds: u64 },
    /// 429: the key was accepted but is out of requests or quota for now.
    RateLimited {
        retry_after_secs: Option<u64>,
        detail: String,
    },
    /// Any other refusal or failure, with the status and the provider's own words.
    Failed { status: Option<u16>, detail: String },
}

impl CheckVerdict {
    pub fn is_ok(&self) -> bool {
        matches!(self, CheckVerdict::Ok { .. })
    }

    /// The verdict's name as the JSON API spells it (`ok`, `key_refused`...).
    pub fn code(&self) -> &'static str {
        match self {
            CheckVerdict::Ok { .. } => "ok",
            CheckVerdict::KeyRefused { .. } => "key_refused",
            CheckVerdict::UnknownModel { .. } => "unknown_model",
            CheckVerdict::NotAnApi { .. } => "not_an_api",
            CheckVerdict::Unreachable { .. } => "unreachable",
            CheckVerdict::TimedOut { .. } => "timed_out",
            CheckVerdict::RateLimited { .. } => "rate_limited",
            CheckVerdict::Failed { .. } => "failed",
        }
    }
}

/// A check's verdict with the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCheck {
    pub verdict: CheckVerdict,
    /// What happened and what to do, for a person.
    pub message: String,
}

impl ConnectionCheck {
    pub fn is_ok(&self) -> bool {
        self.verdict.is_ok()
    }
}

/// Makes one minimal call to `model` of `provider` and says whether it worked, and if not why.
/// The offline demo answers at once without a call.
#[tracing::instrument(skip_all, fields(provider = %provider.id, model))]
pub async fn check_connection(provider: &ProviderConfig, model: &str) -> ConnectionCheck {
    let verdict = if provider.kind == ProviderKind::Demo {
        CheckVerdict::Ok { latency_ms: 0 }
    } else {
        call(provider, model).await
    };
    tracing::info!(verdict = verdict.code(), "connection check");
    ConnectionCheck {
        message: message(&verdict, provider, model),
        verdict,
    }
}

async fn call(provider: &ProviderConfig, model: &str) -> CheckVerdict {
    let timeout = provider.timeout.min(CHECK_TIMEOUT);
    let http = match http_client(timeout, provider.connect_timeout.min(timeout)) {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(%error, "cannot build the HTTP client");
            return CheckVerdict::Failed {
                status: None,
                detail: "this server could not set up an HTTP client; its log has the details"
                    .to_owned(),
            };
        }
    };
    let structured = provider
        .models
        .iter()
        .find(|info| info.id == model)
        .map_or(StructuredOutput::Native, |info| info.structured);
    let request = ChatRequest {
        model: model.to_owned(),
        system: String::new(),
        user: "This is a connection check. Answer with {\"ok\": true}.".to_owned(),
        schema: json!({
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": false
        }),
        schema_name: "connection_check".to_owned(),
        temperature: None,
        max_tokens: Some(CHECK_MAX_TOKENS),
        structured,
        repair: None,
    };
    match provider.connect_with(http).chat(&request).await {
        // An answer that is cut off or not JSON still came from the model.
        Ok(outcome) => CheckVerdict::Ok {
            latency_ms: outcome.exchange.latency_ms,
        },
        Err(failure) => {
            let verdict = classify(&failure, provider.api_key.is_some(), timeout);
            redact(verdict, provider.api_key.as_ref())
        }
    }
}

/// Sorts a failed check call. `key_set` says whether the provider has a key configured;
/// `timeout` is the limit the call ran under.
pub fn classify(failure: &CallFailure, key_set: bool, timeout: Duration) -> CheckVerdict {
    let raw = failure
        .exchange
        .as_ref()
        .map_or("", |exchange| exchange.raw_response.as_str());
    let from_body = || {
        let body = serde_json::from_str::<Value>(raw).ok();
        short(&crate::http::error_message(body.as_ref(), raw))
    };
    match &failure.error {
        CallError::Auth { status, message } => CheckVerdict::KeyRefused {
            status: *status,
            detail: short(message),
            key_set,
        },
        CallError::Rejected { status, message } if is_unknown_model(*status, message, raw) => {
            CheckVerdict::UnknownModel {
                status: *status,
                detail: short(message),
            }
        }
        CallError::Rejected {
            status: status @ (404 | 405 | 300..=399),
            message,
        } => CheckVerdict::NotAnApi {
            status: Some(*status),
            detail: short(message),
        },
        CallError::Rejected { status, message } => CheckVerdict::Failed {
            status: Some(*status),
            detail: short(message),
        },
        CallError::Protocol(message) => CheckVerdict::NotAnApi {
            status: failure.exchange.as_ref().and_then(|e| e.http_status),
            detail: short(message),
        },
        CallError::Connect(detail) => CheckVerdict::Unreachable {
            detail: plain_connect_error(detail),
        },
        CallError::Timeout => CheckVerdict::TimedOut {
            seconds: timeout.as_secs().max(1),
        },
        CallError::RateLimited { retry_after } => CheckVerdict::RateLimited {
            retry_after_secs: retry_after.map(|wait| wait.as_secs_f64().ceil() as u64),
            detail: from_body(),
        },
        CallError::Server { status, .. } => CheckVerdict::Failed {
            status: Some(*status),
            detail: from_body(),
        },
    }
}

/// Whether a refusal says the model does not exist. OpenAI, vLLM and Ollama answer 404 naming
/// the model; Anthropic 404 `model: x`; Gemini 404 `models/x is not found`; OpenRouter and
/// some local servers 400 `x is not a valid model ID`.
fn is_unknown_model(status: u16, message: &str, raw: &str) -> bool {
    let text = message.to_lowercase();
    if raw.contains("model_not_found") {
        return true;
    }
    let names_model = text.contains("model");
    match status {
        404 => names_model,
        400 | 422 => {
            names_model
                && [
                    "not found",
                    "does not exist",
                    "not exist",
                    "unknown model",
                    "invalid model",
                    "not a valid model",
                    "no such model",
                ]
                .iter()
                .any(|phrase| text.contains(phrase))
        }
        _ => false,
    }
}

/// reqwest's chain of causes, said the way a person would check it.
fn plain_connect_error(detail: &str) -> String {
    let text = detail.to_lowercase();
    let plain = if text.contains("dns error") || text.contains("failed to lookup address") {
        "the host name could not be found (DNS)"
    } else if text.contains("connection refused") {
        "nothing is listening at that address (connection refused)"
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        "the secure connection (TLS) could not be set up"
    } else if text.contains("builder error") || text.contains("relative url") {
        "the base URL is not a valid address"
    } else {
        return short(detail);
    };
    plain.to_owned()
}

/// A provider's message cut to [`MAX_DETAIL_CHARS`].
fn short(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Replaces any copy of the key a provider echoed back.
fn redact(verdict: CheckVerdict, key: Option<&Secret>) -> CheckVerdict {
    let Some(key) = key.map(Secret::expose).filter(|key| !key.is_empty()) else {
        return verdict;
    };
    let clean = |detail: String| detail.replace(key, "[redacted]");
    match verdict {
        CheckVerdict::KeyRefused {
            status,
            detail,
            key_set,
        } => CheckVerdict::KeyRefused {
            status,
            detail: clean(detail),
            key_set,
        },
        CheckVerdict::UnknownModel { status, detail } => CheckVerdict::UnknownModel {
            status,
            detail: clean(detail),
        },
        CheckVerdict::NotAnApi { status, detail } => CheckVerdict::NotAnApi {
            status,
            detail: clean(detail),
        },
        CheckVerdict::Unreachable { detail } => CheckVerdict::Unreachable {
            detail: clean(detail),
        },
        CheckVerdict::RateLimited {
            retry_after_secs,
            detail,
        } => CheckVerdict::RateLimited {
            retry_after_secs,
            detail: clean(detail),
        },
        CheckVerdict::Failed { status, detail } => CheckVerdict::Failed {
            status,
            detail: clean(detail),
        },
        other @ (CheckVerdict::Ok { .. } | CheckVerdict::TimedOut { .. }) => other,
    }
}

/// Where a provider's key is set, for the message that says to fix it.
fn key_setting(provider: &ProviderConfig) -> String {
    match provider.id.as_str() {
        "openai" => "OPENAI_API_KEY on the server".to_owned(),
        "anthropic" => "ANTHROPIC_API_KEY on the server".to_owned(),
        "gemini" => "GEMINI_API_KEY on the server".to_owned(),
        id => {
            format!("the key of provider `{id}` in the providers file (`api_key_env` or `api_key`)")
        }
    }
}

/// `(HTTP 404: detail)`, or `(detail)` without a status, or nothing.
fn quoted(status: Option<u16>, detail: &str) -> String {
    match (status.filter(|s| *s != 0), detail.is_empty()) {
        (Some(status), false) => format!(" (HTTP {status}: {detail})"),
        (Some(status), true) => format!(" (HTTP {status})"),
        (None, false) => format!(" ({detail})"),
        (None, true) => String::new(),
    }
}

/// The sentence for `verdict`: what happened, and what to do about it.
pub fn message(verdict: &CheckVerdict, provider: &ProviderConfig, model: &str) -> String {
    let label = &provider.label;
    let address = without_credentials(&provider.base_url);
    match verdict {
        CheckVerdict::Ok { .. } if provider.kind == ProviderKind::Demo => {
            "It works: the offline demo answers on this server, with nothing to connect to and nothing leaving this machine.".to_owned()
        }
        CheckVerdict::Ok { latency_ms } => format!(
            "It works: {label} answered with model \"{model}\" in {latency_ms} ms."
        ),
        CheckVerdict::KeyRefused { status: 0, .. } => format!(
            "The API key set for {label} cannot be sent: it contains characters no HTTP header may hold (a stray quote or line break?). Fix {} and restart Rowbench.",
            key_setting(provider)
        ),
        CheckVerdict::KeyRefused {
            status,
            detail,
            key_set: true,
        } => format!(
            "{label} refused the API key{}. Check {}: is it current, and may it use \"{model}\"? Then restart Rowbench.",
            quoted(Some(*status), detail),
            key_setting(provider)
        ),
        CheckVerdict::KeyRefused {
            status,
            detail,
            key_set: false,
        } => format!(
            "{label} asks for an API key and none is set{}. Set {}, then restart Rowbench.",
            quoted(Some(*status), detail),
            key_setting(provider)
        ),
        CheckVerdict::UnknownModel { status, detail } => format!(
            "{label} does not know the model \"{model}\"{}. Check the model id in the providers file (spelling, and whether this account may use it), or choose another model.",
            quoted(Some(*status), detail)
        ),
        CheckVerdict::NotAnApi { status, detail } => format!(
            "Something answered at {address}, but not as a chat API would{}. Check the base URL of {label}: OpenAI-compatible servers usually want it to end in /v1.",
            quoted(*status, detail)
        ),
        CheckVerdict::Unreachable { detail } => format!(
            "Could not reach {label} at {address}: {detail}. Check the base URL, that the server there is running, and this machine's network or proxy."
        ),
        CheckVerdict::TimedOut { seconds } => format!(
            "{label} at {address} did not answer within {seconds} s. Check the base URL and the network; a local model may still be loading, so try again in a minute."
        ),
        CheckVerdict::RateLimited {
            retry_after_secs,
            detail,
        } => format!(
            "{label} accepted the key but is rate limiting it right now{}. {}If it persists, check the account's quota, or lower \"Rows at once\".",
            quoted(Some(429), detail),
            match retry_after_secs {
                Some(secs) => format!("Wait {secs} s and check again. "),
                None => "Wait a minute and check again. ".to_owned(),
            }
        ),
        CheckVerdict::Failed {
            status: Some(status @ 500..=599),
            detail,
        } => format!(
            "{label} failed on its side{}. Try again in a minute; if it keeps failing, check the provider's status page.",
            quoted(Some(*status), detail)
        ),
        CheckVerdict::Failed { status, detail } => format!(
            "{label} refused the check call{}. A batch with this model would be refused the same way.",
            quoted(*status, detail)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Exchange;

    fn failure(error: CallError, raw: &str) -> CallFailure {
        CallFailure::new(
            error,
            Some(Exchange {
                request: json!({}),
                url: "http://x/v1/chat/completions".into(),
                http_status: None,
                raw_response: raw.into(),
                latency_ms: 3,
            }),
        )
    }

    fn rejected(status: u16, message: &str) -> CheckVerdict {
        let error = CallError::Rejected {
            status,
            message: message.into(),
        };
        classify(&failure(error, ""), true, CHECK_TIMEOUT)
    }

    #[test]
    fn every_providers_model_not_found_wording_is_an_unknown_model() {
        for (status, message) in [
            (
                404,
                "The model `gpt-9` does not exist or you do not have access to it.",
            ),
            (404, "model: claude-nope"),
            (
                404,
                "models/gemini-nope is not found for API version v1beta",
            ),
            (404, "model \"llama9\" not found, try pulling it first"),
            (400, "nope/model is not a valid model ID"),
            (400, "Invalid model: gpt-9"),
        ] {
            assert!(
                matches!(rejected(status, message), CheckVerdict::UnknownModel { .. }),
                "{status} {message}"
            );
        }
    }

    #[test]
    fn a_404_that_does_not_name_a_model_means_the_base_url_is_wrong() {
        assert_eq!(
            rejected(404, "Not Found"),
            CheckVerdict::NotAnApi {
                status: Some(404),
                detail: "Not Found".into()
            }
        );
    }

    #[test]
    fn a_model_that_lacks_a_feature_is_not_an_unknown_model() {
        let verdict = rejected(
            400,
            "This model does not support response_format json_schema",
        );
        assert!(
            matches!(
                verdict,
                CheckVerdict::Failed {
                    status: Some(400),
                    ..
                }
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn connect_errors_are_said_the_way_a_person_checks_them() {
        let unreachable = |detail: &str| {
            classify(
                &failure(CallError::Connect(detail.into()), ""),
                true,
                CHECK_TIMEOUT,
            )
        };
        assert_eq!(
            unreachable(
                "error sending request: client error (Connect): dns error: failed to lookup address information"
            ),
            CheckVerdict::Unreachable {
                detail: "the host name could not be found (DNS)".into()
            }
        );
        assert_eq!(
            unreachable(
                "error sending request: tcp connect error: Connection refused (os error 111)"
            ),
            CheckVerdict::Unreachable {
                detail: "nothing is listening at that address (connection refused)".into()
            }
        );
    }

    #[test]
    fn a_rate_limit_quotes_the_body_and_rounds_the_wait_up() {
        let error = CallError::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
        };
        let raw = r#"{"error": {"message": "You exceeded your current quota"}}"#;
        assert_eq!(
            classify(&failure(error, raw), true, CHECK_TIMEOUT),
            CheckVerdict::RateLimited {
                retry_after_secs: Some(2),
                detail: "You exceeded your current quota".into()
            }
        );
    }

    #[test]
    fn a_key_echoed_by_the_provider_is_redacted() {
        let key = Secret::new("sk-live-0123456789abcdef");
        let verdict = CheckVerdict::KeyRefused {
            status: 401,
            detail: "Incorrect API key provided: sk-live-0123456789abcdef".into(),
            key_set: true,
        };
        let CheckVerdict::KeyRefused { detail, .. } = redact(verdict, Some(&key)) else {
            panic!("still a key refusal");
        };
        assert_eq!(detail, "Incorrect API key provided: [redacted]");
    }

    #[test]
    fn long_provider_messages_are_cut_short() {
        let CheckVerdict::Failed { detail, .. } = rejected(400, &"x".repeat(1000)) else {
            panic!("a plain refusal");
        };
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(detail.ends_with('…'));
    }
}
