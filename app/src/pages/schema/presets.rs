//! The other ways to fill the fields: a preset, or a pasted JSON Schema.

use leptos::prelude::*;
use rowbench_schema::ResponseSchema;

/// Replaces the fields with one of the presets.
#[component]
pub(super) fn Presets(
    schema: RwSignal<ResponseSchema>,
    on_pick: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let presets = rowbench_schema::presets();
    view! {
        <div class="presets">
            <span class="small muted">"Start from a preset:"</span>
            {presets
                .into_iter()
                .map(|preset| {
                    let picked = preset.schema.clone();
                    view! {
                        <button
                            type="button"
                            class="btn btn--ghost btn--sm"
                            title=preset.description
                            on:click=move |_| {
                                schema.set(picked.clone());
                                on_pick();
                            }
                        >
                            {preset.label}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// Pasting a JSON Schema in: its fields replace the current ones, or the page says what it
/// cannot use.
#[component]
pub(super) fn ImportSchema(
    schema: RwSignal<ResponseSchema>,
    on_import: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let import = move |_| match ResponseSchema::from_json_schema_text(&text.get_untracked()) {
        Ok(imported) => {
            schema.set(imported);
            error.set(None);
            text.set(String::new());
            on_import();
        }
        Err(e) => error.set(Some(e.to_string())),
    };
    view! {
        <details class="import">
            <summary>"Paste a JSON Schema instead"</summary>
            <div class="field">
                <label class="field__label" for="import-schema">
                    "JSON Schema (an object with properties)"
                </label>
                <textarea
                    id="import-schema"
                    class="textarea textarea--code"
                    rows=8
                    spellcheck="false"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
                {move || {
                    error
                        .get()
                        .map(|e| {
                            view! {
                                <p class="field__error" role="alert" data-testid="import-error">
                                    {e}
                                </p>
                            }
                        })
                }}
            </div>
            <button
                type="button"
                class="btn btn--secondary"
                on:click=import
                disabled=move || text.with(|t| t.trim().is_empty())
            >
                "Replace the fields with this schema"
            </button>
        </details>
    }
}
