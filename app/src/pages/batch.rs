//! A batch's own page: live progress (server-sent events), the controls, the answer charts, the
//! queue table with filters, search and keyset paging, and one row's drill-down.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use rowbench_recipe::estimate::{human_count, human_duration, human_usd};
use serde::Deserialize;

use crate::api::batch_page::{
    BatchFacts, BatchScreenData, Chart, EarlierLine, QueuePage, RowDrill, Trial, batch_charts,
    clone_batch, control_batch, delete_batch, fetch_queue_page, fetch_row_drill, load_batch_screen,
    retry_batch_row, retry_trial_with_changes, run_remaining_rows,
};
use crate::api::batches::{BatchView, load_batch};
use crate::components::export_panel::ExportPanel;
use crate::components::notice::ErrorNotice;
use crate::components::refresh::{fetch_in_browser_when, refetch_when};
use crate::error::AppError;

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
    fn from_page(view: &BatchView, facts: &BatchFacts) -> Self {
        Progress {
            status: view.item.state.label().to_lowercase(),
            total_rows: view.item.total_rows,
            counts: Counts {
                queued: view.queued,
                running: view.running,
                succeeded: view.succeeded,
                failed: view.failed,
                cancelled: view.cancelled,
            },
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
        self.counts = Counts {
            queued: view.queued,
            running: view.running,
            succeeded: view.succeeded,
            failed: view.failed,
            cancelled: view.cancelled,
        };
        self.pause_reason = None;
    }

    fn finished(&self) -> i64 {
        self.counts.succeeded + self.counts.failed
    }

    fn percent(&self, rows: i64) -> i64 {
        if self.total_rows <= 0 {
            0
        } else {
            (rows * 100 / self.total_rows).clamp(0, 100)
        }
    }

    fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "running" | "queued")
    }

    fn label(&self) -> &'static str {
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

    fn tone(&self) -> &'static str {
        match self.status.as_str() {
            "running" => "badge--info",
            "completed" => "badge--success",
            "failed" => "badge--danger",
            "cancelled" => "badge--muted",
            _ => "badge--neutral",
        }
    }
}

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
    // The whole first screen in one resource, awaited in the page's only Suspense: the table,
    // charts and drill-down refresh in the browser (see `components::refresh`), so rendering
    // on the server never has a second resource or Transition in flight.
    let page = Resource::new(move || id.get(), load_batch_screen);
    view! {
        <Title text="Batch" />
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading the batch…"</div> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => view! {
                        <ErrorNotice error />
                        <p><a class="btn btn--secondary" href="/" data-testid="back-to-batches">"← Back to the batches"</a></p>
                    }.into_any(),
                    Ok(data) => view! { <BatchScreen id=id.get_untracked() data /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Opens the batch's event stream and feeds `live`; closes it once the batch has stopped moving.
/// `generation` reopens it (after Resume or a retry).
#[cfg(feature = "hydrate")]
fn follow(id: i64, live: RwSignal<Progress>, generation: RwSignal<u64>) {
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

#[component]
fn BatchScreen(id: i64, data: BatchScreenData) -> impl IntoView {
    let BatchScreenData {
        view,
        facts,
        charts,
        queue,
    } = data;
    let live = RwSignal::new(Progress::from_page(&view, &facts));
    let generation = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    follow(id, live, generation);

    let action_error: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    // Cancelling ends every unfinished row for good: it asks first, saying how many.
    let confirm_cancel = RwSignal::new(false);
    let act = move |action: &'static str| {
        busy.set(true);
        action_error.set(None);
        leptos::task::spawn_local(async move {
            match control_batch(id, action.to_string()).await {
                Ok(()) => {
                    if let Ok(view) = load_batch(id).await {
                        live.update(|p| p.after_action(&view));
                    }
                    generation.update(|g| *g += 1);
                }
                Err(error) => action_error.set(Some(error.to_string())),
            }
            busy.set(false);
        });
    };
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

    let item = view.item.clone();
    let facts = StoredValue::new(facts);
    // Charts and the table refresh as rows finish, at most a few times a second.
    let finished = Memo::new(move |_| live.with(Progress::finished));

    view! {
        <div class="page-header page-header--tight">
            <div>
                <p class="eyebrow">{format!("Batch #{}", item.id)}</p>
                <h1>{item.name.clone()}</h1>
                <p class="lead">{format!("{} · {} · started {}", view.provider_label, view.model_label, item.created)}</p>
            </div>
            <span class=move || format!("badge badge--lg {}", live.with(Progress::tone)) data-testid="batch-state">
                {move || live.with(Progress::label)}
            </span>
        </div>
        {view.is_demo.then(|| view! {
            <p class="alert alert--info small">"Offline demo provider: these answers are synthetic data made up on this server, not a model's."</p>
        })}
        {move || live.with(|p| p.pause_reason.clone()).filter(|_| live.with(|p| p.status == "paused")).map(|reason| view! {
            <div class="alert alert--warning" role="alert" data-testid="pause-reason">
                <strong class="alert__title">"Paused"</strong>
                <div class="alert__body">{reason}</div>
            </div>
        })}
        {facts.with_value(|f| f.trial).map(|trial| view! { <TrialBanner id trial live generation /> })}
        <section class="card batch-progress">
            <div class="batch-progress__top">
                <p class="batch-progress__headline" data-testid="batch-progress">
                    {move || live.with(|p| format!("{}% · {} of {} rows finished", p.percent(p.finished()), human_count(p.finished() as u64), human_count(p.total_rows as u64)))}
                </p>
                <div class="batch-actions">
                    {move || {
                        let p = live.get();
                        let status = p.status.clone();
                        view! {
                            {(status == "running" || status == "queued").then(|| view! {
                                <button type="button" class="btn btn--secondary" disabled=move || busy.get() on:click=move |_| act("pause")>"Pause"</button>
                            })}
                            {(status == "paused").then(|| view! {
                                <button type="button" class="btn btn--primary" disabled=move || busy.get() on:click=move |_| act("resume")>"Resume"</button>
                            })}
                            {(p.counts.failed > 0).then(|| view! {
                                <button type="button" class="btn btn--secondary" disabled=move || busy.get() on:click=move |_| act("retry-failed")>
                                    {format!("Retry {} failed", p.counts.failed)}
                                </button>
                            })}
                            {matches!(status.as_str(), "running" | "queued" | "paused").then(|| {
                                let unfinished = p.counts.queued + p.counts.running;
                                if confirm_cancel.get() {
                                    view! {
                                        <span class="confirm confirm--inline" role="group" aria-label="Confirm cancelling" data-testid="confirm-cancel">
                                            {format!("End {} unfinished {}? This cannot be undone.", human_count(unfinished.max(0) as u64), if unfinished == 1 { "row" } else { "rows" })}
                                            <button type="button" class="btn btn--danger btn--sm" disabled=move || busy.get()
                                                on:click=move |_| { confirm_cancel.set(false); act("cancel") }>"Cancel the batch"</button>
                                            <button type="button" class="btn btn--ghost btn--sm" on:click=move |_| confirm_cancel.set(false)>"Keep it"</button>
                                        </span>
                                    }.into_any()
                                } else {
                                    view! {
                                        <button type="button" class="btn btn--ghost btn--danger-text" disabled=move || busy.get()
                                            on:click=move |_| confirm_cancel.set(true)>"Cancel…"</button>
                                    }.into_any()
                                }
                            })}
                        }
                    }}
                </div>
            </div>
            <div class="progress progress--wide" role="progressbar" aria-label="Rows finished" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || live.with(|p| p.percent(p.finished()))>
                <div class="progress__bar" style=move || live.with(|p| format!("width: {}%", p.percent(p.counts.succeeded)))></div>
                <div class="progress__bar progress__bar--failed" style=move || live.with(|p| format!("width: {}%", p.percent(p.counts.failed)))></div>
            </div>
            <dl class="counts">
                <div><dt>"Done"</dt><dd data-testid="count-succeeded">{move || live.with(|p| human_count(p.counts.succeeded.max(0) as u64))}</dd></div>
                <div><dt>"Failed"</dt><dd class="is-failed" data-testid="count-failed">{move || live.with(|p| human_count(p.counts.failed.max(0) as u64))}</dd></div>
                <div><dt>"Running"</dt><dd data-testid="count-running">{move || live.with(|p| human_count(p.counts.running.max(0) as u64))}</dd></div>
                <div><dt>"Queued"</dt><dd data-testid="count-queued">{move || live.with(|p| human_count(p.counts.queued.max(0) as u64))}</dd></div>
                <div data-testid="rate-or-duration">
                    <dt>{move || if live.with(|p| p.ran_for_ms.is_some() && !p.is_active()) { "Took" } else { "Rate" }}</dt>
                    <dd>{move || live.with(|p| match p.ran_for_ms.filter(|_| !p.is_active()) {
                        Some(ms) => human_duration(ms.max(0) as f64 / 1000.0),
                        None => p.rows_per_minute.map_or("—".to_string(), |r| format!("{} a minute", human_count(r.round().max(0.0) as u64))),
                    })}</dd>
                </div>
                <div><dt>"Time left"</dt><dd>{move || live.with(|p| if p.is_active() { p.eta_seconds.map_or("—".to_string(), human_duration) } else { "—".to_string() })}</dd></div>
                <div><dt>"Tokens in / out"</dt><dd class="counts__small">{move || live.with(|p| format!("{} / {}", human_count(p.input_tokens.max(0) as u64), human_count(p.output_tokens.max(0) as u64)))}</dd></div>
                <div><dt>"Cost"</dt><dd>{move || live.with(|p| human_usd(p.cost_usd))}</dd></div>
            </dl>
            {move || action_error.get().map(|e| view! { <p class="alert alert--danger" role="alert">{e}</p> })}
            <ExportPanel id status=Signal::derive(move || live.with(|p| p.status.clone()))
                finished total_rows=item.total_rows />
            <div class="batch-actions batch-actions--end">
                <button type="button" class="btn btn--ghost btn--sm" on:click=clone>"Clone into a new draft"</button>
            </div>
        </section>
        <Charts id finished total=Memo::new(move |_| live.with(|p| p.total_rows)) initial=charts />
        <QueueTable id live finished facts initial=queue />
    }
}

#[component]
fn Charts(id: i64, finished: Memo<i64>, total: Memo<i64>, initial: Vec<Chart>) -> impl IntoView {
    let charts = RwSignal::new(initial);
    // New charts every 2.5% of the rows, not on every row of a big batch (a trial's rows count
    // again once the rest of its dataset joins).
    let step = Memo::new(move |_| finished.get() * 40 / total.get().max(1));
    refetch_when(
        move || step.get(),
        move |_| batch_charts(id),
        move |answer: Result<Vec<Chart>, AppError>| {
            if let Ok(fresh) = answer {
                charts.set(fresh);
            }
        },
    );
    move || {
        let charts = charts.get();
        (!charts.is_empty()).then(|| {
            view! {
                <section class="charts">
                    {charts.into_iter().map(|chart| view! { <BarChart chart /> }).collect_view()}
                </section>
            }
        })
    }
}

/// Horizontal bars as HTML (no chart library, no CDN): the labels are text at the page's own
/// size, where a scaled SVG drew them at 16 px on a desktop and 9 px on a phone.
#[component]
fn BarChart(chart: Chart) -> impl IntoView {
    let max = chart.bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let total: i64 = chart.bars.iter().map(|(_, n)| *n).sum();
    view! {
        <figure class="chart card" data-testid="chart">
            <figcaption class="chart__title">
                <code>{chart.field.clone()}</code>
                <span class="muted small">{if chart.is_histogram { " · histogram" } else { " · answers" }}</span>
            </figcaption>
            {if chart.bars.is_empty() || total == 0 {
                view! { <p class="small muted">"No answers yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="bars" aria-label=format!("Distribution of {}", chart.field)>
                        {chart.bars.iter().map(|(label, n)| {
                            let width = (*n as f64 / max as f64 * 100.0).max(0.5);
                            view! {
                                <li class="bars__row">
                                    <span class="bars__label" title=label.clone()>{truncate_label(label)}</span>
                                    <span class="bars__track" aria-hidden="true">
                                        <span class="bars__bar" style=format!("width: {width:.1}%")></span>
                                    </span>
                                    <span class="bars__value">{human_count((*n).max(0) as u64)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </figure>
    }
}

fn truncate_label(label: &str) -> String {
    if label.chars().count() > 18 {
        format!("{}…", label.chars().take(17).collect::<String>())
    } else {
        label.to_string()
    }
}

/// Where the table is: first page, after a row, or before a row.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cursor {
    Start,
    After(i64),
    Before(i64),
}

/// The status filters of the queue table, as the address names them.
const STATUS_FILTERS: [&str; 6] = [
    "all",
    "succeeded",
    "failed",
    "running",
    "queued",
    "cancelled",
];

/// The batch page's address for an open row (0-based), a status filter and a search.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn queue_address(id: i64, row: Option<i64>, status: &str, search: &str) -> String {
    let mut query = Vec::new();
    if status != "all" {
        query.push(format!("status={status}"));
    }
    if !search.is_empty() {
        query.push(format!("q={}", crate::text::url_encoded(search)));
    }
    if let Some(row) = row {
        query.push(format!("row={}", row + 1));
    }
    if query.is_empty() {
        format!("/batches/{id}")
    } else {
        format!("/batches/{id}?{}", query.join("&"))
    }
}

#[component]
fn QueueTable(
    id: i64,
    live: RwSignal<Progress>,
    finished: Memo<i64>,
    facts: StoredValue<BatchFacts>,
    initial: QueuePage,
) -> impl IntoView {
    // The filter and the search are in the address too (`?status=failed&q=T-12`), so a
    // reload or a shared link shows the same rows.
    let (url_status, url_search) = use_query_map().with_untracked(|q| {
        (
            q.get("status")
                .filter(|s| STATUS_FILTERS.contains(&s.as_str()))
                .unwrap_or_else(|| "all".to_string()),
            q.get("q").unwrap_or_default(),
        )
    });
    let filtered_from_url = url_status != "all" || !url_search.is_empty();
    let status = RwSignal::new(url_status);
    let search = RwSignal::new(url_search);
    let cursor = RwSignal::new(Cursor::Start);
    // The open row is named in the address (`?row=12`, as the table numbers it), so a link to
    // it opens it.
    let selected: RwSignal<Option<i64>> = RwSignal::new(
        use_query_map()
            .with_untracked(|q| q.get("row").and_then(|r| r.parse::<i64>().ok()))
            .filter(|r| *r >= 1)
            .map(|r| r - 1),
    );
    #[cfg(feature = "hydrate")]
    {
        let navigate = use_navigate();
        Effect::watch(
            move || (selected.get(), status.get(), search.get()),
            move |(row, status, search), _, _| {
                let path = queue_address(id, *row, status, search);
                let options = leptos_router::NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                };
                navigate(&path, options);
            },
            false,
        );
    }
    // A trial grows when its remaining rows are added.
    let total = Memo::new(move |_| live.with(|p| p.total_rows));
    let running = Memo::new(move |_| live.with(|p| p.counts.running));
    let page: RwSignal<Result<QueuePage, AppError>> = RwSignal::new(Ok(initial));
    // The first screen came unfiltered from the server; a filter named in the address is
    // applied as soon as the page is live.
    let watch = if filtered_from_url {
        fetch_in_browser_when
    } else {
        refetch_when
    };
    watch(
        move || {
            (
                status.get(),
                search.get(),
                cursor.get(),
                finished.get(),
                running.get(),
            )
        },
        move |(status, search, cursor, _, _)| {
            let (after, before) = match cursor {
                Cursor::Start => (None, None),
                Cursor::After(i) => (Some(i), None),
                Cursor::Before(i) => (None, Some(i)),
            };
            fetch_queue_page(id, Some(status), search, after, before)
        },
        move |answer| page.set(answer),
    );
    let (key_names, shown_names, field_names) = facts.with_value(|f| {
        let names = |positions: &[usize]| {
            positions
                .iter()
                .filter_map(|&i| f.columns.get(i).cloned())
                .collect::<Vec<_>>()
        };
        (
            names(&f.key_columns),
            names(&f.shown_columns),
            f.fields.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        )
    });
    let has_keys = !key_names.is_empty();
    let chip = move |value: &'static str, label: &'static str| {
        let count = move || {
            live.with(|p| match value {
                "queued" => p.counts.queued,
                "running" => p.counts.running,
                "succeeded" => p.counts.succeeded,
                "failed" => p.counts.failed,
                "cancelled" => p.counts.cancelled,
                _ => p.total_rows,
            })
        };
        view! {
            <button type="button" class="filter-chip" class:is-active=move || status.get() == value
                aria-pressed=move || (status.get() == value).to_string()
                on:click=move |_| { status.set(value.to_string()); cursor.set(Cursor::Start); }>
                {label} <span class="filter-chip__count">{count}</span>
            </button>
        }
    };
    view! {
        <section class="card card--flush queue">
            <div class="queue__tools">
                <div class="filter-chips" role="group" aria-label="Show rows">
                    {chip("all", "All")}
                    {chip("succeeded", "Done")}
                    {chip("failed", "Failed")}
                    {chip("running", "Running")}
                    {chip("queued", "Queued")}
                    {chip("cancelled", "Cancelled")}
                </div>
                {has_keys.then(|| view! {
                    <input type="search" class="input queue__search" placeholder=format!("Search {}", key_names.join(", "))
                        aria-label="Search key columns" prop:value=move || search.get()
                        on:change=move |ev| { search.set(event_target_value(&ev)); cursor.set(Cursor::Start); } />
                })}
            </div>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Rows of the batch">
                <table class="table queue__table">
                    <thead>
                        <tr>
                            <th scope="col" class="num">"Row"</th>
                            {shown_names.iter().map(|k| view! { <th scope="col">{k.clone()}</th> }).collect_view()}
                            <th scope="col">"Status"</th>
                            {field_names.iter().map(|f| view! { <th scope="col"><code>{f.clone()}</code></th> }).collect_view()}
                            <th scope="col">"Started"</th>
                            <th scope="col">"Finished"</th>
                            <th scope="col" class="num">"Latency"</th>
                        </tr>
                    </thead>
                    {move || match page.get() {
                        Err(error) => view! { <tbody><tr><td colspan="100">{error.to_string()}</td></tr></tbody> }.into_any(),
                        Ok(page) => view! { <QueueRows page selected /> }.into_any(),
                    }}
                </table>
            </div>
            <div class="queue__paging">
                <button type="button" class="btn btn--ghost btn--sm" disabled=move || cursor.get() == Cursor::Start
                    on:click=move |_| {
                        let first = page.with(|p| p.as_ref().ok().and_then(|p| p.lines.first().map(|l| l.row_index)));
                        cursor.set(first.map_or(Cursor::Start, Cursor::Before));
                    }>"← Previous"</button>
                <button type="button" class="btn btn--ghost btn--sm"
                    disabled=move || !page.with(|p| p.as_ref().is_ok_and(|p| p.has_more || matches!(cursor.get(), Cursor::Before(_))))
                    on:click=move |_| {
                        let last = page.with(|p| p.as_ref().ok().and_then(|p| p.lines.last().map(|l| l.row_index)));
                        if let Some(last) = last { cursor.set(Cursor::After(last)); }
                    }>"Next →"</button>
            </div>
        </section>
        {move || selected.get().map(|row| view! { <DrillDown id row total selected finished /> })}
    }
}

#[component]
fn QueueRows(page: QueuePage, selected: RwSignal<Option<i64>>) -> impl IntoView {
    if page.lines.is_empty() {
        return view! { <tbody><tr><td colspan="100" class="muted">"No rows here."</td></tr></tbody> }.into_any();
    }
    view! {
        <tbody>
            {page.lines.into_iter().map(|line| {
                let row = line.row_index;
                let tone = match line.status.as_str() {
                    "succeeded" => "badge--success",
                    "failed" => "badge--danger",
                    "running" => "badge--info",
                    "cancelled" => "badge--muted",
                    _ => "badge--neutral",
                };
                view! {
                    <tr class="queue__row" class:is-selected=move || selected.get() == Some(row)
                        tabindex="0" data-testid="queue-row"
                        on:click=move |_| selected.set(Some(row))
                        on:keydown=move |ev| if ev.key() == "Enter" { selected.set(Some(row)) }>
                        <td class="num">{row + 1}</td>
                        {line.cells.into_iter().map(|k| { let full = k.clone(); view! { <td class="truncate" title=full>{k}</td> } }).collect_view()}
                        <td><span class=format!("badge {tone}")>{line.status.clone()}</span></td>
                        {line.answers.into_iter().map(|a| { let full = a.clone(); view! { <td class="truncate" title=full>{a}</td> } }).collect_view()}
                        <td class="muted small">{line.started.clone().unwrap_or_default()}</td>
                        <td class="muted small" title=line.error.clone().unwrap_or_default()>
                            {line.finished.clone().unwrap_or_default()}
                        </td>
                        <td class="num">{line.latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}</td>
                    </tr>
                }
            }).collect_view()}
        </tbody>
    }.into_any()
}

#[component]
fn DrillDown(
    id: i64,
    row: i64,
    total: Memo<i64>,
    selected: RwSignal<Option<i64>>,
    finished: Memo<i64>,
) -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    // The panel only ever opens in the browser, after a click: it loads there, like the table.
    let drill: RwSignal<Option<Result<RowDrill, AppError>>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move { drill.set(Some(fetch_row_drill(id, row).await)) });
    refetch_when(
        move || (refresh.get(), finished.get()),
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
        <aside class="drawer drill" node_ref=panel tabindex="-1" role="dialog" aria-modal="false"
            data-testid="drill-down" aria-label=format!("Row {}", row + 1)>
            <header class="drill__head">
                <h2>{format!("Row {}", row + 1)}</h2>
                <span class="spacer"></span>
                <button type="button" class="btn btn--ghost btn--sm btn--icon" aria-label="Previous row" title="Previous row"
                    disabled={row == 0} on:click=move |_| selected.set(Some(row - 1))>"←"</button>
                <button type="button" class="btn btn--ghost btn--sm btn--icon" aria-label="Next row" title="Next row"
                    disabled={move || row + 1 >= total.get()} on:click=move |_| selected.set(Some(row + 1))>"→"</button>
                <button type="button" class="btn btn--ghost btn--sm" on:click=move |_| selected.set(None)
                    aria-label="Close the row" title="Close (Escape)">"Close"</button>
            </header>
            <div class="drill__actions">
                <button type="button" class="btn btn--secondary btn--sm" on:click=retry>"Retry this row"</button>
            </div>
            {move || retry_error.get().map(|e| view! { <p class="alert alert--danger small" role="alert">{e}</p> })}
            {move || match drill.get() {
                None => view! { <p class="muted">"Loading the row…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                Some(Ok(d)) => view! { <DrillBody d /> }.into_any(),
            }}
        </aside>
    }
}

#[component]
fn DrillBody(d: RowDrill) -> impl IntoView {
    view! {
        <div class="drill__grid">
            <div>
                <h3 class="section-title">"Original row"</h3>
                <dl class="kv" data-testid="drill-cells">
                    {d.cells.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
            </div>
            <div>
                <h3 class="section-title">"Answer " <span class=format!("badge {}", if d.status == "succeeded" { "badge--success" } else if d.status == "failed" { "badge--danger" } else { "badge--neutral" })>{d.status.clone()}</span></h3>
                <dl class="kv" data-testid="drill-answers">
                    {d.answers.into_iter().map(|(k, v)| view! { <dt><code>{k}</code></dt><dd>{v}</dd> }).collect_view()}
                </dl>
                {d.error.map(|e| view! { <div class="alert alert--danger small" role="alert"><strong class="alert__title">"Error"</strong><div class="alert__body">{e}</div></div> })}
            </div>
        </div>
        <EarlierAnswers earlier=d.earlier />
        <h3 class="section-title">"Messages sent"</h3>
        <p class="preview__label">"System"</p>
        <pre class="preview__body" tabindex="0">{d.system.unwrap_or_default()}</pre>
        <p class="preview__label">"User"</p>
        <pre class="preview__body" tabindex="0" data-testid="drill-user">{d.user.unwrap_or_default()}</pre>
        <h3 class="section-title">{format!("Attempts ({})", d.attempts.len())}</h3>
        {if d.attempts.is_empty() {
            view! { <p class="small muted">"No call made yet."</p> }.into_any()
        } else {
            view! {
                <ol class="timeline">
                    {d.attempts.into_iter().map(|a| {
                        let tone = match a.outcome.as_str() { "ok" => "badge--success", "retryable" => "badge--neutral", _ => "badge--danger" };
                        view! {
                            <li class="timeline__item">
                                <div class="timeline__head">
                                    <span class=format!("badge {tone}")>{a.outcome.clone()}</span>
                                    <span class="small">{format!("claim {} · call {}", a.claim, a.call_no)}</span>
                                    <span class="small muted">{a.started.clone()}</span>
                                    <span class="small">{a.http_status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "no response".into())}</span>
                                    <span class="small">{a.latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}</span>
                                    <span class="small">{format!("{} in / {} out tokens", a.input_tokens.unwrap_or(0), a.output_tokens.unwrap_or(0))}</span>
                                    <span class="small">{a.cost_usd.map(human_usd).unwrap_or_default()}</span>
                                </div>
                                {a.error.map(|e| view! { <p class="small timeline__error">{e}</p> })}
                                <details>
                                    <summary class="small">"Request as sent"</summary>
                                    <pre class="preview__body preview__body--code" tabindex="0">{a.request.unwrap_or_default()}</pre>
                                </details>
                                <details>
                                    <summary class="small">"Raw response"</summary>
                                    <pre class="preview__body preview__body--code" tabindex="0">{a.raw_response.unwrap_or_default()}</pre>
                                </details>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }.into_any()
        }}
    }
}

/// A trial's banner: how far it went, and the two ways on. Gone once the rest of the dataset
/// joined the batch.
#[component]
fn TrialBanner(
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
                    if let Ok(view) = load_batch(id).await {
                        live.update(|p| p.after_action(&view));
                    }
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
            <section class="alert alert--info trial" aria-label="Trial run" data-testid="trial-banner">
                <strong class="alert__title">
                    {format!("Trial: the first {} of {} rows", human_count(trial.rows as u64), human_count(trial.dataset_rows as u64))}
                </strong>
                <div class="alert__body">
                    {move || if cancelled() {
                        "This trial was cancelled, so its other rows cannot be added to it; change the prompt and try again.".to_string()
                    } else {
                        format!(
                            "Check its answers, then run the other {} {} in this batch (the trial's answers are kept), or change the prompt and try again.{}",
                            human_count(remaining as u64),
                            if remaining == 1 { "row" } else { "rows" },
                            rest_cost().unwrap_or_default()
                        )
                    }}
                    <div class="batch-actions trial__actions">
                        {move || (!cancelled()).then(|| view! {
                            <button type="button" class="btn btn--primary btn--sm" disabled=move || busy.get() on:click=run_rest>
                                "Run the remaining rows"
                            </button>
                        })}
                        <button type="button" class="btn btn--secondary btn--sm" disabled=move || busy.get() on:click=try_again.clone()>
                            "Change the prompt and try again"
                        </button>
                    </div>
                    {move || error.get().map(|e| view! { <p class="small field__error" role="alert">{e}</p> })}
                </div>
            </section>
        </Show>
    }
}

/// The answers a row had before it was retried, oldest first.
#[component]
fn EarlierAnswers(earlier: Vec<EarlierLine>) -> impl IntoView {
    (!earlier.is_empty()).then(|| {
        view! {
            <h3 class="section-title">{format!("Earlier answers ({})", earlier.len())}</h3>
            <ol class="timeline" data-testid="drill-earlier">
                {earlier.into_iter().map(|e| {
                    let tone = if e.status == "succeeded" { "badge--success" } else { "badge--danger" };
                    view! {
                        <li class="timeline__item" data-testid="earlier-answer">
                            <div class="timeline__head">
                                <span class=format!("badge {tone}")>{e.status.clone()}</span>
                                <span class="small">{format!("claim {}", e.claim)}</span>
                                <span class="small muted">{e.finished.clone().map(|f| format!("finished {f}")).unwrap_or_default()}</span>
                                <span class="small muted">{format!("replaced {}", e.replaced)}</span>
                                <span class="small">{e.cost_usd.map(human_usd).unwrap_or_default()}</span>
                            </div>
                            {(!e.answers.is_empty()).then(|| view! {
                                <dl class="kv">
                                    {e.answers.into_iter().map(|(k, v)| view! { <dt><code>{k}</code></dt><dd>{v}</dd> }).collect_view()}
                                </dl>
                            })}
                            {e.error.map(|err| view! { <p class="small timeline__error">{err}</p> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        }
    })
}

/// Deletes a batch after a confirmation in place; used on the batches list.
#[component]
pub fn DeleteBatch(id: i64, on_deleted: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let delete = move |_| {
        leptos::task::spawn_local(async move {
            match delete_batch(id).await {
                Ok(()) => on_deleted(),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {move || if confirming.get() {
            view! {
                <span class="confirm confirm--inline">
                    "Delete it and its results?"
                    <button type="button" class="btn btn--danger btn--sm" on:click=delete>"Delete"</button>
                    <button type="button" class="btn btn--ghost btn--sm" on:click=move |_| confirming.set(false)>"Keep"</button>
                </span>
            }.into_any()
        } else {
            view! { <button type="button" class="btn btn--ghost btn--sm btn--danger-text" on:click=move |_| confirming.set(true)>"Delete"</button> }.into_any()
        }}
        {move || error.get().map(|e| view! { <span class="small field__error">{e}</span> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_names_the_filter_the_search_and_the_open_row() {
        assert_eq!(queue_address(3, None, "all", ""), "/batches/3");
        assert_eq!(queue_address(3, Some(11), "all", ""), "/batches/3?row=12");
        assert_eq!(
            queue_address(3, Some(0), "failed", "T-1 & co"),
            "/batches/3?status=failed&q=T-1%20%26%20co&row=1"
        );
    }
}
