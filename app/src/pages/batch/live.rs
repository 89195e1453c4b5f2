//! A batch's live state: the first one from the page load, then one per progress event from the
//! batch's event stream, and what an action (pause, run the rest…) left it in.

use leptos::prelude::*;
use serde::Deserialize;

use crate::api::batch::BatchFacts;
use crate::api::batch::{BatchView, load_batch};

/// Row counts by state, as progress events carry them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Counts {
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl Counts {
    fn of(view: &BatchView) -> Self {
        Counts {
            queued: view.queued,
            running: view.running,
            succeeded: view.succeeded,
            failed: view.failed,
            cancelled: view.cancelled,
        }
    }
}

/// The live state of a batch: the first one from the page load, then one per progress event.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub status: String,
    pub total_rows: i64,
    pub counts: Counts,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub rows_per_minute: Option<f64>,
    pub eta_seconds: Option<f64>,
    pub pause_reason: Option<String>,
    /// How long the batch ran, once it has ended: shown instead of the rate.
    pub ran_for_ms: Option<i64>,
}

impl Progress {
    pub(super) fn from_page(view: &BatchView, facts: &BatchFacts) -> Self {
        Progress {
            status: view.item.state.label().to_lowercase(),
            total_rows: view.item.total_rows,
            counts: Counts::of(view),
            input_tokens: facts.input_tokens,
            output_tokens: facts.output_tokens,
            cost_usd: facts.cost_usd,
            rows_per_minute: None,
            eta_seconds: None,
            pause_reason: facts.pause_reason.clone(),
            ran_for_ms: facts.ran_for_ms,
        }
    }

    /// The state an action (pause, cancel, run the rest…) left the batch in, read back at once
    /// rather than waiting for the next progress event.
    fn after_action(&mut self, view: &BatchView) {
        self.status = view.item.state.label().to_lowercase();
        self.total_rows = view.item.total_rows;
        self.counts = Counts::of(view);
        self.pause_reason = None;
    }

    pub(super) fn finished(&self) -> i64 {
        self.counts.succeeded + self.counts.failed
    }

    pub(super) fn percent(&self, rows: i64) -> i64 {
        if self.total_rows <= 0 {
            0
        } else {
            (rows * 100 / self.total_rows).clamp(0, 100)
        }
    }

    pub(super) fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "running" | "queued")
    }

    pub(super) fn label(&self) -> &'static str {
        match self.status.as_str() {
            "running" => "Running",
            "queued" => "Queued",
            "paused" => "Paused",
            "completed" => "Completed",
            "failed" => "Failed",
            "cancelled" => "Cancelled",
            _ => "Unknown",
        }
    }

    pub(super) fn tone(&self) -> &'static str {
        match self.status.as_str() {
            "running" => "badge--info",
            "completed" => "badge--success",
            "failed" => "badge--danger",
            "cancelled" => "badge--muted",
            _ => "badge--neutral",
        }
    }
}

/// Reads batch `id` back into `live` after an action; the next progress event would say the
/// same, but later.
pub(super) async fn read_back(id: i64, live: RwSignal<Progress>) {
    if let Ok(view) = load_batch(id).await {
        live.update(|p| p.after_action(&view));
    }
}

/// Opens the batch's event stream and feeds `live`; closes it once the batch has stopped moving.
/// `generation` reopens it (after Resume or a retry).
#[cfg(feature = "hydrate")]
pub(super) fn follow(id: i64, live: RwSignal<Progress>, generation: RwSignal<u64>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let source = StoredValue::new_local(None::<web_sys::EventSource>);
    Effect::new(move |_| {
        generation.track();
        if let Some(Some(old)) = source.try_get_value() {
            old.close();
        }
        let Ok(es) = web_sys::EventSource::new(&format!("/api/batches/{id}/events")) else {
            return;
        };
        let on_progress = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                if let Ok(progress) = serde_json::from_str::<Progress>(&text) {
                    let stopped = !progress.is_active();
                    live.set(progress);
                    if stopped && let Some(Some(es)) = source.try_get_value() {
                        es.close();
                    }
                }
            },
        );
        let _ =
            es.add_event_listener_with_callback("progress", on_progress.as_ref().unchecked_ref());
        // The listener lives as long as the page; the stream is closed above when it is done.
        on_progress.forget();
        source.set_value(Some(es));
    });
    on_cleanup(move || {
        if let Some(Some(es)) = source.try_get_value() {
            es.close();
        }
    });
}
