//! The OpenAI chat-completions wire format, which OpenAI, Ollama, vLLM, LM Studio, OpenRouter and many others speak.

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::{Value, json};

use crate::catalog::Secret;
use crate::extract::extract_json;
use crate::http::{post_json, secret_header};
use crate::prompt::{
    instructions_system, previous_answer, repair_message, safe_name, with_stop_note, without_meta,
};
use crate::strict::{drop_null_optionals, strict_schema};
use crate::types::{CallError, CallFailure, ChatOutcome, ChatRequest, Provider, StructuredOutput};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A server speaking OpenAI's `POST {base_url}/chat/completions`.
#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    /// Up to and including the version segment, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer ...`; local servers need none.
    pub api_key: Option<Secret>,
    pub http: reqwest::Client,
}

impl OpenAiCompatible {
    pub fn new(
        base_url: impl Into<String>,
        api_key: Option<Secret>,
        http: reqwest::Client,
    ) -> Self {
        OpenAiCompatible {
            base_url: base_url.into(),
            api_key,
            http,
        }
    }

    fn url(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }

    /// OpenAI itself refuses `max_tokens` for its reasoning models and wants
    /// `max_completion_tokens`, which many compatible servers do not know yet.
    fn is_openai_itself(&self) -> bool {
        url::Url::parse(&self.base_url)
            .ok()
            .and_then(|url| {
                url.host_str()
                    .map(|host| host.eq_ignore_ascii_case("api.openai.com"))
            })
            .unwrap_or(false)
    }
}

#[async_trait]
impl Provider for OpenAiCompatible {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatOutcome, CallFailure> {
        let body = request_body(request, self.is_openai_itself());
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let value = secret_header(&format!("Bearer {}", key.expose()))
                .map_err(|error| CallFailure::new(error, None))?;
            headers.insert(AUTHORIZATION, value);
        }
        let reply = post_json(&self.http, &self.url(), headers, body).await?;
        match parse_response(&reply.body) {
            Ok(parsed) => Ok(ChatOutcome {
                exchange: reply.exchange,
                // Strict mode answers `null` for an optional field it has no value for.
                answer: match request.structured {
                    StructuredOutput::Native => parsed
                        .answer
                        .map(|answer| drop_null_optionals(answer, &request.schema)),
                    StructuredOutput::Instructions => parsed.answer,
                },
                input_tokens: parsed.input_tokens,
                output_tokens: parsed.output_tokens,
            }),
            Err(message) => Err(CallFailure::new(
                CallError::Protocol(message),
                Some(reply.exchange),
            )),
        }
    }
}

/// The chat-completions body for `request`. `max_completion_tokens` replaces `max_tokens`
/// when talking to OpenAI itself.
pub fn request_body(request: &ChatRequest, max_completion_tokens: bool) -> Value {
    let system = match request.structured {
        StructuredOutput::Native => request.system.clone(),
        StructuredOutput::Instructions => instructions_system(&request.system, &request.schema),
    };
    let mut messages = Vec::new();
    if !system.trim().is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": request.user}));
    if let Some(repair) = &request.repair {
        messages.push(json!({"role": "assistant", "content": previous_answer(repair)}));
        messages.push(json!({"role": "user", "content": repair_message(repair)}));
    }

    let mut body = json!({"model": request.model, "messages": messages});
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if let Some(max_tokens) = request.max_tokens {
        let key = if max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[key] = json!(max_tokens);
    }
    if request.structured == StructuredOutput::Native {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": {
                "name": safe_name(&request.schema_name),
                "strict": true,
                "schema": strict_schema(&without_meta(&request.schema)),
            }
        });
    }
    body
}

