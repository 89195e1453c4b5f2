//! The preview beside the templates: both messages rendered on one row exactly as the model will
//! receive them, for any of the first rows or any row fetched by number.

use leptos::prelude::*;
use rowbench_mapping::ColumnMapping;
use rowbench_recipe::{PromptDraft, render_prompt};

use crate::api::prompt::dataset_row;
use crate::api::upload::RowView;
use crate::text::capitalised;

#[component]
pub(super) fn PromptPreview(
    system: RwSignal<String>,
    user: RwSignal<String>,
    mapping: StoredValue<ColumnMapping>,
    /// The first rows, at hand without a request.
    sample: Vec<RowView>,
    row_count: i64,
) -> impl IntoView {
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

    view! {
        <div class="preview">
            <div class="preview__head">
                <h3 class="section-title">"Preview: what the model receives"</h3>
                <RowPicker shown row_count go_to />
            </div>
            {move || {
                row_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="field__error" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            {move || match preview() {
                None => view! { <p class="muted small">"Loading the row…"</p> }.into_any(),
                Some(Ok(messages)) => {
                    view! {
                        <p class="preview__label">"System"</p>
                        <pre class="preview__body" tabindex="0" data-testid="preview-system">
                            {messages.system}
                        </pre>
                        <p class="preview__label">"User"</p>
                        <pre class="preview__body" tabindex="0" data-testid="preview-user">
                            {messages.user}
                        </pre>
                    }
                        .into_any()
                }
                Some(Err((part, issue))) => {
                    view! {
                        <div class="alert alert--warning" role="status" data-testid="preview-error">
                            <strong class="alert__title">"This row cannot be previewed yet"</strong>
                            <div class="alert__body">
                                {format!(
                                    "{}, line {}, column {}: {}",
                                    capitalised(part.label()),
                                    issue.line,
                                    issue.column,
                                    issue.message,
                                )}
                            </div>
                        </div>
                    }
                        .into_any()
                }
            }}
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
            <label class="small muted" for="preview-row">
                "Row"
            </label>
            // Not a NumberInput: the page sets this box (Previous, Next), and a number counts
            // once it is complete, on change, not on every key.
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
