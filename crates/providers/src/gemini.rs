//! Google's Gemini `generateContent`; native structured output converts the JSON Schema to Gemini's OpenAPI-subset `responseSchema`.

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::{Map, Value, json};

use crate::catalog::Secret;
use crate::extract::extract_json;
use crate::http::{post_json, secret_header};
use crate::prompt::{instructions_system, previous_answer, repair_message, with_stop_note};
use crate::types::{CallError, CallFailure, ChatOutcome, ChatRequest, Provider, StructuredOutput};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// How deep `$ref`s are inlined; Gemini's schema has no references, so recursive schemas are
/// cut off here.
const MAX_REF_DEPTH: usize = 8;

/// `POST {base_url}/v1beta/models/{model}:generateContent`, keyed by the `x-goog-api-key`
/// header so the key never lands in a URL or a log.
#[derive(Debug, Clone)]
pub struct Gemini {
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub http: reqwest::Client,
}

impl Gemini {
    pub fn new(
        base_url: impl Into<String>,
        api_key: Option<Secret>,
        http: reqwest::Client,
    ) -> Self {
        Gemini {
            base_url: base_url.into(),
            api_key,
            http,
        }
    }

    fn url(&self, model: &str) -> String {
        let model = model.strip_prefix("models/").unwrap_or(model);
        let model: String = url::form_urlencoded::byte_serialize(model.as_bytes()).collect();
        format!(
            "{}/v1beta/models/{model}:generateContent",
            self.base_url.trim_end_matches('/')
        )
    }
}

