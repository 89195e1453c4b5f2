//! A trial's banner: how far it went, and the two ways on. Gone once the rest of the dataset
//! joined the batch.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use rowbench_recipe::estimate::{human_count, human_usd};

use super::live::{Progress, read_back};
use crate::api::batch::{Trial, retry_trial_with_changes, run_remaining_rows};

#[component]
pub(super) fn TrialBanner(
    id: i64,
    trial: Trial,
    live: RwSignal<Progress>,
    generation: RwSignal<u64>,
) -> impl IntoView {
    let is_trial = RwSignal::new(true);
    let busy = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let remaining = (trial.dataset_rows - trial.rows).max(0);
    let run_rest = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match run_remaining_rows(id).await {
                Ok(()) => {
                    read_back(id, live).await;
                    is_trial.set(false);
                    generation.update(|g| *g += 1);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let navigate = use_navigate();
    let try_again = move |_| {
        let navigate = navigate.clone();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match retry_trial_with_changes(id).await {
                Ok(()) => navigate("/new/prompt", Default::default()),
                Err(e) => {
                    error.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };
    // What the rest would cost at the trial's price per finished row, once it has one.
    let rest_cost = move || {
        live.with(|p| {
            let finished = p.finished();
            (finished > 0 && p.cost_usd > 0.0).then(|| {
                format!(
                    " At the trial's cost per row they would cost about {}.",
                    human_usd(p.cost_usd / finished as f64 * remaining as f64)
                )
            })
        })
    };
    let cancelled = move || live.with(|p| p.status == "cancelled");
    view! {
        <Show when=move || is_trial.get()>
            <section
                class="alert alert--info trial"
                aria-label="Trial run"
                data-testid="trial-banner"
            >
                <strong class="alert__title">
                    {format!(
                        "Trial: the first {} of {} rows",
                        human_count(trial.rows as u64),
                        human_count(trial.dataset_rows as u64),
                    )}
                </strong>
                <div class="alert__body">
                    {move || {
                        if cancelled() {
                            "This trial was cancelled, so its other rows cannot be added to it; change the prompt and try again."
                                .to_string()
                        } else {
                            format!(
                                "Check its answers, then run the other {} {} in this batch (the trial's answers are kept), or change the prompt and try again.{}",
                                human_count(remaining as u64),
                                if remaining == 1 { "row" } else { "rows" },
                                rest_cost().unwrap_or_default(),
                            )
                        }
                    }}
                    {super::can_edit()
                        .then(|| {
                            view! {
                                <div class="batch-actions trial__actions">
                                    {move || {
                                        (!cancelled())
                                            .then(|| {
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="btn btn--primary btn--sm"
                                                        disabled=move || busy.get()
                                                        on:click=run_rest
                                                    >
                                                        "Run the remaining rows"
                                                    </button>
                                                }
                                            })
                                    }}
                                    <button
                                        type="button"
                                        class="btn btn--secondary btn--sm"
                                        disabled=move || busy.get()
                                        on:click=try_again.clone()
                                    >
                                        "Change the prompt and try again"
                                    </button>
                                </div>
                            }
                        })}
                    {move || {
                        error
                            .get()
                            .map(|e| {
                                view! {
                                    <p class="small field__error" role="alert">
                                        {e}
                                    </p>
                                }
                            })
                    }}
                </div>
            </section>
        </Show>
    }
}
