//! Step 3 of the wizard: the system prompt and the user-message template, checked as they are
//! typed, previewed on any row exactly as the model will receive them, and saved as they change.

use leptos::prelude::*;
use leptos_router::components::A;
use rowbench_recipe::{PromptDraft, PromptPart, available_names, render_prompt};
use rowbench_template::{AvailableNames, TemplateIssue};

use crate::api::datasets::RowView;
use crate::api::prompt::{PromptPage, SavePrompt, dataset_row, draft_prompt};
use crate::components::debounce::Debounced;
use crate::components::insert::{focus_at, insert_at, selection};
use crate::components::notice::{ErrorNotice, Notice, Tone};
use crate::components::step_frame::StepFrame;
use crate::text::capitalised;
use crate::wizard_step::WizardStep;

#[component]
pub fn PromptStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_prompt());
    view! {
        <StepFrame step=WizardStep::Prompt>
            <Suspense fallback=|| view! { <p class="muted">"Loading your prompt…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        Ok(None) => view! { <UploadFirst /> }.into_any(),
                        Ok(Some(page)) => view! { <PromptEditor page /> }.into_any(),
                    }
                })}
            </Suspense>
        </StepFrame>
    }
}

/// Shown by the steps that need a file when none was uploaded yet.
#[component]
pub fn UploadFirst() -> impl IntoView {
    view! {
        <Notice tone=Tone::Info title="Upload a file first".to_string()>
            "This step works on the columns of your CSV. "
            <A href="/new/upload">"Go to Upload"</A>
        </Notice>
    }
}

