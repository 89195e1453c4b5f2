//! "Check the connection": one small call with the chosen provider and model, and its answer,
//! shown for as long as that provider and model stay chosen.

use leptos::prelude::*;
use rowbench_recipe::RunSettings;

use crate::api::review::{ConnectionReport, ModelChoice, check_connection};

type Choice = (String, String);

/// The last connection check, and the one running, each for the provider and model it was for.
#[derive(Clone, Copy)]
pub(super) struct Connection {
    settings: RwSignal<RunSettings>,
    answer: RwSignal<Option<Result<ConnectionReport, String>>>,
    checked_for: RwSignal<Option<Choice>>,
    /// The choice a check is running for.
    checking: RwSignal<Option<Choice>>,
}

impl Connection {
    pub fn new(settings: RwSignal<RunSettings>) -> Self {
        Connection {
            settings,
            answer: RwSignal::new(None),
            checked_for: RwSignal::new(None),
            checking: RwSignal::new(None),
        }
    }

    fn chosen(self) -> Choice {
        self.settings
            .with(|s| (s.provider.clone(), s.model.clone()))
    }

    /// The last check's answer while the provider and model it was for are the ones chosen.
    pub fn current(self) -> Option<Result<ConnectionReport, String>> {
        (self.checked_for.get() == Some(self.chosen()))
            .then(|| self.answer.get())
            .flatten()
    }

    fn is_checking(self) -> bool {
        self.checking.get() == Some(self.chosen())
    }

    fn check(self) {
        let target = self.chosen();
        self.checking.set(Some(target.clone()));
        leptos::task::spawn_local(async move {
            let answer = check_connection(target.0.clone(), target.1.clone())
                .await
                .map_err(|e| e.to_string());
            // A check for another choice started since: this answer is stale.
            if self.checking.try_get_untracked().flatten().as_ref() != Some(&target) {
                return;
            }
            self.answer.set(Some(answer));
            self.checked_for.set(Some(target));
            self.checking.set(None);
        });
    }
}

#[component]
pub(super) fn ConnectionCheck(
    connection: Connection,
    model: Memo<Option<ModelChoice>>,
) -> impl IntoView {
    view! {
        <div class="connection-check">
            <button
                type="button"
                class="btn btn--secondary btn--sm"
                data-testid="check-connection"
                disabled=move || connection.is_checking() || model.with(Option::is_none)
                on:click=move |_| connection.check()
            >
                {move || {
                    if connection.is_checking() { "Checking…" } else { "Check the connection" }
                }}
            </button>
            <span class="small muted">
                "One small call with this provider, model and the server's key for it."
            </span>
            {move || {
                connection
                    .current()
                    .map(|answer| {
                        let (class, text) = match answer {
                            Ok(report) if report.ok => {
                                ("alert alert--success small", report.message)
                            }
                            Ok(report) => ("alert alert--danger small", report.message),
                            Err(error) => {
                                (
                                    "alert alert--danger small",
                                    format!("The check could not run: {error}"),
                                )
                            }
                        };
                        view! {
                            <p class=class role="status" data-testid="connection-result">
                                {text}
                            </p>
                        }
                    })
            }}
        </div>
    }
}
