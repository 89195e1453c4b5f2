//! One field of the response schema in its card: name, type, required, the options of a list,
//! the description, and the buttons that move or remove it (Alt+↑ and Alt+↓ move it too).

use leptos::prelude::*;
use rowbench_schema::{FieldType, SchemaErrors, SchemaField};

use super::SchemaEdits;
use crate::text::sentence;

/// The field at `position` of the schema being edited.
#[derive(Clone, Copy)]
struct FieldAt {
    position: usize,
    edits: SchemaEdits,
}

impl FieldAt {
    fn get(self) -> Option<SchemaField> {
        self.edits
            .schema
            .with(|s| s.fields.get(self.position).cloned())
    }

    fn edit(self, f: impl FnOnce(&mut SchemaField)) {
        self.edits.change(|s| {
            if let Some(field) = s.fields.get_mut(self.position) {
                f(field);
            }
        });
    }

    /// The id of one of the field's inputs, e.g. `field-0-name`.
    fn id(self, what: &str) -> String {
        format!("field-{}-{what}", self.position)
    }
}

#[component]
pub(super) fn FieldEditor(
    position: usize,
    edits: SchemaEdits,
    problems: Memo<SchemaErrors>,
    /// The field whose name box takes the focus next (a new or moved field).
    focus_field: RwSignal<Option<usize>>,
    move_field: impl Fn(usize, usize) + Copy + Send + Sync + 'static,
    remove: impl Fn(usize) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let field = FieldAt { position, edits };
    let schema = edits.schema;
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
    view! {
        <fieldset
            class="field-card"
            class:has-error=move || problem().is_some()
            on:keydown=on_keydown
            data-testid="field"
        >
            <legend class="visually-hidden">{move || format!("Field {}", position + 1)}</legend>
            <div class="field-card__row">
                <span class="field-card__num" aria-hidden="true">
                    {position + 1}
                </span>
                <FieldName field focus_field invalid=Signal::derive(move || problem().is_some()) />
                <KindPicker field />
                <RequiredBox field />
                <FieldTools position count=Signal::derive(count) move_field remove />
            </div>
            {move || is_enum.get().then(|| view! { <EnumOptions field /> })}
            <FieldDescription field />
            {move || {
                problem()
                    .map(|p| {
                        view! {
                            <p class="field__error" role="alert">
                                {sentence(&p)}
                            </p>
                        }
                    })
            }}
        </fieldset>
    }
}

/// The name box, which takes the focus (its text selected) when the field is new or moved.
#[component]
fn FieldName(
    field: FieldAt,
    focus_field: RwSignal<Option<usize>>,
    invalid: Signal<bool>,
) -> impl IntoView {
    let name_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if focus_field.get() == Some(field.position)
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
    view! {
        <div class="field field--grow">
            <label class="field__label" for=field.id("name")>
                "Name"
            </label>
            <input
                id=field.id("name")
                node_ref=name_ref
                class="input input--mono"
                aria-invalid=move || invalid.get().to_string()
                prop:value=move || field.get().map(|f| f.name).unwrap_or_default()
                on:input=move |ev| {
                    let name = event_target_value(&ev);
                    field.edit(|f| f.name = name);
                }
            />
        </div>
    }
}

/// The type of the field's value.
#[component]
fn KindPicker(field: FieldAt) -> impl IntoView {
    view! {
        <div class="field">
            <label class="field__label" for=field.id("type")>
                "Type"
            </label>
            <select
                id=field.id("type")
                class="select"
                prop:value=move || field.get().map(|f| f.kind.kind_id()).unwrap_or_default()
                on:change=move |ev| {
                    let kind = event_target_value(&ev);
                    field.edit(|f| change_kind(f, &kind));
                }
            >
                {FieldType::all()
                    .into_iter()
                    .map(|kind| view! { <option value=kind.kind_id()>{kind.label()}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}

#[component]
fn RequiredBox(field: FieldAt) -> impl IntoView {
    view! {
        <label class="checkbox field-card__required">
            <input
                type="checkbox"
                prop:checked=move || field.get().is_some_and(|f| f.required)
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    field.edit(|f| f.required = on);
                }
            />
            "Required"
        </label>
    }
}

/// Move up, move down and remove.
#[component]
fn FieldTools(
    position: usize,
    /// How many fields there are: the last one cannot move down.
    count: Signal<usize>,
    move_field: impl Fn(usize, usize) + Copy + Send + Sync + 'static,
    remove: impl Fn(usize) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
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
                disabled=move || { position + 1 >= count.get() }
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
    }
}

/// The options of a "one of a list" field, one per line.
#[component]
fn EnumOptions(field: FieldAt) -> impl IntoView {
    view! {
        <div class="field">
            <label class="field__label" for=field.id("options")>
                "Options (one per line)"
            </label>
            <textarea
                id=field.id("options")
                class="textarea textarea--code"
                rows=3
                prop:value=move || {
                    field
                        .get()
                        .map(|f| match f.kind {
                            FieldType::Enum { options } => options.join("\n"),
                            _ => String::new(),
                        })
                        .unwrap_or_default()
                }
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    let options: Vec<String> = text.split('\n').map(str::to_string).collect();
                    field.edit(|f| f.kind = FieldType::Enum { options });
                }
            ></textarea>
        </div>
    }
}

#[component]
fn FieldDescription(field: FieldAt) -> impl IntoView {
    view! {
        <div class="field">
            <label class="field__label" for=field.id("description")>
                "Description "
                <span class="muted">"(tells the model what to put here)"</span>
            </label>
            <input
                id=field.id("description")
                class="input"
                prop:value=move || field.get().map(|f| f.description).unwrap_or_default()
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    field.edit(|f| f.description = text);
                }
            />
        </div>
    }
}

/// Gives the field the type `kind_id` names. Switching to a list of options keeps any options
/// typed before.
fn change_kind(field: &mut SchemaField, kind_id: &str) {
    if let Some(new_kind) = FieldType::from_kind_id(kind_id)
        && !matches!(
            (&field.kind, &new_kind),
            (FieldType::Enum { .. }, FieldType::Enum { .. })
        )
    {
        field.kind = new_kind;
    }
}
