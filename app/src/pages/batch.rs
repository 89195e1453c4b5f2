//! A batch's own page: what it runs with and how far it got, refreshed while it runs.

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::batches::{BatchView, load_batch};
use crate::components::notice::ErrorNotice;

/// How often a running batch's page asks for fresh counts.
const REFRESH: Duration = Duration::from_millis(1000);

#[component]
pub fn BatchPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1)
    });
    let tick = RwSignal::new(0u64);
    let detail = Resource::new(move || (id.get(), tick.get()), |(id, _)| load_batch(id));
    // Ask again a little later while the batch still moves.
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get()
            && d.is_active()
        {
            set_timeout(move || tick.update(|t| *t += 1), REFRESH);
        }
    });
    view! {
        <Title text="Batch" />
        <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading the batch…"</div> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    Ok(d) => view! { <BatchSummaryCard detail=d /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn BatchSummaryCard(detail: BatchView) -> impl IntoView {
    let item = &detail.item;
    let finished = item.percent_finished();
    view! {
        <div class="page-header page-header--tight">
            <div>
                <h1>{item.name.clone()}</h1>
                <p class="lead">
                    {format!("Batch #{} · {} · {} · started {}", item.id, detail.provider_label, detail.model_label, item.created)}
                </p>
            </div>
            <span class=format!("badge {}", item.state.tone()) data-testid="batch-state">{item.state.label()}</span>
        </div>
        <section class="card">
            {detail.is_demo.then(|| view! {
                <p class="alert alert--info small">"Offline demo provider: these answers are synthetic data, not a model's."</p>
            })}
            <div class="progress progress--wide" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=finished>
                <div class="progress__bar" style=format!("width: {}%", item.percent_of(item.done_rows))></div>
                <div class="progress__bar progress__bar--failed" style=format!("width: {}%", item.percent_of(item.failed_rows))></div>
            </div>
            <p class="strong" data-testid="batch-progress">{format!("{finished}% · {} of {} rows finished", item.done_rows + item.failed_rows, item.total_rows)}</p>
            <dl class="counts">
                <div><dt>"Done"</dt><dd data-testid="count-succeeded">{detail.succeeded}</dd></div>
                <div><dt>"Failed"</dt><dd data-testid="count-failed">{detail.failed}</dd></div>
                <div><dt>"Running"</dt><dd data-testid="count-running">{detail.running}</dd></div>
                <div><dt>"Queued"</dt><dd data-testid="count-queued">{detail.queued}</dd></div>
                <div><dt>"Cancelled"</dt><dd>{detail.cancelled}</dd></div>
            </dl>
        </section>
    }
}
