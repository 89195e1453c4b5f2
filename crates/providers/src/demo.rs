//! The offline demo provider: deterministic, schema-valid synthetic answers with realistic-looking exchanges, so Rowbench works with no key.

use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::estimate::count_tokens;
use crate::openai;
use crate::types::{CallFailure, ChatOutcome, ChatRequest, Exchange, Provider};

pub const DEMO_PROVIDER_ID: &str = "demo";
pub const DEMO_LABEL: &str = "Offline demo (synthetic answers)";
/// Where the demo pretends to send requests; not a real address, so nobody mistakes it for one.
pub const DEMO_URL: &str = "demo://offline/v1/chat/completions";
pub const DEFAULT_DEMO_LATENCY: Duration = Duration::from_millis(150);

/// Answers every request with `example_answer(schema, seed)`, the seed hashed from the model
/// and the prompts: the same row always gets the same answer.
#[derive(Debug, Clone)]
pub struct DemoProvider {
    /// How long each call pretends to take, so progress and pacing can be seen.
    pub latency: Duration,
}

impl Default for DemoProvider {
    fn default() -> Self {
        DemoProvider {
            latency: DEFAULT_DEMO_LATENCY,
        }
    }
}

impl DemoProvider {
    pub fn new(latency: Duration) -> Self {
        DemoProvider { latency }
    }

    /// The seed for a request: FNV-1a over model, system and user prompt, stable across
    /// builds and platforms unlike `std`'s hasher.
    pub fn seed(request: &ChatRequest) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [&request.model, &request.system, &request.user] {
            for byte in part.as_bytes().iter().chain(std::iter::once(&0xff)) {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        hash
    }
}

#[async_trait]
impl Provider for DemoProvider {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatOutcome, CallFailure> {
        let started = Instant::now();
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let seed = Self::seed(request);
        let answer = rowbench_schema::synthetic::example_answer(&request.schema, seed);
        let content = answer.to_string();
        let body = openai::request_body(request, false);
        let input_tokens = body["messages"].as_array().map_or(0, |messages| {
            messages
                .iter()
                .map(|m| count_tokens(m["content"].as_str().unwrap_or_default()) + 4)
                .sum::<u64>()
        }) + body
            .get("response_format")
            .map_or(0, |format| count_tokens(&format.to_string()));
        let output_tokens = count_tokens(&content) + 1;
        let created = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let response = json!({
            "id": format!("chatcmpl-demo-{seed:016x}"),
            "object": "chat.completion",
            "created": created,
            "model": request.model,
            "system_fingerprint": "rowbench-demo",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": Value::Null},
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens
            }
        });
        let raw_response =
            serde_json::to_string_pretty(&response).unwrap_or_else(|_| response.to_string());
        Ok(ChatOutcome {
            exchange: Exchange {
                request: body,
                url: DEMO_URL.to_owned(),
                http_status: Some(200),
                raw_response,
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            },
            answer: Ok(answer),
            input_tokens: Some(input_tokens),
            output_tokens: Some(output_tokens),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StructuredOutput;

    fn request(user: &str) -> ChatRequest {
        ChatRequest {
            model: "demo-synthetic".into(),
            system: "Classify the review.".into(),
            user: user.into(),
            schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
                    "score": {"type": "integer", "minimum": 1, "maximum": 5},
                    "topics": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                    "summary": {"type": ["string", "null"], "maxLength": 80}
                },
                "required": ["sentiment", "score", "topics", "summary"],
                "additionalProperties": false
            }),
            schema_name: "review".into(),
            temperature: None,
            max_tokens: None,
            structured: StructuredOutput::Native,
            repair: None,
        }
    }

    fn instant() -> DemoProvider {
        DemoProvider::new(Duration::ZERO)
    }

    #[tokio::test]
    async fn the_same_request_always_gets_the_same_answer() {
        let first = instant()
            .chat(&request("Great product"))
            .await
            .expect("demo never fails");
        let second = instant()
            .chat(&request("Great product"))
            .await
            .expect("demo never fails");
        assert_eq!(first.answer, second.answer);
        assert_eq!(first.input_tokens, second.input_tokens);
    }

    #[test]
    fn seeds_differ_between_rows_and_are_stable() {
        let a = DemoProvider::seed(&request("Great product"));
        let b = DemoProvider::seed(&request("Terrible product"));
        assert_ne!(a, b);
        assert_eq!(a, DemoProvider::seed(&request("Great product")));
        let mut shifted = request("Great product");
        shifted.system = "Classify the review.Great".into();
        shifted.user = " product".into();
        assert_ne!(a, DemoProvider::seed(&shifted), "field boundaries count");
    }

    #[tokio::test]
    async fn answers_are_valid_against_the_schema() {
        for row in 0..50 {
            let req = request(&format!("row {row}"));
            let outcome = instant().chat(&req).await.expect("demo never fails");
            let answer = outcome.answer.expect("an answer");
            let validator = jsonschema::validator_for(&req.schema).expect("a valid schema");
            let errors: Vec<String> = validator
                .iter_errors(&answer)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{answer}: {errors:?}");
        }
    }

    #[tokio::test]
    async fn the_exchange_looks_like_an_openai_call() {
        let outcome = instant()
            .chat(&request("Great product"))
            .await
            .expect("demo never fails");
        let exchange = &outcome.exchange;
        assert_eq!(exchange.url, DEMO_URL);
        assert_eq!(exchange.http_status, Some(200));
        assert_eq!(exchange.request["model"], "demo-synthetic");
        assert_eq!(exchange.request["response_format"]["type"], "json_schema");
        let raw: Value = serde_json::from_str(&exchange.raw_response).expect("JSON");
        let content = raw["choices"][0]["message"]["content"]
            .as_str()
            .expect("content");
        let answer = outcome.answer.as_ref().expect("answer");
        assert_eq!(
            serde_json::from_str::<Value>(content).ok().as_ref(),
            Some(answer)
        );
        assert_eq!(
            raw["usage"]["completion_tokens"].as_u64(),
            outcome.output_tokens
        );
        assert!(outcome.input_tokens.is_some_and(|tokens| tokens > 10));
    }

    #[tokio::test(start_paused = true)]
    async fn the_configured_latency_is_waited() {
        let started = tokio::time::Instant::now();
        DemoProvider::new(Duration::from_secs(2))
            .chat(&request("x"))
            .await
            .expect("demo never fails");
        assert!(started.elapsed() >= Duration::from_secs(2));
    }
}