#[async_trait]
impl Provider for Gemini {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatOutcome, CallFailure> {
        let body = request_body(request);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let value =
                secret_header(key.expose()).map_err(|error| CallFailure::new(error, None))?;
            headers.insert(HeaderName::from_static("x-goog-api-key"), value);
        }
        let reply = match post_json(&self.http, &self.url(&request.model), headers, body).await {
            Ok(reply) => reply,
            Err(failure) => return Err(bad_key_is_auth(failure)),
        };
        match parse_response(&reply.body) {
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

/// Gemini answers a wrong key with 400 `API_KEY_INVALID`, not 401; it is still a key problem
/// that should stop a run.
fn bad_key_is_auth(mut failure: CallFailure) -> CallFailure {
    if let CallError::Rejected {
        status: 400,
        message,
    } = &failure.error
        && failure
            .exchange
            .as_ref()
            .is_some_and(|exchange| exchange.raw_response.contains("API_KEY_INVALID"))
    {
        failure.error = CallError::Auth {
            status: 400,
            message: message.clone(),
        };
    }
    failure
}

/// The `generateContent` body for `request`.
pub fn request_body(request: &ChatRequest) -> Value {
    let system = match request.structured {
        StructuredOutput::Native => request.system.clone(),
        StructuredOutput::Instructions => instructions_system(&request.system, &request.schema),
    };
    let mut contents = vec![json!({"role": "user", "parts": [{"text": request.user}]})];
    if let Some(repair) = &request.repair {
        contents.push(json!({"role": "model", "parts": [{"text": previous_answer(repair)}]}));
        contents.push(json!({"role": "user", "parts": [{"text": repair_message(repair)}]}));
    }
    let mut config = Map::new();
    if let Some(temperature) = request.temperature {
        config.insert("temperature".into(), json!(temperature));
    }
    if let Some(max_tokens) = request.max_tokens {
        config.insert("maxOutputTokens".into(), json!(max_tokens));
    }
    if request.structured == StructuredOutput::Native {
        config.insert("responseMimeType".into(), json!("application/json"));
        config.insert("responseSchema".into(), response_schema(&request.schema));
    }
    let mut body = json!({"contents": contents});
    if !system.trim().is_empty() {
        body["systemInstruction"] = json!({"parts": [{"text": system}]});
    }
    if !config.is_empty() {
        body["generationConfig"] = Value::Object(config);
    }
    body
}

/// Converts a JSON Schema into Gemini's OpenAPI subset: `$ref`s inlined, `["x", "null"]`
/// types turned into `nullable`, `const` into a one-value enum, `oneOf` into `anyOf`,
/// `propertyOrdering` added (Gemini otherwise orders fields alphabetically), and every keyword
/// Gemini does not know dropped (`$schema`, `additionalProperties`...), because it refuses
/// unknown fields outright.
pub fn response_schema(schema: &Value) -> Value {
    convert(schema, schema, 0)
}

fn convert(node: &Value, root: &Value, depth: usize) -> Value {
    let Some(object) = node.as_object() else {
        return json!({"type": "STRING"});
    };
    if let Some(target) = object.get("$ref").and_then(Value::as_str) {
        if depth < MAX_REF_DEPTH
            && let Some(resolved) = resolve(root, target)
        {
            let mut inlined = convert(resolved, root, depth + 1);
            copy_text_fields(object, &mut inlined);
            return inlined;
        }
        return json!({"type": "STRING", "nullable": true, "description": "(nested value left out)"});
    }

    let mut out = Map::new();
    let mut nullable = object
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match object.get("type") {
        Some(Value::String(kind)) => {
            if kind == "null" {
                nullable = true;
            } else {
                out.insert("type".into(), json!(kind.to_ascii_uppercase()));
            }
        }
        Some(Value::Array(kinds)) => {
            let names: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
            nullable |= names.contains(&"null");
            if let Some(kind) = names.iter().find(|kind| **kind != "null") {
                out.insert("type".into(), json!(kind.to_ascii_uppercase()));
            }
        }
        _ => {}
    }

    let string_values = |values: &[Value]| -> Option<Vec<Value>> {
        values.iter().all(Value::is_string).then(|| values.to_vec())
    };
    if let Some(constant) = object.get("const")
        && let Some(values) = string_values(std::slice::from_ref(constant))
    {
        out.insert("enum".into(), Value::Array(values));
        out.entry("type").or_insert(json!("STRING"));
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array) {
        let non_null: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
        nullable |= non_null.len() < values.len();
        // Gemini enums hold strings only; other enums are left to answer validation.
        if let Some(values) = string_values(&non_null)
            && !values.is_empty()
        {
            out.insert("enum".into(), Value::Array(values));
            out.entry("type").or_insert(json!("STRING"));
        } else if !non_null.is_empty() && non_null.iter().all(Value::is_i64) {
            out.entry("type").or_insert(json!("INTEGER"));
        } else if !non_null.is_empty() && non_null.iter().all(Value::is_number) {
            out.entry("type").or_insert(json!("NUMBER"));
        }
    }

    for key in ["title", "description", "default", "example"] {
        if let Some(value) = object.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    for key in [
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "pattern",
    ] {
        if let Some(value) = object.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    if let Some(format) = object.get("format").and_then(Value::as_str)
        && matches!(
            format,
            "date-time" | "enum" | "int32" | "int64" | "float" | "double"
        )
    {
        out.insert("format".into(), json!(format));
    }

    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        let converted: Map<String, Value> = properties
            .iter()
            .map(|(name, schema)| (name.clone(), convert(schema, root, depth)))
            .collect();
        out.insert(
            "propertyOrdering".into(),
            json!(properties.keys().collect::<Vec<_>>()),
        );
        out.insert("properties".into(), Value::Object(converted));
        out.entry("type").or_insert(json!("OBJECT"));
    }
    if let Some(required) = object.get("required") {
        out.insert("required".into(), required.clone());
    }
    if let Some(items) = object.get("items") {
        out.insert("items".into(), convert(items, root, depth));
        out.entry("type").or_insert(json!("ARRAY"));
    }
    let branches = object
        .get("anyOf")
        .or_else(|| object.get("oneOf"))
        .and_then(Value::as_array);
    if let Some(branches) = branches {
        let mut converted = Vec::new();
        for branch in branches {
            if branch.get("type").and_then(Value::as_str) == Some("null") {
                nullable = true;
            } else {
                converted.push(convert(branch, root, depth));
            }
        }
        match converted.len() {
            0 => {}
            // `anyOf: [X, {type: null}]` is how optional fields are usually written; a
            // nullable X reads better and works on every Gemini version.
            1 if !out.contains_key("type") => {
                if let Some(Value::Object(single)) = converted.pop() {
                    for (key, value) in single {
                        out.entry(key).or_insert(value);
                    }
                }
            }
            _ => {
                out.insert("anyOf".into(), Value::Array(converted));
            }
        }
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    if !out.contains_key("type") && !out.contains_key("anyOf") {
        out.insert("type".into(), json!("STRING"));
    }
    Value::Object(out)
}

fn copy_text_fields(from: &Map<String, Value>, to: &mut Value) {
    if let Some(to) = to.as_object_mut() {
        for key in ["title", "description"] {
            if let Some(value) = from.get(key) {
                to.insert(key.into(), value.clone());
            }
        }
    }
}

fn resolve<'a>(root: &'a Value, target: &str) -> Option<&'a Value> {
    let pointer = target.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

type Parsed = (Result<Value, String>, Option<u64>, Option<u64>);

fn parse_response(body: &Value) -> Result<Parsed, String> {
    let usage = body.get("usageMetadata");
    let count = |field: &str| usage.and_then(|u| u.get(field)).and_then(Value::as_u64);
    // Thinking models bill their thoughts as output.
    let output_tokens = match (count("candidatesTokenCount"), count("thoughtsTokenCount")) {
        (None, None) => None,
        (answer, thoughts) => Some(answer.unwrap_or(0) + thoughts.unwrap_or(0)),
    };
    let input_tokens = count("promptTokenCount");

    let candidate = body
        .get("candidates")
        .and_then(Value::as_array)
        .and_then(|candidates| candidates.first());
    let Some(candidate) = candidate else {
        if let Some(reason) = body
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            return Ok((
                Err(format!("the prompt was blocked: {reason}")),
                input_tokens,
                output_tokens,
            ));
        }
        return Err("the response has no candidates".to_owned());
    };
    let finish = candidate.get("finishReason").and_then(Value::as_str);
    let stop_note = match finish {
        Some("MAX_TOKENS") => Some("the answer was cut off at max_tokens".to_owned()),
        Some(reason @ ("SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII")) => {
            Some(format!("the provider stopped the answer: {reason}"))
        }
        _ => None,
    };
    let text: String = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|part| part.get("thought").and_then(Value::as_bool) != Some(true))
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let answer = if text.trim().is_empty() {
        Err(with_stop_note(
            "the model returned no answer".to_owned(),
            stop_note.as_deref(),
        ))
    } else {
        extract_json(&text).map_err(|error| with_stop_note(error, stop_note.as_deref()))
    };
    Ok((answer, input_tokens, output_tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(structured: StructuredOutput) -> ChatRequest {
        ChatRequest {
            model: "gemini-2.5-flash".into(),
            system: "You label tickets.".into(),
            user: "Printer on fire".into(),
            schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"label": {"type": "string"}, "score": {"type": "integer"}},
                "required": ["label", "score"],
                "additionalProperties": false
            }),
            schema_name: "label".into(),
            temperature: Some(0.2),
            max_tokens: Some(300),
            structured,
            repair: None,
        }
    }

