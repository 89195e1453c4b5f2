//! Step 5 of the wizard: provider, model and run settings; the estimated tokens, cost and time,
//! recomputed as the user types; the connection check; what still blocks the start; Start batch
//! and Reset form.

mod actions;
mod blockers;
mod connection;
mod estimate;
mod model_picker;
mod run_settings;
mod saving;
mod summary;

use leptos::prelude::*;

use self::actions::StartFooter;
use self::blockers::{BlockerList, form_blockers};
use self::connection::{Connection, ConnectionCheck};
use self::estimate::{EstimatePanel, row_pace};
use self::model_picker::ModelPicker;
use self::run_settings::{RequestSettings, RowsAndErrors};
use self::saving::Edits;
use self::summary::ReviewSummary;
use crate::api::review::{ReviewPage, draft_review};
use crate::components::step_content::StepContent;
use crate::components::step_frame::StepFrame;
use crate::pages::prompt::UploadFirst;
use crate::wizard_step::WizardStep;

#[component]
pub fn ReviewStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_review());
    view! {
        <StepFrame step=WizardStep::Review no_continue=true>
            <StepContent
                page
                loading="Adding up your batch…"
                show=|page| match page {
                    None => view! { <UploadFirst /> }.into_any(),
                    Some(page) => view! { <ReviewForm page /> }.into_any(),
                }
            />
        </StepFrame>
    }
}

#[component]
fn ReviewForm(page: ReviewPage) -> impl IntoView {
    let ReviewPage {
        dataset_name,
        row_count,
        field_count,
        providers,
        settings,
        per_row,
        sampled_rows,
        blockers,
    } = page;
    let providers = StoredValue::new(providers);
    // What the number fields show at first; from then on the user's typing owns their text, so
    // no re-render ever rewrites a field (and moves the caret) while it is being typed in.
    let initial = settings.clone();
    let settings = RwSignal::new(settings);
    let save_error: RwSignal<Option<String>> = RwSignal::new(None);
    let edits = Edits::new(settings, save_error);

    // Memos: typing in a number field changes the settings, but must not rebuild the lists.
    let provider = Memo::new(move |_| {
        let id = settings.with(|s| s.provider.clone());
        providers.with_value(|ps| ps.iter().find(|p| p.id == id).cloned())
    });
    let model = Memo::new(move |_| {
        let id = settings.with(|s| s.model.clone());
        provider
            .get()
            .and_then(|p| p.models.into_iter().find(|m| m.id == id))
    });

    let connection = Connection::new(settings);
    let pace = Memo::new(move |_| {
        let assumed = model.get().map(|m| m.rates).unwrap_or_default();
        let measured = connection
            .current()
            .and_then(Result::ok)
            .and_then(|report| report.latency_ms);
        row_pace(assumed, measured)
    });
    let blockers = form_blockers(blockers, settings, model);

    view! {
        <div class="review">
            <ReviewSummary dataset_name row_count field_count per_row sampled_rows />

            <div class="split">
                <div class="split__main">
                    <ModelPicker providers provider edits />
                    <ConnectionCheck connection model />
                    <RequestSettings initial=initial.clone() edits pace row_count />
                    <RowsAndErrors initial edits />
                </div>

                <aside class="split__side">
                    <EstimatePanel settings pace per_row row_count />
                </aside>
            </div>

            <BlockerList blockers />
            {move || {
                save_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="alert alert--warning" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            <StartFooter settings blockers />
        </div>
    }
}
