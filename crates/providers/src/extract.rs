//! Finding the JSON answer in a model's text: the whole text, a fenced code block, or the first balanced object in prose.

use serde_json::Value;

/// The JSON a model answered with, or a short reason why none could be found.
///
/// Tried in order: the whole text (after dropping a leading `<think>…</think>` block that
/// reasoning models emit); each fenced code block (```` ```json ```` or bare ```` ``` ````);
/// the first `{…}` object in the prose that parses, with braces inside strings ignored.
pub fn extract_json(text: &str) -> Result<Value, String> {
    let text = strip_thinking(text).trim();
    if text.is_empty() {
        return Err("the answer is empty".to_owned());
    }
    let whole_error = match serde_json::from_str::<Value>(text) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    for block in fenced_blocks(text) {
        if let Ok(value) = serde_json::from_str::<Value>(block.trim()) {
            return Ok(value);
        }
    }
    if let Some(value) = first_object(text) {
        return Ok(value);
    }
    if text.contains('{') {
        Err(format!(
            "the answer holds no valid JSON object ({whole_error})"
        ))
    } else {
        Err(format!("the answer is not JSON: {}", preview(text)))
    }
}

/// Reasoning models served through OpenAI-compatible servers put their thoughts, braces and
/// all, before the answer.
fn strip_thinking(text: &str) -> &str {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<think>")
        && let Some(end) = rest.find("</think>")
    {
        return &rest[end + "</think>".len()..];
    }
    text
}

/// The bodies of ```` ``` ```` fenced blocks, in order; the info string (`json`, `JSON`...) is skipped.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after_fence = &rest[open + 3..];
        // The info string runs to the end of the line; a fence with JSON on the same line
        // (```{"a":1}```) has no info string.
        let body_start = match after_fence.find('\n') {
            Some(newline) if !after_fence[..newline].trim_start().starts_with(['{', '[']) => {
                newline + 1
            }
            _ => after_fence
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(after_fence.len()),
        };
        let body = &after_fence[body_start..];
        let Some(close) = body.find("```") else {
            // An unclosed fence (the answer was cut off): whatever follows is the best guess.
            blocks.push(body);
            break;
        };
        blocks.push(&body[..close]);
        rest = &body[close + 3..];
    }
    blocks
}

/// The first `{...}` that is balanced and parses, counting braces only outside strings.
fn first_object(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(offset) = text[start..].find('{') {
        let open = start + offset;
        if let Some(close) = matching_brace(bytes, open)
            && let Ok(value) = serde_json::from_str::<Value>(&text[open..=close])
        {
            return Some(value);
        }
        start = open + 1;
    }
    None
}

