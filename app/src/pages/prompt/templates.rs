//! The two templates' text areas, each with its problems listed under it, and the names a
//! template may use, which a click puts where the user was typing.

use leptos::prelude::*;
use leptos_router::components::A;
use rowbench_recipe::PromptPart;
use rowbench_template::{AvailableNames, TemplateIssue};

/// The id of `part`'s text area, where an inserted name goes.
pub(super) fn area_id(part: PromptPart) -> &'static str {
    match part {
        PromptPart::System => "system-prompt",
        PromptPart::User => "user-template",
    }
}

/// One template's text area with its problems listed under it.
#[component]
pub(super) fn TemplateField(
    part: PromptPart,
    value: RwSignal<String>,
    /// The problems of both templates, system then user.
    issues: Memo<(Vec<TemplateIssue>, Vec<TemplateIssue>)>,
    on_edit: impl Fn(PromptPart, String) + Copy + Send + Sync + 'static,
    /// The template the user was last typing in.
    last_part: RwSignal<Option<PromptPart>>,
) -> impl IntoView {
    let (label, help, rows) = match part {
        PromptPart::System => (
            "System prompt",
            "The standing instructions, the same for every row.",
            7,
        ),
        PromptPart::User => (
            "User message",
            "Sent once per row; {{ name }} is replaced by that row's value.",
            9,
        ),
    };
    let issues = Signal::derive(move || {
        issues.with(|(system, user)| match part {
            PromptPart::System => system.clone(),
            PromptPart::User => user.clone(),
        })
    });
    let id = area_id(part);
    let help_id = format!("{id}-help");
    view! {
        <div class="field">
            <label class="field__label" for=id>
                {label}
            </label>
            <textarea
                id=id
                class="textarea textarea--code"
                rows=rows
                spellcheck="false"
                aria-describedby=help_id.clone()
                aria-invalid=move || (!issues.with(Vec::is_empty)).to_string()
                prop:value=move || value.get()
                on:input=move |ev| on_edit(part, event_target_value(&ev))
                on:focus=move |_| last_part.set(Some(part))
            ></textarea>
            <p class="field__help" id=help_id>
                {help}
            </p>
            <ul class="issues" data-testid=format!("{id}-issues")>
                {move || {
                    issues
                        .get()
                        .into_iter()
                        .map(|issue| {
                            view! {
                                <li class="issues__item" role="alert">
                                    <span class="issues__where">
                                        {format!("Line {}, column {}", issue.line, issue.column)}
                                    </span>
                                    " "
                                    // The message names the closest available name when there is one.
                                    {issue.message.clone()}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The names a template may use, to copy from.
#[component]
pub(super) fn AvailableList(
    names: AvailableNames,
    on_insert: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let variables = rowbench_template::available_variables(&names);
    view! {
        <div class="available">
            <p class="field__label">"Available names"</p>
            <p class="small muted">"Click a name to put it where you were typing."</p>
            {if variables.is_empty() {
                view! {
                    <p class="small muted">
                        "No column is included or sent as a parameter. "
                        <A href="/new/columns">"Map columns"</A>
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="chips" data-testid="available-names">
                        {variables
                            .into_iter()
                            .map(|v| {
                                let text = format!("{{{{ {v} }}}}");
                                let inserted = text.clone();
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="chip chip--code chip--button"
                                            title=format!("Insert {text}")
                                            on:click=move |_| on_insert(inserted.clone())
                                        >
                                            <code>{text.clone()}</code>
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            <p class="small muted">
                "Filters work too, e.g. " <code>"{{ title | upper }}"</code> ", "
                <code>"{{ body | truncate(500) }}"</code> ", "
                <code>"{{ note | default(\"none\") }}"</code> "."
            </p>
        </div>
    }
}
