//! Step 4 of the wizard: the response schema, built field by field (or from a preset, or from a
//! pasted JSON Schema), with the generated JSON Schema beside it. Saved as it is edited.

mod field_editor;
mod presets;

use leptos::prelude::*;
use rowbench_schema::{FieldType, ResponseSchema, SchemaField};

use self::field_editor::FieldEditor;
use self::presets::{ImportSchema, Presets};
use crate::api::schema::{SaveSchema, draft_schema};
use crate::components::debounce::Debounced;
use crate::components::save_status::SaveStatus;
use crate::components::step_content::StepContent;
use crate::components::step_frame::StepFrame;
use crate::text::sentence;
use crate::wizard_step::WizardStep;

#[component]
pub fn SchemaStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_schema());
    view! {
        <StepFrame step=WizardStep::Schema>
            <StepContent
                page
                loading="Loading your fields…"
                show=|schema| view! { <SchemaBuilder schema /> }
            />
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

/// The schema being edited; a change is saved once typing pauses.
#[derive(Clone, Copy)]
struct SchemaEdits {
    schema: RwSignal<ResponseSchema>,
    saver: Debounced,
}

impl SchemaEdits {
    fn change(self, f: impl FnOnce(&mut ResponseSchema)) {
        self.schema.update(f);
        self.saver.trigger();
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
    let edits = SchemaEdits { schema, saver };
    let focus_field = RwSignal::new(None::<usize>);

    let add = move |_| {
        edits.change(|s| {
            let field = new_field(s);
            s.fields.push(field);
        });
        focus_field.set(Some(schema.with_untracked(|s| s.fields.len() - 1)));
    };
    let move_field = move |from: usize, to: usize| {
        edits.change(|s| {
            if from < s.fields.len() && to < s.fields.len() {
                s.fields.swap(from, to);
            }
        });
    };
    let remove = move |position: usize| {
        let field = schema.with_untracked(|s| s.fields.get(position).cloned());
        if let Some(field) = field {
            edits.change(|s| {
                s.fields.remove(position);
            });
            removed.set(Some(Removed { position, field }));
        }
    };
    let undo = move |_| {
        if let Some(Removed { position, field }) = removed.get_untracked() {
            edits.change(|s| {
                let at = position.min(s.fields.len());
                s.fields.insert(at, field);
            });
            removed.set(None);
        }
    };

    // A memo, not a closure: the list below is rebuilt only when a field comes or goes. Read as
    // a closure, every key typed into any field rebuilt every editor and took the focus away.
    let field_count = Memo::new(move |_| schema.with(|s| s.fields.len()));
    view! {
        <Presets
            schema
            on_pick=move || {
                removed.set(None);
                saver.fire_now();
            }
        />
        <div class="split">
            <div class="split__main">
                <div class="fields" data-testid="fields">
                    {move || {
                        (0..field_count.get())
                            .map(|position| {
                                view! {
                                    <FieldEditor
                                        position
                                        edits
                                        problems
                                        focus_field
                                        move_field
                                        remove
                                    />
                                }
                            })
                            .collect_view()
                    }}
                    {move || {
                        (field_count.get() == 0)
                            .then(|| {
                                view! {
                                    <div class="fields__empty">
                                        <p class="strong">"No fields yet"</p>
                                        <p class="small muted">
                                            "Add the fields the model must fill in for every row, or start from a preset above."
                                        </p>
                                    </div>
                                }
                            })
                    }}
                </div>
                {move || {
                    removed
                        .get()
                        .map(|r| {
                            view! {
                                <div class="undo-bar" role="status">
                                    <span>{format!("Removed field \"{}\".", r.field.name)}</span>
                                    <button
                                        type="button"
                                        class="btn btn--ghost btn--sm"
                                        on:click=undo
                                    >
                                        "Undo"
                                    </button>
                                </div>
                            }
                        })
                }}
                <div class="row-actions">
                    <button
                        type="button"
                        class="btn btn--secondary"
                        on:click=add
                        data-testid="add-field"
                    >
                        "+ Add field"
                    </button>
                    <span class="spacer"></span>
                    <SaveStatus
                        saving=Signal::derive(move || saver.waiting().get() || save.pending().get())
                        last=save.value()
                        saved="All changes saved."
                        idle="Changes are saved as you make them."
                    />
                </div>
                {move || {
                    problems
                        .with(|p| p.schema.first().map(ToString::to_string))
                        .map(|message| view! { <p class="small muted">{sentence(&message)}</p> })
                }}
                <ImportSchema
                    schema
                    on_import=move || {
                        removed.set(None);
                        saver.fire_now();
                    }
                />
            </div>
            <aside class="split__side">
                <div class="preview">
                    <div class="preview__head">
                        <h3 class="section-title">"JSON Schema the model must answer with"</h3>
                        <CopyButton text=json />
                    </div>
                    <pre
                        class="preview__body preview__body--code"
                        tabindex="0"
                        data-testid="json-schema"
                    >
                        {move || json.get()}
                    </pre>
                    <p class="small muted">
                        "Draft 2020-12. Every answer is checked against it; descriptions guide the model."
                    </p>
                </div>
            </aside>
        </div>
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