/// The index of the `}` closing the `{` at `open`; quotes and escapes are tracked so `"}"` in a
/// string does not end the object. Works on bytes: every byte that matters is ASCII, and UTF-8
/// continuation bytes never equal one.
fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (index, &byte) in bytes.iter().enumerate().skip(open) {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

fn preview(text: &str) -> String {
    const LIMIT: usize = 120;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(text: &str) -> Value {
        extract_json(text).expect("the text holds JSON")
    }

    #[test]
    fn a_bare_object_is_taken_whole() {
        assert_eq!(ok(r#"{"a": 1}"#), json!({"a": 1}));
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(ok("\n\n  {\"a\": [1, 2]}  \n"), json!({"a": [1, 2]}));
    }

    #[test]
    fn a_whole_text_array_or_scalar_is_returned_as_is() {
        assert_eq!(ok("[1, 2]"), json!([1, 2]));
        assert_eq!(ok("true"), json!(true));
    }

    #[test]
    fn a_json_fenced_block_is_found_inside_prose() {
        let text = "Here is the answer:\n```json\n{\"label\": \"spam\"}\n```\nHope it helps!";
        assert_eq!(ok(text), json!({"label": "spam"}));
    }

    #[test]
    fn a_bare_fence_without_language_works() {
        assert_eq!(ok("```\n{\"x\": null}\n```"), json!({"x": null}));
    }

    #[test]
    fn an_uppercase_language_tag_works() {
        assert_eq!(ok("```JSON\n{\"x\": 2}\n```"), json!({"x": 2}));
    }

    #[test]
    fn a_fence_with_json_on_the_same_line_works() {
        assert_eq!(ok("```{\"x\": 3}```"), json!({"x": 3}));
    }

    #[test]
    fn a_later_fenced_block_is_used_when_the_first_is_not_json() {
        let text = "```python\nprint('hi')\n```\nand\n```json\n{\"ok\": true}\n```";
        assert_eq!(ok(text), json!({"ok": true}));
    }

    #[test]
    fn an_unclosed_fence_still_yields_its_json() {
        assert_eq!(ok("```json\n{\"a\": 1}\n"), json!({"a": 1}));
    }

    #[test]
    fn the_first_object_in_prose_is_found() {
        let text = "Sure! The result is {\"score\": 4, \"reason\": \"good\"}. Let me know.";
        assert_eq!(ok(text), json!({"score": 4, "reason": "good"}));
    }

    #[test]
    fn nested_objects_are_matched_to_the_outer_brace() {
        let text = "answer: {\"a\": {\"b\": {\"c\": 1}}, \"d\": 2} done";
        assert_eq!(ok(text), json!({"a": {"b": {"c": 1}}, "d": 2}));
    }

    #[test]
    fn braces_inside_strings_do_not_end_the_object() {
        let text = r#"Result: {"text": "a } tricky { string", "n": 1} trailing }"#;
        assert_eq!(ok(text), json!({"text": "a } tricky { string", "n": 1}));
    }

    #[test]
    fn escaped_quotes_inside_strings_are_handled() {
        let text = r#"x {"quote": "she said \"}\" loudly", "n": 2} y"#;
        assert_eq!(ok(text), json!({"quote": "she said \"}\" loudly", "n": 2}));
    }

    #[test]
    fn an_escaped_backslash_before_a_quote_closes_the_string() {
        let text = r#"x {"path": "C:\\", "n": 3} y"#;
        assert_eq!(ok(text), json!({"path": "C:\\", "n": 3}));
    }

    #[test]
    fn a_broken_brace_group_before_the_real_object_is_skipped() {
        let text = "Use {placeholders} like this: {\"a\": 1}";
        assert_eq!(ok(text), json!({"a": 1}));
    }

    #[test]
    fn multibyte_text_around_the_object_is_fine() {
        let text = "Voilà la réponse 👉 {\"ville\": \"Zürich\"} ✅";
        assert_eq!(ok(text), json!({"ville": "Zürich"}));
    }

    #[test]
    fn a_think_block_with_braces_is_skipped() {
        let text = "<think>maybe {\"wrong\": true}?</think>\n{\"right\": true}";
        assert_eq!(ok(text), json!({"right": true}));
    }

    #[test]
    fn empty_text_is_an_error() {
        let error = extract_json("  \n ").expect_err("nothing to find");
        assert!(error.contains("empty"), "{error}");
    }

    #[test]
    fn prose_without_json_is_an_error_that_quotes_the_text() {
        let error = extract_json("I cannot help with that.").expect_err("no JSON");
        assert!(error.contains("I cannot help"), "{error}");
    }

    #[test]
    fn a_truncated_object_is_an_error() {
        let error = extract_json("{\"a\": 1, \"b\": \"unfinish").expect_err("cut off");
        assert!(error.contains("no valid JSON object"), "{error}");
    }

    #[test]
    fn a_long_prose_preview_is_cut() {
        let text = "word ".repeat(200);
        let error = extract_json(&text).expect_err("no JSON");
        assert!(error.len() < 200, "{error}");
    }

    #[test]
    fn an_unbalanced_closing_brace_does_not_panic() {
        let error = extract_json("} } {").expect_err("no object");
        assert!(!error.is_empty());
    }
}
