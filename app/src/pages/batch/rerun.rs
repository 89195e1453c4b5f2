//! "Run rows again": the rejected, failed or every finished row back in the queue, optionally
//! shown a few rows a person accepted or fixed as worked examples (the closest to each row by a
//! column, or at random), which its drill-down then shows in the prompt.

use leptos::prelude::*;
use rowbench_recipe::estimate::human_count;

use super::accuracy::ProblemLine;
use super::live::{Progress, read_back};
use crate::api::batch::{
    ExamplesRequest, MAX_EXAMPLES, RerunReport, RerunRequest, RerunScope, rerun_batch_rows,
};

/// What a started re-run says: "2 rows are back in the queue, each shown 3 examples from 12
/// reviewed rows."
fn started_line(report: &RerunReport) -> String {
    let rows = format!(
        "{} {} back in the queue",
        human_count(report.rows),
        if report.rows == 1 {
            "row is"
        } else {
            "rows are"
        }
    );
    match &report.examples {
        None => format!("{rows}, with the prompt as it was."),
        Some(examples) => format!(
            "{rows}, each shown up to {} worked {} ({}) from {} reviewed {}.",
            examples.count,
            if examples.count == 1 {
                "example"
            } else {
                "examples"
            },
            match examples.choose {
                rowbench_recipe::few_shot::Choose::Closest => "the closest",
                rowbench_recipe::few_shot::Choose::Random => "at random",
            },
            human_count(examples.pool),
            if examples.pool == 1 { "row" } else { "rows" },
        ),
    }
}

#[component]
pub(super) fn RerunPanel(
    id: i64,
    live: RwSignal<Progress>,
    /// Bumped after the re-run starts, which reopens the event stream.
    generation: RwSignal<u64>,
    /// The columns examples can be compared on (the table's), by name.
    columns: Vec<String>,
) -> impl IntoView {
    let scope = RwSignal::new("rejected".to_string());
    let with_examples = RwSignal::new(true);
    let count = RwSignal::new("3".to_string());
    let choose = RwSignal::new("closest".to_string());
    // Empty: the columns the model sees.
    let by = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let problem: RwSignal<Option<String>> = RwSignal::new(None);
    let started: RwSignal<Option<String>> = RwSignal::new(None);
    let columns = StoredValue::new(columns);
    let submit = move || {
        let Some(rows) = RerunScope::parse(&scope.get_untracked()) else {
            return;
        };
        let examples = if with_examples.get_untracked() {
            let Some(count) = count
                .get_untracked()
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_EXAMPLES).contains(n))
            else {
                problem.set(Some(format!(
                    "Examples per row is a whole number from 1 to {MAX_EXAMPLES}."
                )));
                return;
            };
            let choose = rowbench_recipe::few_shot::Choose::parse(&choose.get_untracked())
                .unwrap_or(rowbench_recipe::few_shot::Choose::Closest);
            let by = Some(by.get_untracked()).filter(|b| !b.is_empty());
            Some(ExamplesRequest {
                count,
                choose,
                by: by.map(|b| vec![b]),
            })
        } else {
            None
        };
        busy.set(true);
        started.set(None);
        leptos::task::spawn_local(async move {
            match rerun_batch_rows(id, RerunRequest { rows, examples }).await {
                Ok(report) => {
                    problem.set(None);
                    started.set(Some(started_line(&report)));
                    read_back(id, live).await;
                    generation.update(|g| *g += 1);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    // As the server rules: a paused batch is resumed first, a cancelled one cloned.
    let blocked =
        move || live.with(|p| matches!(p.status.as_str(), "queued" | "paused" | "cancelled"));
    view! {
        <section class="card rerun" data-testid="rerun" aria-labelledby="rerun-title">
            <header class="accuracy__head">
                <h2 id="rerun-title" class="section-title">
                    "Run rows again"
                </h2>
            </header>
            <p class="small muted">
                "Send rows back to the model. With worked examples, each row's prompt also shows a few rows you accepted or fixed, with the answers you vouched for: the fixes teach the model what it got wrong."
            </p>
            <ProblemLine problem />
            <form
                class="rerun__form"
                data-testid="rerun-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <label class="small">
                    <span>"Rows"</span>
                    <select
                        class="select"
                        name="rows"
                        aria-label="Rows to run again"
                        on:change=move |ev| scope.set(event_target_value(&ev))
                    >
                        <option value="rejected" selected=move || scope.with(|s| s == "rejected")>
                            "the rejected ones"
                        </option>
                        <option value="failed" selected=move || scope.with(|s| s == "failed")>
                            "the failed ones"
                        </option>
                        <option value="all" selected=move || scope.with(|s| s == "all")>
                            "every finished row"
                        </option>
                    </select>
                </label>
                <label class="small rerun__check">
                    <input
                        type="checkbox"
                        name="examples"
                        prop:checked=move || with_examples.get()
                        on:change=move |ev| with_examples.set(event_target_checked(&ev))
                    />
                    <span>"with worked examples"</span>
                </label>
                {move || {
                    with_examples
                        .get()
                        .then(|| {
                            let options = columns.get_value();
                            view! {
                                <label class="small">
                                    <span>"Per row"</span>
                                    <input
                                        class="input input--sm input--narrow"
                                        inputmode="numeric"
                                        name="count"
                                        aria-label="Worked examples per row"
                                        prop:value=move || count.get()
                                        on:input=move |ev| count.set(event_target_value(&ev))
                                    />
                                </label>
                                <label class="small">
                                    <span>"Chosen"</span>
                                    <select
                                        class="select"
                                        name="choose"
                                        aria-label="How examples are chosen"
                                        on:change=move |ev| choose.set(event_target_value(&ev))
                                    >
                                        <option
                                            value="closest"
                                            selected=move || choose.with(|c| c == "closest")
                                        >
                                            "closest to the row"
                                        </option>
                                        <option
                                            value="random"
                                            selected=move || choose.with(|c| c == "random")
                                        >
                                            "at random"
                                        </option>
                                    </select>
                                </label>
                                {move || {
                                    let options = options.clone();
                                    choose
                                        .with(|c| c == "closest")
                                        .then(move || {
                                            view! {
                                                <label class="small">
                                                    <span>"By"</span>
                                                    <select
                                                        class="select"
                                                        name="by"
                                                        aria-label="Compare rows by"
                                                        on:change=move |ev| by.set(event_target_value(&ev))
                                                    >
                                                        <option value="" selected=move || by.with(String::is_empty)>
                                                            "the columns the model sees"
                                                        </option>
                                                        {options
                                                            .into_iter()
                                                            .map(|c| {
                                                                let chosen = c.clone();
                                                                let value = c.clone();
                                                                view! {
                                                                    <option
                                                                        value=value
                                                                        selected=move || by.with(|b| *b == chosen)
                                                                    >
                                                                        {c}
                                                                    </option>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </select>
                                                </label>
                                            }
                                        })
                                }}
                            }
                        })
                }}
                <button
                    type="submit"
                    class="btn btn--primary btn--sm"
                    disabled=move || busy.get() || blocked()
                    title=move || {
                        blocked()
                            .then_some(
                                "Rows run again once the batch is running or has finished: resume a paused batch, clone a cancelled one.",
                            )
                    }
                    data-testid="rerun-start"
                >
                    {move || if busy.get() { "Starting…" } else { "Run again" }}
                </button>
            </form>
            {move || {
                started
                    .get()
                    .map(|line| {
                        view! {
                            <p
                                class="alert alert--success small"
                                role="status"
                                data-testid="rerun-started"
                            >
                                {line}
                            </p>
                        }
                    })
            }}
        </section>
    }
}
