//! Step 4 of the wizard: the response schema, built field by field (or from a preset, or from a
//! pasted JSON Schema), with the generated JSON Schema beside it. Saved as it is edited.

use leptos::prelude::*;
use rowbench_schema::{FieldType, ResponseSchema, SchemaField};

use crate::api::schema::{SaveSchema, draft_schema};
use crate::components::debounce::Debounced;
use crate::components::notice::ErrorNotice;
use crate::components::step_frame::StepFrame;
use crate::text::sentence;
use crate::wizard_step::WizardStep;

#[component]
pub fn SchemaStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_schema());
    view! {
        <StepFrame step=WizardStep::Schema>
            <Suspense fallback=|| view! { <p class="muted">"Loading your fields…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        Ok(schema) => view! { <SchemaBuilder schema /> }.into_any(),
                    }
                })}
            </Suspense>
        </StepFrame>
    }
}

/// A field the user removed, kept until the next removal so it can be put back.
#[derive(Clone)]
struct Removed {
    position: usize,
    field: SchemaField,
}

fn new_field(schema: &ResponseSchema) -> SchemaField {
    // A free name, so a new field never starts out as a duplicate.
    let name = (1..)
        .map(|n| format!("field_{n}"))
        .find(|candidate| schema.fields.iter().all(|f| &f.name != candidate))
        .unwrap_or_default();
    SchemaField {
        name,
        kind: FieldType::String,
        description: String::new(),
        required: true,
    }
}

#[component]
fn SchemaBuilder(schema: ResponseSchema) -> impl IntoView {
    let schema = RwSignal::new(schema);
    let removed: RwSignal<Option<Removed>> = RwSignal::new(None);
    let problems = Memo::new(move |_| schema.with(ResponseSchema::problems));
    let json = Memo::new(move |_| {
        schema.with(|s| serde_json::to_string_pretty(&s.to_json_schema()).unwrap_or_default())
    });

    let save = ServerAction::<SaveSchema>::new();
    let saver = Debounced::new(300, move || {
        save.dispatch(SaveSchema {
            schema: schema.get_untracked(),
        });
    });
    let change = move |f: &dyn Fn(&mut ResponseSchema)| {
        schema.update(|s| f(s));
        saver.trigger();
    };
    let focus_field = RwSignal::new(None::<usize>);

    let add = move |_| {
        change(&|s| {
            let field = new_field(s);
            s.fields.push(field);
        });
        focus_field.set(Some(schema.with_untracked(|s| s.fields.len() - 1)));
    };
    let move_field = move |from: usize, to: usize| {
        change(&|s| {
            if from < s.fields.len() && to < s.fields.len() {
                s.fields.swap(from, to);
            }
        });
    };
    let remove = move |position: usize| {
        let field = schema.with_untracked(|s| s.fields.get(position).cloned());
        if let Some(field) = field {
            change(&|s| {
                s.fields.remove(position);
            });
            removed.set(Some(Removed { position, field }));
        }
    };
    let undo = move |_| {
        if let Some(Removed { position, field }) = removed.get_untracked() {
            change(&|s| {
                let at = position.min(s.fields.len());
                s.fields.insert(at, field.clone());
            });
            removed.set(None);
        }
    };

    // A memo, not a closure: the list below is rebuilt only when a field comes or goes. Read as
    // a closure, every key typed into any field rebuilt every editor and took the focus away.
    let field_count = Memo::new(move |_| schema.with(|s| s.fields.len()));
    view! {
        <Presets schema on_pick=move || { removed.set(None); saver.fire_now(); } />
        <div class="split">
            <div class="split__main">
                <div class="fields" data-testid="fields">
                    {move || {
                        (0..field_count.get())
                            .map(|position| {
                                view! {
                                    <FieldEditor
                                        position
                                        schema
                                        problems
                                        focus_field
                                        change
                                        move_field
                                        remove
                                    />
                                }
                            })
                            .collect_view()
                    }}
                    {move || (field_count.get() == 0).then(|| view! {
                        <div class="fields__empty">
                            <p class="strong">"No fields yet"</p>
                            <p class="small muted">"Add the fields the model must fill in for every row, or start from a preset above."</p>
                        </div>
                    })}
                </div>
                {move || {
                    removed
                        .get()
                        .map(|r| {
                            view! {
                                <div class="undo-bar" role="status">
                                    <span>{format!("Removed field \"{}\".", r.field.name)}</span>
                                    <button type="button" class="btn btn--ghost btn--sm" on:click=undo>"Undo"</button>
                                </div>
                            }
                        })
                }}
                <div class="row-actions">
                    <button type="button" class="btn btn--secondary" on:click=add data-testid="add-field">
                        "+ Add field"
                    </button>
                    <span class="spacer"></span>
                    <span class="small muted" role="status" data-testid="save-status">
                        {move || match (saver.waiting().get() || save.pending().get(), save.value().get()) {
                            (true, _) => "Saving…".to_string(),
                            (false, Some(Err(error))) => error.to_string(),
                            (false, Some(Ok(()))) => "All changes saved.".to_string(),
                            (false, None) => "Changes are saved as you make them.".to_string(),
                        }}
                    </span>
                </div>
                {move || {
                    problems
                        .with(|p| p.schema.first().map(ToString::to_string))
                        .map(|message| view! { <p class="small muted">{sentence(&message)}</p> })
                }}
                <ImportSchema schema on_import=move || { removed.set(None); saver.fire_now(); } />
            </div>
            <aside class="split__side">
                <div class="preview">
                    <div class="preview__head">
                        <h3 class="section-title">"JSON Schema the model must answer with"</h3>
                        <CopyButton text=json />
                    </div>
                    <pre class="preview__body preview__body--code" tabindex="0" data-testid="json-schema">{move || json.get()}</pre>
                    <p class="small muted">"Draft 2020-12. Every answer is checked against it; descriptions guide the model."</p>
                </div>
            </aside>
        </div>
    }
}