pub(crate) struct Parsed {
    pub answer: Result<Value, String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

/// Reads a chat-completion; `Err` when the body is not one.
pub(crate) fn parse_response(body: &Value) -> Result<Parsed, String> {
    let Some(choice) = body
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
    else {
        return Err(match body.get("error") {
            Some(_) => format!(
                "the response has no choices but an error: {}",
                crate::http::error_message(Some(body), "")
            ),
            None => "the response has no choices".to_owned(),
        });
    };
    let message = choice
        .get("message")
        .ok_or_else(|| "the first choice has no message".to_owned())?;
    let stop_note = match choice.get("finish_reason").and_then(Value::as_str) {
        Some("length") => Some("the answer was cut off at max_tokens"),
        Some("content_filter") => Some("the provider's content filter stopped the answer"),
        _ => None,
    };
    let content = content_text(message.get("content"));
    let answer = if let Some(refusal) = message.get("refusal").and_then(Value::as_str)
        && !refusal.trim().is_empty()
    {
        Err(format!("the model refused: {refusal}"))
    } else {
        match content {
            Some(text) => extract_json(&text).map_err(|error| with_stop_note(error, stop_note)),
            None => Err(with_stop_note(
                "the model returned no answer".to_owned(),
                stop_note,
            )),
        }
    };
    let usage = body.get("usage");
    let count = |field: &str| usage.and_then(|u| u.get(field)).and_then(Value::as_u64);
    Ok(Parsed {
        answer,
        input_tokens: count("prompt_tokens"),
        output_tokens: count("completion_tokens"),
    })
}

/// Content is a string, but some servers send a list of `{type: "text", text}` parts.
fn content_text(content: Option<&Value>) -> Option<String> {
    match content? {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let text: String = parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Repair;

    pub(crate) fn request(structured: StructuredOutput) -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            system: "You label tickets.".into(),
            user: "Printer on fire".into(),
            schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"label": {"type": "string"}},
                "required": ["label"],
                "additionalProperties": false
            }),
            schema_name: "ticket label".into(),
            temperature: Some(0.0),
            max_tokens: Some(200),
            structured,
            repair: None,
        }
    }

    #[test]
    fn native_bodies_carry_a_strict_json_schema_without_the_meta_keyword() {
        let body = request_body(&request(StructuredOutput::Native), false);
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "You label tickets."})
        );
        assert_eq!(
            body["messages"][1],
            json!({"role": "user", "content": "Printer on fire"})
        );
        let format = &body["response_format"];
        assert_eq!(format["type"], "json_schema");
        assert_eq!(format["json_schema"]["name"], "ticket_label");
        assert_eq!(format["json_schema"]["strict"], true);
        assert!(format["json_schema"]["schema"].get("$schema").is_none());
        assert_eq!(
            format["json_schema"]["schema"]["required"],
            json!(["label"])
        );
        assert_eq!(body["temperature"], 0.0);
        assert_eq!(body["max_tokens"], 200);
    }

    #[test]
    fn instructions_bodies_put_the_schema_in_the_system_prompt() {
        let body = request_body(&request(StructuredOutput::Instructions), false);
        assert!(body.get("response_format").is_none());
        let system = body["messages"][0]["content"]
            .as_str()
            .expect("system text");
        assert!(system.starts_with("You label tickets."));
        assert!(system.contains("only a JSON object"));
        assert!(system.contains("\"label\""));
    }

    #[test]
    fn openai_itself_gets_max_completion_tokens() {
        let body = request_body(&request(StructuredOutput::Native), true);
        assert_eq!(body["max_completion_tokens"], 200);
        assert!(body.get("max_tokens").is_none());
    }

    #[test]
    fn unset_sampling_options_are_left_out() {
        let mut req = request(StructuredOutput::Native);
        req.temperature = None;
        req.max_tokens = None;
        req.system = String::new();
        let body = request_body(&req, false);
        assert!(body.get("temperature").is_none());
        assert!(body.get("max_tokens").is_none());
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_repair_replays_the_answer_and_quotes_the_errors() {
        let mut req = request(StructuredOutput::Native);
        req.repair = Some(Repair {
            previous_answer: "{\"labl\": 1}".into(),
            errors: vec!["missing property `label`".into()],
        });
        let body = request_body(&req, false);
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 4);
        assert_eq!(
            messages[2],
            json!({"role": "assistant", "content": "{\"labl\": 1}"})
        );
        let text = messages[3]["content"].as_str().expect("text");
        assert!(text.contains("did not match the schema"));
        assert!(text.contains("missing property `label`"));
    }

    #[test]
    fn answers_and_usage_are_read() {
        let body = json!({
            "choices": [{"message": {"role": "assistant", "content": "{\"label\":\"fire\"}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 31, "completion_tokens": 7}
        });
        let parsed = parse_response(&body).expect("a completion");
        assert_eq!(parsed.answer, Ok(json!({"label": "fire"})));
        assert_eq!(parsed.input_tokens, Some(31));
        assert_eq!(parsed.output_tokens, Some(7));
    }

    #[test]
    fn a_refusal_is_an_answer_error_not_a_failure() {
        let body = json!({"choices": [{"message": {"content": null, "refusal": "I can't help with that."}}]});
        let parsed = parse_response(&body).expect("a completion");
        let error = parsed.answer.expect_err("refused");
        assert!(
            error.contains("refused") && error.contains("can't help"),
            "{error}"
        );
    }

    #[test]
    fn a_cut_off_answer_says_so() {
        let body = json!({"choices": [{"message": {"content": "{\"label\": \"fi"}, "finish_reason": "length"}]});
        let error = parse_response(&body)
            .expect("a completion")
            .answer
            .expect_err("cut off");
        assert!(error.contains("max_tokens"), "{error}");
    }

    #[test]
    fn content_given_as_parts_is_joined() {
        let body = json!({"choices": [{"message": {"content": [{"type": "text", "text": "{\"a\":"}, {"type": "text", "text": "1}"}]}}]});
        assert_eq!(
            parse_response(&body).expect("completion").answer,
            Ok(json!({"a": 1}))
        );
    }

    #[test]
    fn a_body_without_choices_is_a_protocol_error() {
        assert!(parse_response(&json!({"object": "list"})).is_err());
        let error = parse_response(&json!({"error": {"message": "model overloaded"}})).err();
        assert!(error.is_some_and(|e| e.contains("model overloaded")));
    }
}
