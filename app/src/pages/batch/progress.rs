//! The progress card of a batch's page: how far it is, the controls, the bar, the counts, rate,
//! time, tokens and cost, the exports, and Clone into a new draft.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use rowbench_recipe::estimate::{human_count, human_duration, human_usd};

use super::controls::BatchControls;
use super::live::Progress;
use crate::api::batch::clone_batch;
use crate::components::export_panel::ExportPanel;

#[component]
pub(super) fn BatchProgress(
    id: i64,
    live: RwSignal<Progress>,
    generation: RwSignal<u64>,
    finished: Memo<i64>,
    /// The batch's row count when the page loaded, which the export's count follows.
    total_rows: i64,
) -> impl IntoView {
    let action_error: RwSignal<Option<String>> = RwSignal::new(None);
    let navigate = use_navigate();
    let clone = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match clone_batch(id).await {
                Ok(()) => navigate("/new/review", Default::default()),
                Err(error) => action_error.set(Some(error.to_string())),
            }
        });
    };
    view! {
        <section class="card batch-progress">
            <div class="batch-progress__top">
                <p class="batch-progress__headline" data-testid="batch-progress">
                    {move || {
                        live.with(|p| {
                            format!(
                                "{}% · {} of {} rows finished",
                                p.percent(p.finished()),
                                human_count(p.finished() as u64),
                                human_count(p.total_rows as u64),
                            )
                        })
                    }}
                </p>
                {super::can_edit()
                    .then(|| view! { <BatchControls id live generation action_error /> })}
            </div>
            <div
                class="progress progress--wide"
                role="progressbar"
                aria-label="Rows finished"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || live.with(|p| p.percent(p.finished()))
            >
                <div
                    class="progress__bar"
                    style=move || {
                        live.with(|p| format!("width: {}%", p.percent(p.counts.succeeded)))
                    }
                ></div>
                <div
                    class="progress__bar progress__bar--failed"
                    style=move || live.with(|p| format!("width: {}%", p.percent(p.counts.failed)))
                ></div>
            </div>
            <CountList live />
            {move || {
                action_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="alert alert--danger" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            <ExportPanel
                id
                status=Signal::derive(move || live.with(|p| p.status.clone()))
                finished
                total_rows
            />
            {super::can_edit()
                .then(|| {
                    view! {
                        <div class="batch-actions batch-actions--end">
                            <button type="button" class="btn btn--ghost btn--sm" on:click=clone>
                                "Clone into a new draft"
                            </button>
                        </div>
                    }
                })}
        </section>
    }
}

/// The rows by state, then the rate (or, once it ended, how long it took), the time left, the
/// tokens and the cost.
#[component]
fn CountList(live: RwSignal<Progress>) -> impl IntoView {
    view! {
        <dl class="counts">
            <div>
                <dt>"Done"</dt>
                <dd data-testid="count-succeeded">
                    {move || live.with(|p| human_count(p.counts.succeeded.max(0) as u64))}
                </dd>
            </div>
            <div>
                <dt>"Failed"</dt>
                <dd class="is-failed" data-testid="count-failed">
                    {move || live.with(|p| human_count(p.counts.failed.max(0) as u64))}
                </dd>
            </div>
            <div>
                <dt>"Running"</dt>
                <dd data-testid="count-running">
                    {move || live.with(|p| human_count(p.counts.running.max(0) as u64))}
                </dd>
            </div>
            <div>
                <dt>"Queued"</dt>
                <dd data-testid="count-queued">
                    {move || live.with(|p| human_count(p.counts.queued.max(0) as u64))}
                </dd>
            </div>
            <div data-testid="rate-or-duration">
                <dt>
                    {move || {
                        if live.with(|p| p.ran_for_ms.is_some() && !p.is_active()) {
                            "Took"
                        } else {
                            "Rate"
                        }
                    }}
                </dt>
                <dd>
                    {move || {
                        live.with(|p| match p.ran_for_ms.filter(|_| !p.is_active()) {
                            Some(ms) => human_duration(ms.max(0) as f64 / 1000.0),
                            None => {
                                p.rows_per_minute
                                    .map_or(
                                        "—".to_string(),
                                        |r| {
                                            format!(
                                                "{} a minute",
                                                human_count(r.round().max(0.0) as u64),
                                            )
                                        },
                                    )
                            }
                        })
                    }}
                </dd>
            </div>
            <div>
                <dt>"Time left"</dt>
                <dd>
                    {move || {
                        live.with(|p| {
                            if p.is_active() {
                                p.eta_seconds.map_or("—".to_string(), human_duration)
                            } else {
                                "—".to_string()
                            }
                        })
                    }}
                </dd>
            </div>
            <div>
                <dt>"Tokens in / out"</dt>
                <dd class="counts__small">
                    {move || {
                        live.with(|p| {
                            format!(
                                "{} / {}",
                                human_count(p.input_tokens.max(0) as u64),
                                human_count(p.output_tokens.max(0) as u64),
                            )
                        })
                    }}
                </dd>
            </div>
            <div>
                <dt>"Cost"</dt>
                <dd>{move || live.with(|p| human_usd(p.cost_usd))}</dd>
            </div>
        </dl>
    }
}
