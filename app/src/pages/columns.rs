//! Step 2 of the wizard: for each column, ignore it, include it in the prompt, or send it as a
//! system parameter; mark key columns; see the result on a real row. Saved as it is edited.

mod column_table;
mod example;

use leptos::prelude::*;
use leptos_router::components::A;
use rowbench_mapping::{ColumnMapping, Role};
use rowbench_recipe::estimate::human_count;

use self::column_table::ColumnTable;
use self::example::MappingExample;
use crate::api::columns::{MappingPage, SaveMapping, draft_mapping};
use crate::components::notice::{Notice, Tone};
use crate::components::save_status::SaveStatus;
use crate::components::step_content::StepContent;
use crate::components::step_frame::StepFrame;
use crate::wizard_step::WizardStep;

#[component]
pub fn ColumnsStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_mapping());
    view! {
        <StepFrame step=WizardStep::Columns>
            <StepContent
                page
                loading="Loading your columns…"
                show=|page| match page {
                    None => {
                        view! {
                            <Notice tone=Tone::Info title="Upload a file first".to_string()>
                                "The columns come from your CSV. "
                                <A href="/new/upload">"Go to Upload"</A>
                            </Notice>
                        }
                            .into_any()
                    }
                    Some(page) => view! { <MappingEditor page /> }.into_any(),
                }
            />
        </StepFrame>
    }
}

/// The mapping being edited; the editor saves every valid change.
#[derive(Clone, Copy)]
struct MappingEdits {
    mapping: RwSignal<ColumnMapping>,
    /// Set by the first edit: loading the page is not a change to save.
    edited: RwSignal<bool>,
}

impl MappingEdits {
    fn change(self, f: impl FnOnce(&mut ColumnMapping)) {
        self.edited.set(true);
        self.mapping.update(f);
    }
}

#[component]
fn MappingEditor(page: MappingPage) -> impl IntoView {
    let MappingPage {
        dataset,
        mapping,
        tokens,
        fields,
    } = page;
    let tokens = StoredValue::new(tokens);
    let mapping = RwSignal::new(mapping);
    let problems = Memo::new(move |_| mapping.with(ColumnMapping::validate).err());
    let save = ServerAction::<SaveMapping>::new();
    let edits = MappingEdits {
        mapping,
        edited: RwSignal::new(false),
    };
    // Save every valid edit; the first run (hydration) has nothing new to save.
    Effect::new(move |_| {
        let current = mapping.get();
        if edits.edited.get_untracked() && current.validate().is_ok() {
            save.dispatch(SaveMapping { mapping: current });
        }
    });

    view! {
        <BulkRoles edits />
        <SentTokens mapping tokens />
        <ColumnTable columns=dataset.columns tokens edits problems fields />
        {move || {
            problems
                .with(|p| p.as_ref().and_then(|p| p.mapping.first().map(ToString::to_string)))
                .map(|message| {
                    view! {
                        <Notice tone=Tone::Danger title="Nothing to send".to_string()>
                            {message}
                        </Notice>
                    }
                })
        }}
        <SaveStatus
            paragraph=true
            held=Signal::derive(move || {
                problems
                    .with(Option::is_some)
                    .then(|| "Not saved: fix the problem shown above.".to_string())
            })
            saving=save.pending()
            last=save.value()
            saved="Saved."
            idle="Changes are saved as you make them."
        />
        <MappingExample mapping rows=dataset.preview />
    }
}

/// Every column at once: a user who wants all of them sent (or to start from none) need not
/// change each select.
#[component]
fn BulkRoles(edits: MappingEdits) -> impl IntoView {
    let set_all = move |role: Role| {
        edits.change(|m| {
            for column in &mut m.columns {
                column.role = role.clone();
            }
        })
    };
    view! {
        <div class="row-actions mapping__bulk">
            <span class="small muted">
                "Text columns go to the model at first; ids, labels, numbers and dates stay out."
            </span>
            <span class="spacer"></span>
            <button
                type="button"
                class="btn btn--ghost btn--sm"
                on:click=move |_| set_all(Role::Include)
            >
                "Include all"
            </button>
            <button
                type="button"
                class="btn btn--ghost btn--sm"
                on:click=move |_| set_all(Role::Ignore)
            >
                "Ignore all"
            </button>
        </div>
    }
}

/// What the sent columns cost a row, before the prompt's own words.
#[component]
fn SentTokens(mapping: RwSignal<ColumnMapping>, tokens: StoredValue<Vec<f64>>) -> impl IntoView {
    let sent = Memo::new(move |_| {
        mapping.with(|m| {
            let sent: Vec<usize> = m
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| !matches!(c.role, Role::Ignore))
                .map(|(i, _)| i)
                .collect();
            let cost: f64 = tokens.with_value(|t| sent.iter().filter_map(|&i| t.get(i)).sum());
            (sent.len(), m.columns.len(), cost)
        })
    });
    view! {
        <p class="small strong mapping__sent" data-testid="sent-tokens" aria-live="polite">
            {move || {
                let (sent, of, cost) = sent.get();
                format!(
                    "Sent: {sent} of {of} columns, ≈ {} tokens a row",
                    human_count(cost.round() as u64),
                )
            }}
        </p>
    }
}
