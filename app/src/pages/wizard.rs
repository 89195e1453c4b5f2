//! The new-batch wizard: its frame (title, saved-draft line, stepper) and one page per step.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::{use_location, use_params_map};

use crate::api::wizard::{DraftView, SaveStep, current_draft};
use crate::components::notice::{ErrorNotice, Notice, Tone};
use crate::components::step_frame::StepFrame;
use crate::error::AppError;
use crate::pages::columns::ColumnsStep;
use crate::pages::not_found::NotFound;
use crate::pages::prompt::PromptStep;
use crate::pages::review::ReviewStep;
use crate::pages::schema::SchemaStep;
use crate::pages::upload::UploadStep;
use crate::wizard_step::WizardStep;

/// The session's draft, loaded once by the wizard frame and read by every step.
#[derive(Clone, Copy)]
struct DraftResource(Resource<Result<DraftView, AppError>>);

/// The step named by the current address, if any.
fn step_in_path(path: &str) -> Option<WizardStep> {
    path.strip_prefix("/new/")
        .map(|rest| rest.trim_end_matches('/'))
        .and_then(WizardStep::from_slug)
}

#[component]
pub fn WizardLayout() -> impl IntoView {
    let draft = Resource::new(|| (), |_| current_draft());
    provide_context(DraftResource(draft));
    let location = use_location();
    let current = Memo::new(move |_| step_in_path(&location.pathname.get()));

    view! {
        <Title text="New batch" />
        <div class="page-header page-header--tight">
            <div>
                <h1>"New batch"</h1>
                <p class="lead">
                    "Six steps from a spreadsheet to validated answers for every row."
                </p>
            </div>
            <Suspense fallback=|| {
                view! { <span class="draft-status muted">"Loading draft…"</span> }
            }>
                {move || Suspend::new(async move {
                    draft
                        .await
                        .map(|d| {
                            view! {
                                <p class="draft-status" data-draft-id=d.id>
                                    <span class="dot dot--ok" aria-hidden="true"></span>
                                    {format!(
                                        "Draft #{} · saved automatically · started {}",
                                        d.id,
                                        d.created,
                                    )}
                                </p>
                            }
                        })
                })}
            </Suspense>
        </div>
        <Stepper current />
        <Outlet />
    }
}

#[component]
fn Stepper(current: Memo<Option<WizardStep>>) -> impl IntoView {
    let position = move || current.get().map_or(0, WizardStep::number);
    view! {
        <nav class="stepper" aria-label="Wizard steps">
            <ol class="stepper__list">
                {WizardStep::ALL
                    .into_iter()
                    .map(|step| {
                        view! {
                            <li
                                class="stepper__item"
                                class:is-active=move || current.get() == Some(step)
                                class:is-past=move || step.number() < position()
                            >
                                <A href=format!("/new/{}", step.slug()) attr:class="stepper__link">
                                    <span class="stepper__num" aria-hidden="true">
                                        {step.number()}
                                    </span>
                                    <span class="stepper__text">
                                        <span class="stepper__label">{step.label()}</span>
                                        <span class="stepper__hint">{step.hint()}</span>
                                    </span>
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}

/// `/new`: sends the user to the step their draft was last on.
#[component]
pub fn ResumeDraft() -> impl IntoView {
    let DraftResource(draft) = expect_context::<DraftResource>();
    view! {
        <Suspense fallback=|| {
            view! {
                <div class="card skeleton" aria-busy="true">
                    "Opening your draft…"
                </div>
            }
        }>
            {move || Suspend::new(async move {
                match draft.await {
                    Ok(d) => {
                        view! { <Redirect path=format!("/new/{}", d.step.slug()) /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/new/:step`: the step's panel, with Back and Continue.
#[component]
pub fn WizardStepPage() -> impl IntoView {
    let params = use_params_map();
    let step = Memo::new(move |_| {
        params
            .read()
            .get("step")
            .as_deref()
            .and_then(WizardStep::from_slug)
    });

    // Remember where the user is, so `/new` brings them back here; browser only.
    let save_step = ServerAction::<SaveStep>::new();
    Effect::new(move |_| {
        if let Some(step) = step.get() {
            save_step.dispatch(SaveStep { step });
        }
    });

    move || match step.get() {
        // A plain string: leptos_meta reads the title after this page's reactive values are gone.
        Some(step) => view! {
            <Title text=format!("{} · New batch", step.label()) />
            {step_content(step)}
        }
        .into_any(),
        None => view! { <NotFound /> }.into_any(),
    }
}

/// What the page of `step` shows under the stepper.
fn step_content(step: WizardStep) -> AnyView {
    match step {
        WizardStep::Upload => view! { <UploadStep /> }.into_any(),
        WizardStep::Columns => view! { <ColumnsStep /> }.into_any(),
        WizardStep::Prompt => view! { <PromptStep /> }.into_any(),
        WizardStep::Schema => view! { <SchemaStep /> }.into_any(),
        WizardStep::Review => view! { <ReviewStep /> }.into_any(),
        WizardStep::Run => view! { <StepPanel step /> }.into_any(),
    }
}

/// The last step's place in the wizard: batches run on a page of their own, so this says where.
#[component]
fn StepPanel(step: WizardStep) -> impl IntoView {
    view! {
        <StepFrame step>
            <ul class="checklist">
                <li>"Live progress with counts, rate and time left"</li>
                <li>"Open a row to see its prompt, raw answer and parsed fields"</li>
                <li>"Export CSV or JSON with your columns plus one per answer field"</li>
            </ul>
            <Notice tone=Tone::Info title="Batches run on their own page".to_string()>
                "Start the batch on the Review step; it opens on its own page with its progress. Every batch is listed on "
                <A href="/">"Batches"</A>
                "."
            </Notice>
        </StepFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_read_from_the_wizard_address() {
        assert_eq!(step_in_path("/new/prompt"), Some(WizardStep::Prompt));
        assert_eq!(step_in_path("/new/prompt/"), Some(WizardStep::Prompt));
        assert_eq!(step_in_path("/new"), None);
        assert_eq!(step_in_path("/new/nope"), None);
        assert_eq!(step_in_path("/"), None);
    }
}
