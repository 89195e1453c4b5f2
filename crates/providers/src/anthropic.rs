//! Anthropic's Messages API; native structured output is a forced call of a tool whose input schema is the answer's schema.

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::catalog::Secret;
use crate::extract::extract_json;
use crate::http::{post_json, secret_header};
use crate::prompt::{
    instructions_system, previous_answer, repair_message, safe_name, with_stop_note, without_meta,
};
use crate::types::{CallError, CallFailure, ChatOutcome, ChatRequest, Provider, StructuredOutput};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; this is used when the request leaves it open.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// `POST {base_url}/v1/messages`.
#[derive(Debug, Clone)]
pub struct Anthropic {
    /// Without the version segment, e.g. `https://api.anthropic.com`.
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub http: reqwest::Client,
}

impl Anthropic {
    pub fn new(
        base_url: impl Into<String>,
        api_key: Option<Secret>,
        http: reqwest::Client,
    ) -> Self {
        Anthropic {
            base_url: base_url.into(),
            api_key,
            http,
        }
    }
}

#[async_trait]
impl Provider for Anthropic {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatOutcome, CallFailure> {
        let body = request_body(request);
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(key) = &self.api_key {
            let value =
                secret_header(key.expose()).map_err(|error| CallFailure::new(error, None))?;
            headers.insert(HeaderName::from_static("x-api-key"), value);
        }
        let url = format!("{}/v1/messages", self.base_url.trim_end_matches('/'));
        let reply = post_json(&self.http, &url, headers, body).await?;
        match parse_response(&reply.body, request) {
            Ok((answer, input_tokens, output_tokens)) => Ok(ChatOutcome {
                exchange: reply.exchange,
                answer,
                input_tokens,
                output_tokens,
            }),
            Err(message) => Err(CallFailure::new(
                CallError::Protocol(message),
                Some(reply.exchange),
            )),
        }
    }
}

/// The Messages API body for `request`.
pub fn request_body(request: &ChatRequest) -> Value {
    let system = match request.structured {
        StructuredOutput::Native => request.system.clone(),
        StructuredOutput::Instructions => instructions_system(&request.system, &request.schema),
    };
    let mut messages = vec![json!({"role": "user", "content": request.user})];
    if let Some(repair) = &request.repair {
        // Replayed as plain text rather than as a tool call: a tool_use turn would need a
        // matching tool_result, and the forced tool choice brings the next answer back into
        // the tool anyway.
        messages.push(json!({"role": "assistant", "content": previous_answer(repair)}));
        messages.push(json!({"role": "user", "content": repair_message(repair)}));
    }
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": messages,
    });
    if !system.trim().is_empty() {
        body["system"] = json!(system);
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if request.structured == StructuredOutput::Native {
        let name = safe_name(&request.schema_name);
        body["tools"] = json!([{
            "name": name,
            "description": "Record the answer. Its input must match the JSON Schema exactly.",
            "input_schema": without_meta(&request.schema),
        }]);
        body["tool_choice"] = json!({"type": "tool", "name": name});
    }
    body
}

type Parsed = (Result<Value, String>, Option<u64>, Option<u64>);