/// One field's name, type, options, description and required switch, with its move and remove
/// buttons. Alt+↑ and Alt+↓ move it from the keyboard.
#[component]
fn FieldEditor(
    position: usize,
    schema: RwSignal<ResponseSchema>,
    problems: Memo<rowbench_schema::SchemaErrors>,
    focus_field: RwSignal<Option<usize>>,
    change: impl Fn(&dyn Fn(&mut ResponseSchema)) + Copy + Send + Sync + 'static,
    move_field: impl Fn(usize, usize) + Copy + Send + Sync + 'static,
    remove: impl Fn(usize) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let field = move || schema.with(|s| s.fields.get(position).cloned());
    let count = move || schema.with(|s| s.fields.len());
    let problem = move || problems.with(|p| p.for_field(position).first().map(|x| x.to_string()));
    // Only a change of type rebuilds the options box: rebuilding it on every key would lose focus.
    let is_enum = Memo::new(move |_| {
        schema.with(|s| {
            matches!(
                s.fields.get(position).map(|f| &f.kind),
                Some(FieldType::Enum { .. })
            )
        })
    });
    let name_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if focus_field.get() == Some(position)
            && let Some(input) = name_ref.get()
        {
            focus_field.set(None);
            // Selected once the new field's name is in the box (the value is set after this
            // runs), so the first key typed replaces the default name.
            request_animation_frame(move || {
                let _ = input.focus();
                input.select();
            });
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if !ev.alt_key() {
            return;
        }
        match ev.key().as_str() {
            "ArrowUp" if position > 0 => {
                ev.prevent_default();
                move_field(position, position - 1);
                focus_field.set(Some(position - 1));
            }
            "ArrowDown" if position + 1 < count() => {
                ev.prevent_default();
                move_field(position, position + 1);
                focus_field.set(Some(position + 1));
            }
            _ => {}
        }
    };
    let id = move |what: &str| format!("field-{position}-{what}");
    view! {
        <fieldset class="field-card" class:has-error=move || problem().is_some() on:keydown=on_keydown data-testid="field">
            <legend class="visually-hidden">{move || format!("Field {}", position + 1)}</legend>
            <div class="field-card__row">
                <span class="field-card__num" aria-hidden="true">{position + 1}</span>
                <div class="field field--grow">
                    <label class="field__label" for=id("name")>"Name"</label>
                    <input
                        id=id("name")
                        node_ref=name_ref
                        class="input input--mono"
                        aria-invalid=move || problem().is_some().to_string()
                        prop:value=move || field().map(|f| f.name).unwrap_or_default()
                        on:input=move |ev| {
                            let name = event_target_value(&ev);
                            change(&|s| if let Some(f) = s.fields.get_mut(position) { f.name = name.clone() });
                        }
                    />
                </div>
                <div class="field">
                    <label class="field__label" for=id("type")>"Type"</label>
                    <select
                        id=id("type")
                        class="select"
                        prop:value=move || field().map(|f| f.kind.kind_id()).unwrap_or_default()
                        on:change=move |ev| {
                            let kind = event_target_value(&ev);
                            change(&|s| {
                                if let Some(f) = s.fields.get_mut(position)
                                    && let Some(new_kind) = FieldType::from_kind_id(&kind)
                                {
                                    // Switching to a list of options keeps any options typed before.
                                    if !matches!((&f.kind, &new_kind), (FieldType::Enum { .. }, FieldType::Enum { .. })) {
                                        f.kind = new_kind;
                                    }
                                }
                            });
                        }
                    >
                        {FieldType::all()
                            .into_iter()
                            .map(|kind| view! { <option value=kind.kind_id()>{kind.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <label class="checkbox field-card__required">
                    <input
                        type="checkbox"
                        prop:checked=move || field().is_some_and(|f| f.required)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            change(&|s| if let Some(f) = s.fields.get_mut(position) { f.required = on });
                        }
                    />
                    "Required"
                </label>
                <div class="field-card__tools">
                    <button
                        type="button"
                        class="btn btn--ghost btn--icon"
                        title="Move up (Alt+↑)"
                        aria-label=move || format!("Move field {} up", position + 1)
                        disabled=move || position == 0
                        on:click=move |_| move_field(position, position - 1)
                    >
                        "↑"
                    </button>
                    <button
                        type="button"
                        class="btn btn--ghost btn--icon"
                        title="Move down (Alt+↓)"
                        aria-label=move || format!("Move field {} down", position + 1)
                        disabled=move || { position + 1 >= count() }
                        on:click=move |_| move_field(position, position + 1)
                    >
                        "↓"
                    </button>
                    <button
                        type="button"
                        class="btn btn--ghost btn--icon btn--danger-text"
                        aria-label=move || format!("Remove field {}", position + 1)
                        title="Remove"
                        on:click=move |_| remove(position)
                    >
                        "✕"
                    </button>
                </div>
            </div>
            {move || {
                is_enum
                    .get()
                    .then(|| {
                        view! {
                            <div class="field">
                                <label class="field__label" for=id("options")>"Options (one per line)"</label>
                                <textarea
                                    id=id("options")
                                    class="textarea textarea--code"
                                    rows=3
                                    prop:value=move || {
                                        field()
                                            .map(|f| match f.kind {
                                                FieldType::Enum { options } => options.join("\n"),
                                                _ => String::new(),
                                            })
                                            .unwrap_or_default()
                                    }
                                    on:input=move |ev| {
                                        let text = event_target_value(&ev);
                                        let options: Vec<String> = text.split('\n').map(str::to_string).collect();
                                        change(&|s| if let Some(f) = s.fields.get_mut(position) {
                                            f.kind = FieldType::Enum { options: options.clone() };
                                        });
                                    }
                                ></textarea>
                            </div>
                        }
                    })
            }}
            <div class="field">
                <label class="field__label" for=id("description")>"Description " <span class="muted">"(tells the model what to put here)"</span></label>
                <input
                    id=id("description")
                    class="input"
                    prop:value=move || field().map(|f| f.description).unwrap_or_default()
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        change(&|s| if let Some(f) = s.fields.get_mut(position) { f.description = text.clone() });
                    }
                />
            </div>
            {move || problem().map(|p| view! { <p class="field__error" role="alert">{sentence(&p)}</p> })}
        </fieldset>
    }
}

/// Replaces the fields with one of the presets.
#[component]
fn Presets(
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
fn ImportSchema(
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
                <label class="field__label" for="import-schema">"JSON Schema (an object with properties)"</label>
                <textarea
                    id="import-schema"
                    class="textarea textarea--code"
                    rows=8
                    spellcheck="false"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
                {move || error.get().map(|e| view! { <p class="field__error" role="alert" data-testid="import-error">{e}</p> })}
            </div>
            <button type="button" class="btn btn--secondary" on:click=import disabled=move || text.with(|t| t.trim().is_empty())>
                "Replace the fields with this schema"
            </button>
        </details>
    }
}

/// Copies `text` to the clipboard and says so.
#[component]
fn CopyButton(text: Memo<String>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            if let Some(window) = web_sys::window() {
                let _ = window
                    .navigator()
                    .clipboard()
                    .write_text(&text.get_untracked());
                copied.set(true);
                set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    view! {
        <button type="button" class="btn btn--ghost btn--sm" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
