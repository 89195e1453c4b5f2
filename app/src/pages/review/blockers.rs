//! What still keeps the batch from starting: the server's verdict on the earlier steps, and this
//! form's own checks as the settings change, each with a link to the step that fixes it.

use leptos::prelude::*;
use leptos_router::components::A;
use rowbench_recipe::{Blocker, BlockerStep, RunSettings};

use crate::api::review::ModelChoice;
use crate::wizard_step::WizardStep;

fn step_of(step: BlockerStep) -> WizardStep {
    match step {
        BlockerStep::Columns => WizardStep::Columns,
        BlockerStep::Prompt => WizardStep::Prompt,
        BlockerStep::Schema => WizardStep::Schema,
        BlockerStep::Review => WizardStep::Review,
    }
}

/// Every blocker, with the step it is fixed on; the server's word on the Review step itself is
/// replaced by the form's own checks, which follow the typing.
pub(super) fn form_blockers(
    server: Vec<Blocker>,
    settings: RwSignal<RunSettings>,
    model: Memo<Option<ModelChoice>>,
) -> Signal<Vec<(BlockerStep, String)>> {
    let settings_problem =
        Memo::new(move |_| settings.with(|s| s.check().err().map(|e| e.to_string())));
    let server = StoredValue::new(server);
    Signal::derive(move || {
        let mut list: Vec<(BlockerStep, String)> = server.with_value(|b| {
            b.iter()
                .filter(|b| b.step != BlockerStep::Review)
                .map(|b| (b.step, b.message.clone()))
                .collect()
        });
        if let Some(problem) = settings_problem.get() {
            list.push((BlockerStep::Review, problem));
        } else if model.with(Option::is_none) {
            list.push((
                BlockerStep::Review,
                "Choose a model this server is configured for.".into(),
            ));
        }
        list
    })
}

#[component]
pub(super) fn BlockerList(blockers: Signal<Vec<(BlockerStep, String)>>) -> impl IntoView {
    move || {
        let list = blockers.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="alert alert--warning" data-testid="blockers">
                    <strong class="alert__title">"Before you can start"</strong>
                    <ul class="plain-list">
                        {list
                            .into_iter()
                            .map(|(step, message)| {
                                let step = step_of(step);
                                view! {
                                    <li>
                                        {message} " "
                                        {(step != WizardStep::Review)
                                            .then(|| {
                                                view! {
                                                    <A href=format!(
                                                        "/new/{}",
                                                        step.slug(),
                                                    )>{format!("Fix in {}", step.label())}</A>
                                                }
                                            })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
    }
}