/// Reads a Messages API reply: the forced tool call's input, else JSON in the text blocks.
fn parse_response(body: &Value, request: &ChatRequest) -> Result<Parsed, String> {
    let blocks = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| "the response has no content blocks".to_owned())?;
    let stop_note = match body.get("stop_reason").and_then(Value::as_str) {
        Some("max_tokens") => Some("the answer was cut off at max_tokens"),
        _ => None,
    };
    let tool_name = safe_name(&request.schema_name);
    let tool_input = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
        .find(|block| block.get("name").and_then(Value::as_str) == Some(tool_name.as_str()))
        .or_else(|| {
            blocks
                .iter()
                .find(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
        })
        .and_then(|block| block.get("input"));
    let text: String = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect();
    let answer = if body.get("stop_reason").and_then(Value::as_str) == Some("refusal") {
        Err(format!(
            "the model refused{}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ))
    } else if let Some(input) = tool_input {
        Ok(input.clone())
    } else if !text.trim().is_empty() {
        extract_json(&text).map_err(|error| with_stop_note(error, stop_note))
    } else {
        Err(with_stop_note(
            "the model returned no answer".to_owned(),
            stop_note,
        ))
    };
    let usage = body.get("usage");
    let count = |field: &str| usage.and_then(|u| u.get(field)).and_then(Value::as_u64);
    // Cached prompt tokens are reported apart from input_tokens but are still input.
    let input_tokens = count("input_tokens").map(|base| {
        base + count("cache_creation_input_tokens").unwrap_or(0)
            + count("cache_read_input_tokens").unwrap_or(0)
    });
    Ok((answer, input_tokens, count("output_tokens")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Repair;

    fn request(structured: StructuredOutput) -> ChatRequest {
        ChatRequest {
            model: "claude-haiku-4-5".into(),
            system: "You label tickets.".into(),
            user: "Printer on fire".into(),
            schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"label": {"type": "string"}},
                "required": ["label"]
            }),
            schema_name: "label".into(),
            temperature: None,
            max_tokens: None,
            structured,
            repair: None,
        }
    }

    #[test]
    fn native_bodies_force_the_answer_tool() {
        let body = request_body(&request(StructuredOutput::Native));
        assert_eq!(body["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(body["system"], "You label tickets.");
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": "Printer on fire"}])
        );
        assert_eq!(body["tools"][0]["name"], "label");
        assert!(body["tools"][0]["description"].is_string());
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
        assert!(body["tools"][0]["input_schema"].get("$schema").is_none());
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": "label"})
        );
        assert!(body.get("temperature").is_none());
    }

    #[test]
    fn instructions_bodies_have_no_tools() {
        let body = request_body(&request(StructuredOutput::Instructions));
        assert!(body.get("tools").is_none());
        assert!(body.get("tool_choice").is_none());
        let system = body["system"].as_str().expect("system");
        assert!(system.contains("only a JSON object") && system.contains("\"label\""));
    }

    #[test]
    fn a_repair_quotes_the_errors_in_a_final_user_turn() {
        let mut req = request(StructuredOutput::Native);
        req.repair = Some(Repair {
            previous_answer: "{}".into(),
            errors: vec!["missing `label`".into()],
        });
        let body = request_body(&req);
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1]["role"], "assistant");
        assert_eq!(messages[2]["role"], "user");
        assert!(
            messages[2]["content"]
                .as_str()
                .is_some_and(|t| t.contains("missing `label`"))
        );
    }

    #[test]
    fn the_tool_input_is_the_answer() {
        let body = json!({
            "content": [
                {"type": "text", "text": "Sure."},
                {"type": "tool_use", "id": "t1", "name": "label", "input": {"label": "fire"}}
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 40, "output_tokens": 12, "cache_read_input_tokens": 2}
        });
        let (answer, input, output) =
            parse_response(&body, &request(StructuredOutput::Native)).expect("reply");
        assert_eq!(answer, Ok(json!({"label": "fire"})));
        assert_eq!((input, output), (Some(42), Some(12)));
    }

    #[test]
    fn text_answers_fall_back_to_extraction() {
        let body = json!({"content": [{"type": "text", "text": "```json\n{\"label\": \"x\"}\n```"}], "usage": {}});
        let (answer, input, _) =
            parse_response(&body, &request(StructuredOutput::Instructions)).expect("reply");
        assert_eq!(answer, Ok(json!({"label": "x"})));
        assert_eq!(input, None);
    }

    #[test]
    fn a_refusal_is_an_answer_error() {
        let body = json!({"content": [], "stop_reason": "refusal"});
        let (answer, _, _) =
            parse_response(&body, &request(StructuredOutput::Native)).expect("reply");
        assert!(answer.expect_err("refused").contains("refused"));
    }

    #[test]
    fn a_body_without_content_is_a_protocol_error() {
        assert!(
            parse_response(
                &json!({"type": "message"}),
                &request(StructuredOutput::Native)
            )
            .is_err()
        );
    }
}