#[component]
fn PromptEditor(page: PromptPage) -> impl IntoView {
    let PromptPage {
        mapping,
        prompt,
        generated,
        row_count,
        sample,
    } = page;
    let names = available_names(&mapping);
    let default_prompt = PromptDraft::default_for(&mapping);
    let mapping = StoredValue::new(mapping);
    let system = RwSignal::new(prompt.system);
    let user = RwSignal::new(prompt.user);

    let save = ServerAction::<SavePrompt>::new();
    let saver = Debounced::new(400, move || {
        save.dispatch(SavePrompt {
            prompt: PromptDraft {
                system: system.get_untracked(),
                user: user.get_untracked(),
            },
        });
    });
    // A generated default is saved at once, so the draft holds the prompt the user sees.
    if generated {
        Effect::new(move |first: Option<()>| {
            if first.is_none() {
                saver.fire_now();
            }
        });
    }

    let names_for_unused = names.clone();
    let unused = Memo::new(move |_| {
        rowbench_template::unused_params(&[&system.get(), &user.get()], &names_for_unused)
    });
    let names_for_issues = names.clone();
    let issues = Memo::new(move |_| {
        let system_issues = rowbench_template::check(&system.get(), &names_for_issues);
        let user_issues = rowbench_template::check(&user.get(), &names_for_issues);
        (system_issues, user_issues)
    });

    // The row shown in the preview: one of the first rows, or any row fetched by number.
    let sample_len = sample.len();
    let sample = StoredValue::new(sample);
    let shown = RwSignal::new(0i64);
    let fetched: RwSignal<Option<RowView>> = RwSignal::new(None);
    let row_error: RwSignal<Option<String>> = RwSignal::new(None);
    let go_to = move |index: i64| {
        let index = index.clamp(0, (row_count - 1).max(0));
        shown.set(index);
        row_error.set(None);
        if usize::try_from(index).is_ok_and(|i| i < sample_len) {
            fetched.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            match dataset_row(index).await {
                Ok(row) => fetched.set(Some(row)),
                Err(error) => row_error.set(Some(error.to_string())),
            }
        });
    };
    let current_row = move || {
        let index = shown.get();
        usize::try_from(index)
            .ok()
            .and_then(|i| sample.with_value(|rows| rows.get(i).cloned()))
            .or_else(|| fetched.get().filter(|r| r.index == index))
    };
    let preview = move || {
        let row = current_row()?;
        let prompt = PromptDraft {
            system: system.get(),
            user: user.get(),
        };
        Some(mapping.with_value(|m| render_prompt(&prompt, m, &row.cells)))
    };

    let edited = move |part: PromptPart, value: String| {
        match part {
            PromptPart::System => system.set(value),
            PromptPart::User => user.set(value),
        }
        saver.trigger();
    };
    // A chip's name goes where the user was last typing (the user message at first).
    let last_part = RwSignal::new(None::<PromptPart>);
    let insert_name = move |name: String| {
        let part = last_part.get_untracked().unwrap_or(PromptPart::User);
        let (signal, id) = match part {
            PromptPart::System => (system, "system-prompt"),
            PromptPart::User => (user, "user-template"),
        };
        let current = signal.get_untracked();
        let end = current.encode_utf16().count() as u32;
        let (start, stop) = match last_part.get_untracked() {
            Some(_) => selection(id).unwrap_or((end, end)),
            None => (end, end),
        };
        let (text, caret) = insert_at(&current, start, stop, &name);
        edited(part, text);
        last_part.set(Some(part));
        focus_at(id, caret);
    };
    let restore_default = move |_| {
        system.set(default_prompt.system.clone());
        user.set(default_prompt.user.clone());
        saver.fire_now();
    };

    view! {
        <div class="split">
            <div class="split__main">
                <TemplateField
                    part=PromptPart::System
                    label="System prompt"
                    help="The standing instructions, the same for every row."
                    rows=7
                    value=system
                    issues=Signal::derive(move || issues.with(|(s, _)| s.clone()))
                    on_edit=edited
                    on_focus=move || last_part.set(Some(PromptPart::System))
                />
                <TemplateField
                    part=PromptPart::User
                    label="User message"
                    help="Sent once per row; {{ name }} is replaced by that row's value."
                    rows=9
                    value=user
                    issues=Signal::derive(move || issues.with(|(_, u)| u.clone()))
                    on_edit=edited
                    on_focus=move || last_part.set(Some(PromptPart::User))
                />
                <AvailableList names=names.clone() on_insert=insert_name />
                {move || {
                    let keys = unused.get();
                    (!keys.is_empty()).then(|| view! {
                        <div class="alert alert--warning" role="status" data-testid="unused-params">
                            <strong class="alert__title">{unused_title(&keys)}</strong>
                            <div class="alert__body">{unused_body(&keys)}</div>
                        </div>
                    })
                }}
                <div class="row-actions">
                    <button type="button" class="btn btn--ghost" on:click=restore_default>
                        "Restore the generated prompt"
                    </button>
                    <span class="spacer"></span>
                    <span class="small muted" role="status" data-testid="save-status">
                        {move || match (saver.waiting().get() || save.pending().get(), save.value().get()) {
                            (true, _) => "Saving…".to_string(),
                            (false, Some(Err(error))) => error.to_string(),
                            // Saved, but not a template that can run: never "all saved" alone.
                            (false, Some(Ok(()))) => match issues.with(|(s, u)| s.len() + u.len()) {
                                0 => "All changes saved.".to_string(),
                                1 => "Saved, but fix the problem shown before the batch can run.".to_string(),
                                n => format!("Saved, but fix the {n} problems shown before the batch can run."),
                            },
                            (false, None) => "Changes are saved as you type.".to_string(),
                        }}
                    </span>
                </div>
            </div>
            <aside class="split__side">
                <div class="preview">
                    <div class="preview__head">
                        <h3 class="section-title">"Preview: what the model receives"</h3>
                        <RowPicker shown row_count go_to />
                    </div>
                    {move || row_error.get().map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
                    {move || match preview() {
                        None => view! { <p class="muted small">"Loading the row…"</p> }.into_any(),
                        Some(Ok(messages)) => {
                            view! {
                                <p class="preview__label">"System"</p>
                                <pre class="preview__body" tabindex="0" data-testid="preview-system">{messages.system}</pre>
                                <p class="preview__label">"User"</p>
                                <pre class="preview__body" tabindex="0" data-testid="preview-user">{messages.user}</pre>
                            }
                                .into_any()
                        }
                        Some(Err((part, issue))) => {
                            view! {
                                <div class="alert alert--warning" role="status" data-testid="preview-error">
                                    <strong class="alert__title">"This row cannot be previewed yet"</strong>
                                    <div class="alert__body">
                                        {format!("{}, line {}, column {}: {}", capitalised(part.label()), issue.line, issue.column, issue.message)}
                                    </div>
                                </div>
                            }
                                .into_any()
                        }
                    }}
                </div>
            </aside>
        </div>
    }
}

