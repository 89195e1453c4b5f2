//! The foot of the Review step: Reset form (after a confirmation in place), why Start is
//! disabled, and Start batch, which opens the new batch's page.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use rowbench_recipe::{BlockerStep, RunSettings};

use crate::api::review::{reset_draft, start_batch};

#[component]
pub(super) fn StartFooter(
    settings: RwSignal<RunSettings>,
    blockers: Signal<Vec<(BlockerStep, String)>>,
) -> impl IntoView {
    let starting = RwSignal::new(false);
    let start_error: RwSignal<Option<String>> = RwSignal::new(None);
    let navigate = use_navigate();
    let start = move |_| {
        starting.set(true);
        start_error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match start_batch(settings.get_untracked()).await {
                Ok(id) => navigate(&format!("/batches/{id}"), Default::default()),
                Err(error) => {
                    start_error.set(Some(error.to_string()));
                    starting.set(false);
                }
            }
        });
    };

    let confirming_reset = RwSignal::new(false);
    let navigate = use_navigate();
    let reset = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match reset_draft().await {
                // A full load: every step's data starts over.
                Ok(()) => {
                    #[cfg(feature = "hydrate")]
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().assign("/new/upload");
                        return;
                    }
                    navigate("/new/upload", Default::default());
                }
                Err(error) => start_error.set(Some(error.to_string())),
            }
        });
    };

    view! {
        {move || {
            start_error
                .get()
                .map(|e| {
                    view! {
                        <p class="alert alert--danger" role="alert">
                            {e}
                        </p>
                    }
                })
        }}

        <div class="review__actions">
            {move || {
                if confirming_reset.get() {
                    view! {
                        <div class="confirm" role="alertdialog" aria-label="Reset the form?">
                            <span>
                                "Clear the file, mapping, prompt, schema and settings of this draft?"
                            </span>
                            <button
                                type="button"
                                class="btn btn--danger btn--sm"
                                on:click=reset.clone()
                            >
                                "Yes, reset"
                            </button>
                            <button
                                type="button"
                                class="btn btn--ghost btn--sm"
                                on:click=move |_| confirming_reset.set(false)
                            >
                                "Keep my draft"
                            </button>
                        </div>
                    }
                        .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="btn btn--ghost"
                            on:click=move |_| confirming_reset.set(true)
                        >
                            "Reset form"
                        </button>
                    }
                        .into_any()
                }
            }} <span class="spacer"></span> <span class="small muted" data-testid="start-reason">
                {move || {
                    blockers.with(|b| b.first().map(|(_, m)| format!("Start is disabled: {m}")))
                }}
            </span>
            <button
                type="button"
                class="btn btn--primary btn--lg"
                data-testid="start"
                disabled=move || starting.get() || !blockers.with(Vec::is_empty)
                on:click=start
            >
                {move || if starting.get() { "Starting…" } else { "Start batch" }}
            </button>
        </div>
    }
}