    #[test]
    fn native_bodies_ask_for_json_with_a_converted_schema() {
        let body = request_body(&request(StructuredOutput::Native));
        assert_eq!(
            body["systemInstruction"],
            json!({"parts": [{"text": "You label tickets."}]})
        );
        assert_eq!(
            body["contents"],
            json!([{"role": "user", "parts": [{"text": "Printer on fire"}]}])
        );
        let config = &body["generationConfig"];
        assert_eq!(config["responseMimeType"], "application/json");
        assert_eq!(config["maxOutputTokens"], 300);
        let schema = &config["responseSchema"];
        assert_eq!(schema["type"], "OBJECT");
        assert!(schema.get("$schema").is_none());
        assert!(schema.get("additionalProperties").is_none());
        assert_eq!(schema["properties"]["score"]["type"], "INTEGER");
        assert_eq!(schema["propertyOrdering"], json!(["label", "score"]));
    }

    #[test]
    fn instructions_bodies_have_no_response_schema() {
        let body = request_body(&request(StructuredOutput::Instructions));
        assert!(body["generationConfig"].get("responseSchema").is_none());
        assert!(body["generationConfig"].get("responseMimeType").is_none());
        let system = body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .expect("text");
        assert!(system.contains("only a JSON object"));
    }

    #[test]
    fn a_repair_adds_a_model_turn_and_a_user_turn() {
        let mut req = request(StructuredOutput::Native);
        req.repair = Some(crate::types::Repair {
            previous_answer: "{\"label\": 3}".into(),
            errors: vec!["/label: 3 is not a string".into()],
        });
        let body = request_body(&req);
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(body["contents"][2]["role"], "user");
        let text = body["contents"][2]["parts"][0]["text"]
            .as_str()
            .expect("text");
        assert!(text.contains("/label: 3 is not a string"));
    }

