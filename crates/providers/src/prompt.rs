//! Wording and schema preparation every wire format shares: the instructions-mode system prompt, the repair turn, safe schema names.

use serde_json::Value;

use crate::types::Repair;

/// Errors quoted in a repair turn; beyond this the model learns nothing new.
const MAX_REPAIR_ERRORS: usize = 20;
/// The longest single error or previous answer quoted back, in characters.
const MAX_QUOTE_CHARS: usize = 32 * 1024;

/// The system prompt for instructions mode: the user's system prompt, then the schema and
/// the demand for bare JSON.
pub(crate) fn instructions_system(system: &str, schema: &Value) -> String {
    let schema_text =
        serde_json::to_string_pretty(&without_meta(schema)).unwrap_or_else(|_| schema.to_string());
    let instructions = format!(
        "Answer with only a JSON object that matches this JSON Schema. \
         Do not add any text, explanation or code fences around it.\n\n{schema_text}"
    );
    if system.trim().is_empty() {
        instructions
    } else {
        format!("{system}\n\n{instructions}")
    }
}

/// The user turn that asks for a corrected answer.
pub(crate) fn repair_message(repair: &Repair) -> String {
    let mut message = String::from("Your answer did not match the schema:\n");
    for error in repair.errors.iter().take(MAX_REPAIR_ERRORS) {
        message.push_str("- ");
        message.push_str(&cut(error, MAX_QUOTE_CHARS));
        message.push('\n');
    }
    if repair.errors.len() > MAX_REPAIR_ERRORS {
        message.push_str(&format!(
            "- ...and {} more\n",
            repair.errors.len() - MAX_REPAIR_ERRORS
        ));
    }
    message.push_str("Answer again with only the corrected JSON object.");
    message
}

/// The previous answer as it is replayed to the model.
pub(crate) fn previous_answer(repair: &Repair) -> String {
    cut(&repair.previous_answer, MAX_QUOTE_CHARS)
}

/// The schema without `$schema`, which structured-output endpoints reject or ignore.
pub(crate) fn without_meta(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
    }
    schema
}

/// A name OpenAI (`json_schema.name`) and Anthropic (tool name) accept: `[a-zA-Z0-9_-]{1,64}`.
pub(crate) fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.trim_matches('_').is_empty() {
        "answer".to_owned()
    } else {
        cleaned
    }
}

fn cut(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Notes why a reply ended early, appended to extraction errors so a cut-off answer is not
/// mistaken for a confused model.
pub(crate) fn with_stop_note(error: String, note: Option<&str>) -> String {
    match note {
        Some(note) => format!("{error} ({note})"),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn safe_names_replace_forbidden_characters() {
        assert_eq!(safe_name("Ticket triage v2!"), "Ticket_triage_v2_");
        assert_eq!(safe_name(""), "answer");
        assert_eq!(safe_name("ÄÖÜ"), "answer");
        assert_eq!(safe_name(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn instructions_keep_the_users_system_prompt_first() {
        let text = instructions_system("You classify tickets.", &json!({"type": "object"}));
        assert!(text.starts_with("You classify tickets.\n\n"));
        assert!(text.contains("only a JSON object"));
        assert!(text.contains("\"type\": \"object\""));
    }

    #[test]
    fn the_meta_schema_keyword_is_stripped() {
        let schema =
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"});
        assert_eq!(without_meta(&schema), json!({"type": "object"}));
    }

    #[test]
    fn repair_messages_quote_every_error() {
        let repair = Repair {
            previous_answer: "{}".into(),
            errors: vec![
                "/score: 7 is greater than 5".into(),
                "missing `label`".into(),
            ],
        };
        let text = repair_message(&repair);
        assert!(text.contains("- /score: 7 is greater than 5\n- missing `label`\n"));
        assert!(text.ends_with("Answer again with only the corrected JSON object."));
    }

    #[test]
    fn repair_messages_cap_the_number_of_errors() {
        let repair = Repair {
            previous_answer: "{}".into(),
            errors: (0..30).map(|i| format!("error {i}")).collect(),
        };
        let text = repair_message(&repair);
        assert!(text.contains("...and 10 more"));
        assert!(!text.contains("error 25"));
    }
}
