//! The top of a batch's page: its number, name, model and start, its live state, the note that
//! the demo's answers are made up, and why it paused.

use leptos::prelude::*;

use super::live::Progress;
use crate::api::batch::BatchView;

#[component]
pub(super) fn BatchHeader(view: BatchView, live: RwSignal<Progress>) -> impl IntoView {
    let item = view.item;
    view! {
        <div class="page-header page-header--tight">
            <div>
                <p class="eyebrow">{format!("Batch #{}", item.id)}</p>
                <h1>{item.name}</h1>
                <p class="lead">
                    {format!(
                        "{} · {} · started {}",
                        view.provider_label,
                        view.model_label,
                        item.created,
                    )}
                </p>
            </div>
            <span
                class=move || format!("badge badge--lg {}", live.with(Progress::tone))
                data-testid="batch-state"
            >
                {move || live.with(Progress::label)}
            </span>
        </div>
        {view
            .is_demo
            .then(|| {
                view! {
                    <p class="alert alert--info small">
                        "Offline demo provider: these answers are synthetic data made up on this server, not a model's."
                    </p>
                }
            })}
        {move || {
            live.with(|p| p.pause_reason.clone())
                .filter(|_| live.with(|p| p.status == "paused"))
                .map(|reason| {
                    view! {
                        <div class="alert alert--warning" role="alert" data-testid="pause-reason">
                            <strong class="alert__title">"Paused"</strong>
                            <div class="alert__body">{reason}</div>
                        </div>
                    }
                })
        }}
    }
}
