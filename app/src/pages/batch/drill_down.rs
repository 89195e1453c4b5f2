//! One row's drill-down beside the queue table: the row, its answer, its earlier answers, the
//! messages sent and every call made for it; Retry this row.

use leptos::prelude::*;
use rowbench_recipe::estimate::human_usd;

use super::grid::Grid;
use crate::api::batch::{
    AttemptLine, EarlierLine, RowDrill, RowExamples, fetch_row_drill, retry_batch_row,
};
use crate::components::notice::ErrorNotice;
use crate::components::refresh::refetch_when;
use crate::error::AppError;

#[component]
pub(super) fn DrillDown(
    id: i64,
    row: i64,
    total: Memo<i64>,
    selected: RwSignal<Option<i64>>,
    finished: Memo<i64>,
    grid: Grid,
) -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    // The panel only ever opens in the browser, after a click: it loads there, like the table.
    let drill: RwSignal<Option<Result<RowDrill, AppError>>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move { drill.set(Some(fetch_row_drill(id, row).await)) });
    refetch_when(
        move || (refresh.get(), finished.get(), grid.reviews_saved.get()),
        move |_| fetch_row_drill(id, row),
        move |answer| drill.set(Some(answer)),
    );
    // The panel opens beside the table, where the click was; the keyboard follows it there.
    let panel = NodeRef::<leptos::html::Aside>::new();
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            let _ = el.focus();
        }
    });
    #[cfg(feature = "hydrate")]
    {
        let escape = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                selected.set(None);
            }
        });
        on_cleanup(move || escape.remove());
    }
    let retry_error: RwSignal<Option<String>> = RwSignal::new(None);
    let retry = move |_| {
        leptos::task::spawn_local(async move {
            match retry_batch_row(id, row).await {
                Ok(()) => refresh.update(|r| *r += 1),
                Err(e) => retry_error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <aside
            class="drawer drill"
            node_ref=panel
            tabindex="-1"
            role="dialog"
            aria-modal="false"
            data-testid="drill-down"
            aria-label=format!("Row {}", row + 1)
        >
            <header class="drill__head">
                <h2>{format!("Row {}", row + 1)}</h2>
                <span class="spacer"></span>
                <button
                    type="button"
                    class="btn btn--ghost btn--sm btn--icon"
                    aria-label="Previous row"
                    title="Previous row"
                    disabled={row == 0}
                    on:click=move |_| selected.set(Some(row - 1))
                >
                    "←"
                </button>
                <button
                    type="button"
                    class="btn btn--ghost btn--sm btn--icon"
                    aria-label="Next row"
                    title="Next row"
                    disabled={move || row + 1 >= total.get()}
                    on:click=move |_| selected.set(Some(row + 1))
                >
                    "→"
                </button>
                <button
                    type="button"
                    class="btn btn--ghost btn--sm"
                    on:click=move |_| selected.set(None)
                    aria-label="Close the row"
                    title="Close (Escape)"
                >
                    "Close"
                </button>
            </header>
            {super::can_edit()
                .then(|| {
                    view! {
                        <div class="drill__actions">
                            <ReviewButtons grid row />
                            <button type="button" class="btn btn--secondary btn--sm" on:click=retry>
                                "Retry this row"
                            </button>
                        </div>
                    }
                })}
            {move || {
                retry_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="alert alert--danger small" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            {move || match drill.get() {
                None => view! { <p class="muted">"Loading the row…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                Some(Ok(d)) => view! { <DrillBody d /> }.into_any(),
            }}
        </aside>
    }
}

/// Accept, fix or reject the open row, for those who review with the mouse: the fix opens in
/// the row's line of the grid, where its editors are.
#[component]
fn ReviewButtons(grid: Grid, row: i64) -> impl IntoView {
    let reviewable = move || {
        grid.page.with(|p| {
            p.as_ref().is_ok_and(|p| {
                p.lines.iter().any(|l| {
                    l.row_index == row && matches!(l.status.as_str(), "succeeded" | "failed")
                })
            })
        })
    };
    view! {
        <span class="drill__review" role="group" aria-label="Review this row">
            <button
                type="button"
                class="btn btn--secondary btn--sm"
                disabled=move || !reviewable() || grid.saving.get()
                on:click=move |_| grid.accept(row)
            >
                "Accept"
            </button>
            <button
                type="button"
                class="btn btn--secondary btn--sm"
                disabled=move || !reviewable()
                on:click=move |_| grid.start_fix(row)
            >
                "Fix…"
            </button>
            <button
                type="button"
                class="btn btn--secondary btn--sm"
                disabled=move || !reviewable()
                on:click=move |_| grid.start_reject(row)
            >
                "Reject…"
            </button>
        </span>
    }
}

#[component]
fn DrillBody(d: RowDrill) -> impl IntoView {
    let review = d.review.clone().map(|r| {
        let what = match r.decision {
            rowbench_workbench::reviews::Decision::Accept => "Accepted",
            rowbench_workbench::reviews::Decision::Fix => "Fixed",
            rowbench_workbench::reviews::Decision::Reject => "Rejected",
        };
        let reason = r.reason.clone().map(|reason| view! { <q>{reason}</q> });
        let changed = r.model_changed.then(
            || view! { <span class="badge badge--warning">"model answered again since"</span> },
        );
        view! {
            <p class="drill__reviewed" data-testid="drill-review">
                {format!("{what} by {} on {}", r.reviewed_by, r.reviewed_at)}
                " "
                {reason}
                " "
                {changed}
            </p>
        }
    });
    view! {
        {review}
        <div class="drill__grid">
            <div>
                <h3 class="section-title">"Original row"</h3>
                <dl class="kv" data-testid="drill-cells">
                    {d
                        .cells
                        .into_iter()
                        .map(|(k, v)| {
                            view! {
                                <dt>{k}</dt>
                                <dd>{v}</dd>
                            }
                        })
                        .collect_view()}
                </dl>
            </div>
            <div>
                <h3 class="section-title">
                    "Answer "
                    <span class=format!(
                        "badge {}",
                        if d.status == "succeeded" {
                            "badge--success"
                        } else if d.status == "failed" {
                            "badge--danger"
                        } else {
                            "badge--neutral"
                        },
                    )>{d.status.clone()}</span>
                </h3>
                <dl class="kv" data-testid="drill-answers">
                    {answer_items(d.answers)}
                </dl>
                {d
                    .error
                    .map(|e| {
                        view! {
                            <div class="alert alert--danger small" role="alert">
                                <strong class="alert__title">"Error"</strong>
                                <div class="alert__body">{e}</div>
                            </div>
                        }
                    })}
            </div>
        </div>
        <EarlierAnswers earlier=d.earlier />
        <h3 class="section-title">"Messages sent"</h3>
        {d.examples.map(|e| view! { <ExamplesNote examples=e /> })}
        <p class="preview__label">"System"</p>
        <pre class="preview__body" tabindex="0" data-testid="drill-system">
            {d.system.unwrap_or_default()}
        </pre>
        <p class="preview__label">"User"</p>
        <pre class="preview__body" tabindex="0" data-testid="drill-user">
            {d.user.unwrap_or_default()}
        </pre>
        <Attempts attempts=d.attempts />
    }
}

/// Which reviewed rows a re-run showed this row as worked examples (they are in the system
/// message below).
#[component]
fn ExamplesNote(examples: RowExamples) -> impl IntoView {
    let rows: Vec<String> = examples.rows.iter().map(|r| (r + 1).to_string()).collect();
    let how = match examples.choose {
        rowbench_recipe::few_shot::Choose::Closest => {
            format!("the closest by {}", examples.by.join(", "))
        }
        rowbench_recipe::few_shot::Choose::Random => "chosen at random".to_string(),
    };
    let text = if rows.is_empty() {
        format!(
            "Re-run {} had no other reviewed row to show this row as an example.",
            examples.generation
        )
    } else {
        format!(
            "Worked examples from re-run {}: {} {} ({how}), with the answers a reviewer vouched for.",
            examples.generation,
            if rows.len() == 1 { "row" } else { "rows" },
            rows.join(", "),
        )
    };
    view! {
        <p class="alert alert--info small" data-testid="drill-examples">
            {text}
        </p>
    }
}

/// Every call made for the row, with the request as sent and the raw response.
#[component]
fn Attempts(attempts: Vec<AttemptLine>) -> impl IntoView {
    view! {
        <h3 class="section-title">{format!("Attempts ({})", attempts.len())}</h3>
        {if attempts.is_empty() {
            view! { <p class="small muted">"No call made yet."</p> }.into_any()
        } else {
            view! {
                <ol class="timeline">
                    {attempts
                        .into_iter()
                        .map(|a| {
                            let tone = match a.outcome.as_str() {
                                "ok" => "badge--success",
                                "retryable" => "badge--neutral",
                                _ => "badge--danger",
                            };
                            view! {
                                <li class="timeline__item">
                                    <div class="timeline__head">
                                        <span class=format!(
                                            "badge {tone}",
                                        )>{a.outcome.clone()}</span>
                                        <span class="small">
                                            {format!("claim {} · call {}", a.claim, a.call_no)}
                                        </span>
                                        <span class="small muted">{a.started.clone()}</span>
                                        <span class="small">
                                            {a
                                                .http_status
                                                .map(|s| format!("HTTP {s}"))
                                                .unwrap_or_else(|| "no response".into())}
                                        </span>
                                        <span class="small">
                                            {a
                                                .latency_ms
                                                .map(|ms| format!("{ms} ms"))
                                                .unwrap_or_default()}
                                        </span>
                                        <span class="small">
                                            {format!(
                                                "{} in / {} out tokens",
                                                a.input_tokens.unwrap_or(0),
                                                a.output_tokens.unwrap_or(0),
                                            )}
                                        </span>
                                        <span class="small">
                                            {a.cost_usd.map(human_usd).unwrap_or_default()}
                                        </span>
                                    </div>
                                    {a
                                        .error
                                        .map(|e| {
                                            view! { <p class="small timeline__error">{e}</p> }
                                        })}
                                    <details>
                                        <summary class="small">"Request as sent"</summary>
                                        <pre class="preview__body preview__body--code" tabindex="0">
                                            {a.request.unwrap_or_default()}
                                        </pre>
                                    </details>
                                    <details>
                                        <summary class="small">"Raw response"</summary>
                                        <pre class="preview__body preview__body--code" tabindex="0">
                                            {a.raw_response.unwrap_or_default()}
                                        </pre>
                                    </details>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            }
                .into_any()
        }}
    }
}

/// The answers a row had before it was retried, oldest first.
#[component]
fn EarlierAnswers(earlier: Vec<EarlierLine>) -> impl IntoView {
    (!earlier.is_empty()).then(|| {
        view! {
            <h3 class="section-title">{format!("Earlier answers ({})", earlier.len())}</h3>
            <ol class="timeline" data-testid="drill-earlier">
                {earlier
                    .into_iter()
                    .map(|e| {
                        let tone = if e.status == "succeeded" {
                            "badge--success"
                        } else {
                            "badge--danger"
                        };
                        view! {
                            <li class="timeline__item" data-testid="earlier-answer">
                                <div class="timeline__head">
                                    <span class=format!("badge {tone}")>{e.status.clone()}</span>
                                    <span class="small">{format!("claim {}", e.claim)}</span>
                                    <span class="small muted">
                                        {e
                                            .finished
                                            .clone()
                                            .map(|f| format!("finished {f}"))
                                            .unwrap_or_default()}
                                    </span>
                                    <span class="small muted">
                                        {format!("replaced {}", e.replaced)}
                                    </span>
                                    <span class="small">
                                        {e.cost_usd.map(human_usd).unwrap_or_default()}
                                    </span>
                                </div>
                                {(!e.answers.is_empty())
                                    .then(|| {
                                        view! { <dl class="kv">{answer_items(e.answers)}</dl> }
                                    })}
                                {e
                                    .error
                                    .map(|err| {
                                        view! { <p class="small timeline__error">{err}</p> }
                                    })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
    })
}

/// The answer fields as a definition list's terms and values: the row's answer and each earlier
/// one read alike.
fn answer_items(answers: Vec<(String, String)>) -> impl IntoView {
    answers
        .into_iter()
        .map(|(k, v)| {
            view! {
                <dt>
                    <code>{k}</code>
                </dt>
                <dd>{v}</dd>
            }
        })
        .collect_view()
}