    #[test]
    fn nullable_types_refs_consts_and_unknown_keywords_are_converted() {
        let schema = json!({
            "type": "object",
            "$defs": {"tag": {"type": "string", "enum": ["a", "b"]}},
            "properties": {
                "note": {"type": ["string", "null"], "format": "email"},
                "tag": {"$ref": "#/$defs/tag", "description": "a tag"},
                "kind": {"const": "x"},
                "maybe": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}]},
                "list": {"type": "array", "items": {"type": "boolean"}, "uniqueItems": true},
                "level": {"enum": [1, 2, 3]}
            }
        });
        let out = response_schema(&schema);
        let props = &out["properties"];
        assert_eq!(props["note"], json!({"type": "STRING", "nullable": true}));
        assert_eq!(
            props["tag"],
            json!({"type": "STRING", "enum": ["a", "b"], "description": "a tag"})
        );
        assert_eq!(props["kind"], json!({"type": "STRING", "enum": ["x"]}));
        assert_eq!(
            props["maybe"],
            json!({"type": "NUMBER", "minimum": 0, "nullable": true})
        );
        assert_eq!(
            props["list"],
            json!({"type": "ARRAY", "items": {"type": "BOOLEAN"}})
        );
        assert_eq!(props["level"], json!({"type": "INTEGER"}));
        assert!(out.get("$defs").is_none());
    }

    #[test]
    fn recursive_refs_end() {
        let schema = json!({
            "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}}},
            "$ref": "#/$defs/node"
        });
        let out = response_schema(&schema);
        assert_eq!(out["type"], "OBJECT");
        assert!(out.to_string().contains("nested value left out"));
    }

    #[test]
    fn answers_and_usage_are_read() {
        let body = json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "{\"label\": \"fire\"}"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 6, "thoughtsTokenCount": 4, "totalTokenCount": 30}
        });
        let (answer, input, output) = parse_response(&body).expect("reply");
        assert_eq!(answer, Ok(json!({"label": "fire"})));
        assert_eq!((input, output), (Some(20), Some(10)));
    }

    #[test]
    fn thought_parts_are_skipped() {
        let body = json!({"candidates": [{"content": {"parts": [
            {"text": "thinking {\"nope\": 1}", "thought": true},
            {"text": "{\"yes\": 1}"}
        ]}}]});
        assert_eq!(
            parse_response(&body).expect("reply").0,
            Ok(json!({"yes": 1}))
        );
    }

    #[test]
    fn a_blocked_prompt_is_an_answer_error() {
        let body = json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 9}});
        let (answer, input, _) = parse_response(&body).expect("reply");
        assert!(answer.expect_err("blocked").contains("SAFETY"));
        assert_eq!(input, Some(9));
    }

    #[test]
    fn a_body_without_candidates_is_a_protocol_error() {
        assert!(parse_response(&json!({})).is_err());
    }

    #[test]
    fn model_names_are_put_in_the_path() {
        let gemini = Gemini::new("http://x/", None, reqwest::Client::new());
        assert_eq!(
            gemini.url("models/gemini-2.5-flash"),
            "http://x/v1beta/models/gemini-2.5-flash:generateContent"
        );
    }
}
