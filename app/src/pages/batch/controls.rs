//! Pause, Resume, Retry failed and Cancel (which asks first, saying how many rows it ends), as
//! the batch's live state allows.

use leptos::prelude::*;
use rowbench_recipe::estimate::human_count;

use super::live::{Progress, read_back};
use crate::api::batch::control_batch;

#[component]
pub(super) fn BatchControls(
    id: i64,
    live: RwSignal<Progress>,
    /// Bumped after an action, which reopens the event stream.
    generation: RwSignal<u64>,
    /// Where an action's failure is said.
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    // Cancelling ends every unfinished row for good: it asks first, saying how many.
    let confirm_cancel = RwSignal::new(false);
    let act = move |action: &'static str| {
        busy.set(true);
        action_error.set(None);
        leptos::task::spawn_local(async move {
            match control_batch(id, action.to_string()).await {
                Ok(()) => {
                    read_back(id, live).await;
                    generation.update(|g| *g += 1);
                }
                Err(error) => action_error.set(Some(error.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="batch-actions">
            {move || {
                let p = live.get();
                let status = p.status.clone();
                view! {
                    {(status == "running" || status == "queued")
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn--secondary"
                                    disabled=move || busy.get()
                                    on:click=move |_| act("pause")
                                >
                                    "Pause"
                                </button>
                            }
                        })}
                    {(status == "paused")
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn--primary"
                                    disabled=move || busy.get()
                                    on:click=move |_| act("resume")
                                >
                                    "Resume"
                                </button>
                            }
                        })}
                    {(p.counts.failed > 0)
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn--secondary"
                                    disabled=move || busy.get()
                                    on:click=move |_| act("retry-failed")
                                >
                                    {format!("Retry {} failed", p.counts.failed)}
                                </button>
                            }
                        })}
                    {matches!(status.as_str(), "running" | "queued" | "paused")
                        .then(|| {
                            let unfinished = p.counts.queued + p.counts.running;
                            if confirm_cancel.get() {
                                view! {
                                    <span
                                        class="confirm confirm--inline"
                                        role="group"
                                        aria-label="Confirm cancelling"
                                        data-testid="confirm-cancel"
                                    >
                                        {format!(
                                            "End {} unfinished {}? This cannot be undone.",
                                            human_count(unfinished.max(0) as u64),
                                            if unfinished == 1 { "row" } else { "rows" },
                                        )}
                                        <button
                                            type="button"
                                            class="btn btn--danger btn--sm"
                                            disabled=move || busy.get()
                                            on:click=move |_| {
                                                confirm_cancel.set(false);
                                                act("cancel")
                                            }
                                        >
                                            "Cancel the batch"
                                        </button>
                                        <button
                                            type="button"
                                            class="btn btn--ghost btn--sm"
                                            on:click=move |_| confirm_cancel.set(false)
                                        >
                                            "Keep it"
                                        </button>
                                    </span>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <button
                                        type="button"
                                        class="btn btn--ghost btn--danger-text"
                                        disabled=move || busy.get()
                                        on:click=move |_| confirm_cancel.set(true)
                                    >
                                        "Cancel…"
                                    </button>
                                }
                                    .into_any()
                            }
                        })}
                }
            }}
        </div>
    }
}