/// "The model never sees the system parameter `language`" (or the parameters, listed).
fn unused_title(keys: &[String]) -> String {
    let listed: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match listed.as_slice() {
        [one] => format!("The model never sees the system parameter {one}"),
        many => format!(
            "The model never sees the system parameters {}",
            many.join(", ")
        ),
    }
}

/// What to do about unused system parameters: where to put them, or how to stop sending them.
fn unused_body(keys: &[String]) -> String {
    let first = keys.first().map_or("key", String::as_str);
    if keys.len() == 1 {
        format!(
            "No template reads it, so it goes nowhere. Write {{{{ system_params.{first} }}}} where the model should see it, or set its column to Ignore on Map columns."
        )
    } else {
        format!(
            "No template reads them, so they go nowhere. Write {{{{ system_params.{first} }}}} (and so on) where the model should see them, or set their columns to Ignore on Map columns."
        )
    }
}

#[cfg(test)]
mod unused_tests {
    use super::*;

    #[test]
    fn an_unused_parameter_is_named_with_what_to_write() {
        let keys = ["language".to_string()];
        assert_eq!(
            unused_title(&keys),
            "The model never sees the system parameter `language`"
        );
        assert!(
            unused_body(&keys)
                .contains("Write {{ system_params.language }} where the model should see it")
        );
        let two = ["a".to_string(), "b".to_string()];
        assert_eq!(
            unused_title(&two),
            "The model never sees the system parameters `a`, `b`"
        );
    }
}

/// One template's text area with its problems listed under it.
#[component]
fn TemplateField(
    part: PromptPart,
    label: &'static str,
    help: &'static str,
    rows: u32,
    value: RwSignal<String>,
    issues: Signal<Vec<TemplateIssue>>,
    on_edit: impl Fn(PromptPart, String) + Copy + Send + Sync + 'static,
    on_focus: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = match part {
        PromptPart::System => "system-prompt",
        PromptPart::User => "user-template",
    };
    let help_id = format!("{id}-help");
    view! {
        <div class="field">
            <label class="field__label" for=id>{label}</label>
            <textarea
                id=id
                class="textarea textarea--code"
                rows=rows
                spellcheck="false"
                aria-describedby=help_id.clone()
                aria-invalid=move || (!issues.with(Vec::is_empty)).to_string()
                prop:value=move || value.get()
                on:input=move |ev| on_edit(part, event_target_value(&ev))
                on:focus=move |_| on_focus()
            ></textarea>
            <p class="field__help" id=help_id>{help}</p>
            <ul class="issues" data-testid=format!("{id}-issues")>
                {move || {
                    issues
                        .get()
                        .into_iter()
                        .map(|issue| {
                            view! {
                                <li class="issues__item" role="alert">
                                    <span class="issues__where">{format!("Line {}, column {}", issue.line, issue.column)}</span>
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
fn AvailableList(
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
                                        <button type="button" class="chip chip--code chip--button"
                                            title=format!("Insert {text}") on:click=move |_| on_insert(inserted.clone())>
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
                <code>"{{ body | truncate(500) }}"</code> ", " <code>"{{ note | default(\"none\") }}"</code> "."
            </p>
        </div>
    }
}

/// Previous / next and a row number to jump to.
#[component]
fn RowPicker(
    shown: RwSignal<i64>,
    row_count: i64,
    go_to: impl Fn(i64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="row-picker">
            <button
                class="btn btn--ghost btn--sm"
                type="button"
                aria-label="Previous row"
                disabled=move || shown.get() == 0
                on:click=move |_| go_to(shown.get_untracked() - 1)
            >
                "←"
            </button>
            <label class="small muted" for="preview-row">"Row"</label>
            <input
                id="preview-row"
                class="input input--narrow"
                type="number"
                min="1"
                max=row_count
                prop:value=move || (shown.get() + 1).to_string()
                on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).trim().parse::<i64>() {
                        go_to(n - 1);
                    }
                }
            />
            <span class="small muted">{format!("of {row_count}")}</span>
            <button
                class="btn btn--ghost btn--sm"
                type="button"
                aria-label="Next row"
                disabled=move || { shown.get() + 1 >= row_count }
                on:click=move |_| go_to(shown.get_untracked() + 1)
            >
                "→"
            </button>
        </div>
    }
}
