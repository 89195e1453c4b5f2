//! Reading what a request asks for: message texts, the schema the answer must follow, token counts.
//!
//! Requests are handled as loose `serde_json::Value`s rather than typed structs: the mock should
//! answer whatever a real client sends, not reject fields it has no use for.

use std::borrow::Cow;

use serde_json::Value;

/// The text of a message `content`, which both APIs allow to be a plain string or a list of
/// typed parts; only the text parts count.
pub(crate) fn content_text(content: &Value) -> Cow<'_, str> {
    match content {
        Value::String(text) => Cow::Borrowed(text),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            match texts.as_slice() {
                [one] => Cow::Borrowed(one),
                _ => Cow::Owned(texts.join("\n")),
            }
        }
        _ => Cow::Borrowed(""),
    }
}

fn messages(request: &Value) -> &[Value] {
    request
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn role(message: &Value) -> Option<&str> {
    message.get("role").and_then(Value::as_str)
}

fn message_text(message: &Value) -> Cow<'_, str> {
    message
        .get("content")
        .map_or(Cow::Borrowed(""), content_text)
}

/// The last user message: it carries the row, so it identifies the row across retries.
pub(crate) fn last_user_text(request: &Value) -> String {
    messages(request)
        .iter()
        .rev()
        .find(|message| role(message) == Some("user"))
        .map(|message| message_text(message).into_owned())
        .unwrap_or_default()
}

/// System instructions: OpenAI-style `system`/`developer` messages, or Anthropic's top-level
/// `system` field.
pub(crate) fn system_text(request: &Value) -> String {
    let mut text = request
        .get("system")
        .map(|system| content_text(system).into_owned())
        .unwrap_or_default();
    for message in messages(request) {
        if matches!(role(message), Some("system" | "developer")) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&message_text(message));
        }
    }
    text
}

/// Characters of every text the model would read, for the token estimate.
pub(crate) fn prompt_chars(request: &Value) -> usize {
    let system = request
        .get("system")
        .map_or(0, |system| content_text(system).chars().count());
    system
        + messages(request)
            .iter()
            .map(|message| message_text(message).chars().count())
            .sum::<usize>()
}

/// The usual rule of thumb of four characters per token, never zero for a non-empty text.
pub(crate) fn tokens(chars: usize) -> usize {
    chars.div_ceil(4)
}

/// FNV-1a: stable across runs, platforms and Rust versions (unlike `DefaultHasher`), so a row
/// gets the same answer every time.
pub(crate) fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A JSON Schema written into a prompt: the first ```json fence that holds one, else the largest
/// `{…}` block that parses as one.
pub(crate) fn schema_in_text(text: &str) -> Option<Value> {
    fenced_schema(text).or_else(|| largest_schema_block(text))
}

fn fenced_schema(text: &str) -> Option<Value> {
    let mut rest = text;
    while let Some(start) = rest.find("```json") {
        let body = &rest[start + "```json".len()..];
        let end = body.find("```")?;
        if let Ok(value) = serde_json::from_str::<Value>(&body[..end])
            && looks_like_schema(&value)
        {
            return Some(value);
        }
        rest = &body[end + "```".len()..];
    }
    None
}

fn largest_schema_block(text: &str) -> Option<Value> {
    let mut best: Option<(usize, Value)> = None;
    let mut from = 0;
    while let Some(offset) = text[from..].find('{') {
        let start = from + offset;
        let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(value)) => {
                let len = values.byte_offset();
                if looks_like_schema(&value) && best.as_ref().is_none_or(|(size, _)| len > *size) {
                    best = Some((len, value));
                }
                from = start + len;
            }
            // Prose braces: a schema may still start at a later brace, even one inside this span.
            _ => from = start + 1,
        }
    }
    best.map(|(_, value)| value)
}

/// Tells a schema from a JSON example of data, which a prompt is just as likely to contain.
fn looks_like_schema(value: &Value) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    let typed = match object.get("type") {
        Some(Value::String(name)) => is_type_name(name),
        Some(Value::Array(names)) => names
            .iter()
            .all(|name| name.as_str().is_some_and(is_type_name)),
        _ => false,
    };
    typed
        || object.get("properties").is_some_and(Value::is_object)
        || object.contains_key("$schema")
}

fn is_type_name(name: &str) -> bool {
    matches!(
        name,
        "object" | "array" | "string" | "number" | "integer" | "boolean" | "null"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_last_user_message_is_found_in_either_content_shape() {
        let request = json!({"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "row 7"}, {"type": "image"}]},
        ]});
        assert_eq!(last_user_text(&request), "row 7");
    }

    #[test]
    fn system_text_comes_from_messages_or_the_anthropic_field() {
        let openai = json!({"messages": [{"role": "developer", "content": "rules"}]});
        let anthropic = json!({"system": [{"type": "text", "text": "rules"}], "messages": []});
        assert_eq!(system_text(&openai), "rules");
        assert_eq!(system_text(&anthropic), "rules");
    }

    #[test]
    fn a_fenced_schema_is_preferred_to_other_braces() {
        let text = "Data: {\"type\": \"string\", \"a\": 1, \"b\": 2, \"c\": 3}\n\
                    Answer with:\n```json\n{\"type\": \"object\", \"required\": [\"x\"]}\n```";
        assert_eq!(
            schema_in_text(text),
            Some(json!({"type": "object", "required": ["x"]}))
        );
    }

    #[test]
    fn the_largest_schema_block_wins_and_data_examples_do_not_count() {
        let text = "Example row: {\"name\": \"Ada\", \"notes\": \"a long example that is not a schema\"}. \
                    Small: {\"type\": \"string\"}. Schema: {\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\"}}} thanks {";
        assert_eq!(
            schema_in_text(text),
            Some(json!({"type": "object", "properties": {"name": {"type": "string"}}}))
        );
    }

    #[test]
    fn a_schema_after_prose_braces_is_still_found() {
        let text = "Use {braces} freely. {\"type\": \"object\"}";
        assert_eq!(schema_in_text(text), Some(json!({"type": "object"})));
    }

    #[test]
    fn text_without_a_schema_has_none() {
        assert_eq!(schema_in_text("Summarise {name} in one line."), None);
        assert_eq!(schema_in_text(""), None);
    }

    #[test]
    fn the_hash_is_stable() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn tokens_are_a_quarter_of_the_characters_rounded_up() {
        assert_eq!(tokens(0), 0);
        assert_eq!(tokens(1), 1);
        assert_eq!(tokens(8), 2);
        assert_eq!(tokens(9), 3);
    }
}
