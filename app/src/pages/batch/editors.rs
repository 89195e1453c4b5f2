//! The review grid's inline editors, one per answer field fitting its type (options for an enum,
//! a switch for a boolean, a number input, a text area), and the conversions between an answer
//! and the editors' drafts. The drafts are text; the server checks the answer they make against
//! the batch's schema, so a wrong number reaches it as text and comes back named by its field.

use leptos::prelude::*;
use serde_json::{Map, Value};

use super::grid::Grid;
use crate::api::batch::FieldEditor;

/// The editor's starting text for one field's answer.
pub(super) fn draft_text(kind: &str, value: Option<&Value>) -> String {
    match (kind, value) {
        (_, None | Some(Value::Null)) => {
            if kind == "boolean" {
                "false".to_string()
            } else {
                String::new()
            }
        }
        (_, Some(Value::String(s))) => s.clone(),
        ("string_list", Some(Value::Array(items))) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        (_, Some(other)) => other.to_string(),
    }
}

/// The whole answer the drafts make: `base` (the answer the reviewer started from) with each
/// field replaced by its draft. An empty optional field is left out; text that is not a number
/// stays text, for the schema check to name.
pub(super) fn answer_from(
    editors: &[FieldEditor],
    drafts: &[String],
    base: Option<&Value>,
) -> Value {
    let mut answer = match base {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    for (editor, draft) in editors.iter().zip(drafts) {
        let trimmed = draft.trim();
        let value = match editor.kind.as_str() {
            "boolean" => Some(Value::Bool(trimmed == "true")),
            "string_list" => Some(Value::Array(
                draft
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_string()))
                    .collect(),
            )),
            _ if trimmed.is_empty() && !editor.required => None,
            "integer" => Some(
                trimmed
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(trimmed.to_string())),
            ),
            "number" => Some(
                trimmed
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(trimmed.to_string())),
            ),
            "enum" => Some(Value::String(trimmed.to_string())),
            _ => Some(Value::String(draft.clone())),
        };
        match value {
            Some(value) => answer.insert(editor.name.clone(), value),
            None => answer.remove(&editor.name),
        };
    }
    Value::Object(answer)
}

/// The option a digit key picks (`1` is the first), if the enum has that many.
pub(super) fn option_for_digit(options: &[String], key: &str) -> Option<String> {
    let digit = key.parse::<usize>().ok().filter(|d| (1..=9).contains(d))?;
    options.get(digit - 1).cloned()
}

/// One field's editor in the row being fixed. Enter saves (Shift+Enter starts a new line in a
/// text area), Escape gives up, the digits pick an enum's options.
#[component]
pub(super) fn FieldInput(grid: Grid, row: i64, index: usize, editor: FieldEditor) -> impl IntoView {
    let draft = move || {
        grid.drafts
            .with(|d| d.get(index).cloned().unwrap_or_default())
    };
    let set = move |text: String| {
        grid.drafts.update(|d| {
            if let Some(slot) = d.get_mut(index) {
                *slot = text;
            }
        })
    };
    let label = format!("Fix {}", editor.name);
    let options = editor.options.clone();
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if key == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            grid.cancel(row);
        } else if key == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            grid.save_fix(row);
        } else if !options.is_empty()
            && !ev.ctrl_key()
            && !ev.meta_key()
            && let Some(option) = option_for_digit(&options, &key)
        {
            ev.prevent_default();
            set(option);
        }
    };
    match editor.kind.as_str() {
        "enum" => {
            let blank = (!editor.required).then(|| view! { <option value="">"—"</option> });
            view! {
                <select
                    class="input input--sm grid__editor"
                    aria-label=label
                    prop:value=draft
                    on:change=move |ev| set(event_target_value(&ev))
                    on:keydown=keys
                >
                    {blank}
                    {editor
                        .options
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| {
                            let text = if i < 9 { format!("{} · {o}", i + 1) } else { o.clone() };
                            let value = o.clone();
                            view! {
                                <option value=value selected=move || draft() == o>
                                    {text}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            }
            .into_any()
        }
        "boolean" => view! {
            <label class="switch grid__editor-wrap">
                <input
                    type="checkbox"
                    role="switch"
                    class="grid__editor"
                    aria-label=label
                    prop:checked=move || draft() == "true"
                    on:change=move |ev| set(event_target_checked(&ev).to_string())
                    on:keydown=keys
                />
                <span class="switch__label">
                    {move || if draft() == "true" { "Yes" } else { "No" }}
                </span>
            </label>
        }
        .into_any(),
        "number" | "integer" => view! {
            <input
                type="text"
                class="input input--sm grid__editor"
                inputmode=if editor.kind == "integer" { "numeric" } else { "decimal" }
                aria-label=label
                prop:value=draft
                on:input=move |ev| set(event_target_value(&ev))
                on:keydown=keys
            />
        }
        .into_any(),
        kind => view! {
            <textarea
                class="input input--sm grid__editor"
                rows="2"
                aria-label=label
                placeholder=(kind == "string_list").then_some("One item per line")
                prop:value=draft
                on:input=move |ev| set(event_target_value(&ev))
                on:keydown=keys
            ></textarea>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn editor(name: &str, kind: &str, required: bool) -> FieldEditor {
        FieldEditor {
            name: name.to_string(),
            kind: kind.to_string(),
            options: Vec::new(),
            required,
        }
    }

    #[test]
    fn each_kind_of_answer_becomes_editable_text() {
        assert_eq!(draft_text("string", Some(&json!("hi"))), "hi");
        assert_eq!(draft_text("number", Some(&json!(2.5))), "2.5");
        assert_eq!(draft_text("boolean", Some(&json!(true))), "true");
        assert_eq!(draft_text("boolean", None), "false");
        assert_eq!(draft_text("string_list", Some(&json!(["a", "b"]))), "a\nb");
        assert_eq!(draft_text("integer", None), "");
    }

    #[test]
    fn the_drafts_make_the_whole_answer_keeping_what_was_not_edited() {
        let editors = [
            editor("score", "integer", true),
            editor("ratio", "number", false),
            editor("ok", "boolean", true),
            editor("tags", "string_list", true),
            editor("note", "string", false),
        ];
        let drafts = ["7", "", "true", "x\n\n y \n", ""].map(String::from);
        let base = json!({"score": 1, "ratio": 0.5, "extra": "kept"});
        assert_eq!(
            answer_from(&editors, &drafts, Some(&base)),
            json!({"score": 7, "ok": true, "tags": ["x", "y"], "extra": "kept"})
        );
    }

    #[test]
    fn a_number_that_does_not_parse_stays_text_for_the_schema_to_name() {
        let editors = [
            editor("score", "integer", true),
            editor("ratio", "number", true),
        ];
        let drafts = ["seven", "1,5"].map(String::from);
        assert_eq!(
            answer_from(&editors, &drafts, None),
            json!({"score": "seven", "ratio": "1,5"})
        );
    }

    #[test]
    fn a_digit_picks_the_option_at_that_place() {
        let options = ["pos", "neg", "neutral"].map(String::from);
        assert_eq!(option_for_digit(&options, "2").as_deref(), Some("neg"));
        assert_eq!(option_for_digit(&options, "4"), None);
        assert_eq!(option_for_digit(&options, "0"), None);
        assert_eq!(option_for_digit(&options, "a"), None);
    }
}
