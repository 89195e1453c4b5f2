//! The results grid of a batch's page: status, review and sample filters, the search of the key
//! columns, one line per row with its answers and its review in a window that scrolls through
//! the batch by keyset, jumps to the first, the last or any row, and the open row. The filters
//! and the open row are named in the address, so a reload or a shared link shows the same.

use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use leptos_router::hooks::use_navigate;
use leptos_router::hooks::use_query_map;

use super::drill_down::DrillDown;
use super::grid::{Asked, Grid, GridRows, Landing, Mode};
use super::live::Progress;
use super::window::{self, Cursor, Edges};
use crate::api::batch::{BatchFacts, QueuePage, REVIEW_FILTERS, fetch_queue_page};
use crate::components::refresh::{fetch_in_browser_when, refetch_when};
use crate::error::AppError;

/// The status filters of the queue table, as the address names them.
const STATUS_FILTERS: [&str; 6] = [
    "all",
    "succeeded",
    "failed",
    "running",
    "queued",
    "cancelled",
];

/// What the grid shows, named in the address (`?status=failed&review=fixed&sample=true&q=T-12`)
/// so a reload or a shared link shows the same rows. Held by the batch page: the sample panel
/// turns the grid to the sample's rows still to review.
#[derive(Debug, Clone, Copy)]
pub(super) struct GridFilters {
    pub status: RwSignal<String>,
    pub review: RwSignal<String>,
    pub search: RwSignal<String>,
    /// Only the rows of the review sample.
    pub sample: RwSignal<bool>,
    /// Whether the batch has a review sample (its chip shows then).
    pub sample_drawn: RwSignal<bool>,
    pub cursor: RwSignal<Cursor>,
    /// Whether the address asked for anything but every row.
    from_address: bool,
}

impl GridFilters {
    /// The filters the page's address names.
    pub(super) fn from_address() -> Self {
        let (status, review, search, sample) = use_query_map().with_untracked(|q| {
            (
                q.get("status")
                    .filter(|s| STATUS_FILTERS.contains(&s.as_str()))
                    .unwrap_or_else(|| "all".to_string()),
                q.get("review")
                    .filter(|s| REVIEW_FILTERS.contains(&s.as_str()))
                    .unwrap_or_else(|| "all".to_string()),
                q.get("q").unwrap_or_default(),
                q.get("sample").as_deref() == Some("true"),
            )
        });
        let from_address = status != "all" || review != "all" || !search.is_empty() || sample;
        Self {
            status: RwSignal::new(status),
            review: RwSignal::new(review),
            search: RwSignal::new(search),
            sample: RwSignal::new(sample),
            sample_drawn: RwSignal::new(sample),
            cursor: RwSignal::new(Cursor::Start),
            from_address,
        }
    }

    /// The sample's rows no one has reviewed yet, from the first.
    pub(super) fn show_sample_to_review(self) {
        self.status.set("all".to_string());
        self.search.set(String::new());
        self.review.set("unreviewed".to_string());
        self.sample.set(true);
        self.cursor.set(Cursor::Start);
    }
}

/// The batch page's address for an open row (0-based), a status filter, a review filter, the
/// sample and a search.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn queue_address(
    id: i64,
    row: Option<i64>,
    status: &str,
    review: &str,
    sample: bool,
    search: &str,
) -> String {
    let mut query = Vec::new();
    if status != "all" {
        query.push(format!("status={status}"));
    }
    if review != "all" {
        query.push(format!("review={review}"));
    }
    if sample {
        query.push("sample=true".to_string());
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
pub(super) fn QueueTable(
    id: i64,
    live: RwSignal<Progress>,
    finished: Memo<i64>,
    facts: StoredValue<BatchFacts>,
    initial: QueuePage,
    reviews_saved: RwSignal<u64>,
    sheet_applied: RwSignal<u64>,
    filters: GridFilters,
) -> impl IntoView {
    let GridFilters {
        status,
        review,
        search,
        sample,
        sample_drawn,
        cursor,
        from_address: filtered_from_url,
    } = filters;
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
            move || {
                (
                    selected.get(),
                    status.get(),
                    review.get(),
                    sample.get(),
                    search.get(),
                )
            },
            move |(row, status, review, sample, search), _, _| {
                let path = queue_address(id, *row, status, review, *sample, search);
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
    let edges = Edges {
        earlier: false,
        later: initial.has_more,
    };
    let page: RwSignal<Result<QueuePage, AppError>> = RwSignal::new(Ok(initial));
    let editors = facts.with_value(|f| f.editors.clone());
    let enum_field = editors
        .iter()
        .find(|e| e.kind == "enum")
        .map(|e| (e.name.clone(), e.options.len().min(9)));
    let grid = Grid {
        id,
        page,
        cursor,
        edges: RwSignal::new(edges),
        moving: StoredValue::new(false),
        region: NodeRef::new(),
        current: StoredValue::new(None),
        redrawing: StoredValue::new(false),
        selected,
        mode: RwSignal::new(Mode::Browse),
        drafts: RwSignal::new(Vec::new()),
        reason: RwSignal::new(String::new()),
        problem: RwSignal::new(None),
        saving: RwSignal::new(false),
        reviews_saved,
        landing: RwSignal::new(None),
        held: StoredValue::new(None),
        // What the server rendered: every row (a filter named in the address is fetched next).
        filters: StoredValue::new(("all".into(), "all".into(), false, String::new())),
        editors: StoredValue::new(editors),
        can_edit: super::can_edit(),
    };
    // After a page change asked for by the keyboard, the focus lands on its first or last row.
    Effect::new(move |_| {
        page.track();
        grid.land();
    });
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
                review.get(),
                sample.get(),
                search.get(),
                cursor.get(),
                finished.get(),
                running.get(),
                sheet_applied.get(),
            )
        },
        move |(status, review, sample, search, cursor, _, _, _): (
            String,
            String,
            bool,
            String,
            Cursor,
            i64,
            i64,
            u64,
        )| {
            let (after, before) = match cursor {
                Cursor::Start => (None, None),
                Cursor::After(i) => (Some(i), None),
                Cursor::Before(i) => (None, Some(i)),
            };
            let asked = Asked {
                cursor,
                filters: (status.clone(), review.clone(), sample, search.clone()),
            };
            let answer = fetch_queue_page(
                id,
                Some(status),
                Some(review),
                sample,
                search,
                after,
                before,
            );
            async move { (asked, answer.await) }
        },
        move |(asked, answer)| grid.show(asked, answer),
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
    // Row, shown columns, status, review, answers, started, finished, latency.
    let columns = shown_names.len() + field_names.len() + 6;
    let keys_hint = grid.can_edit.then(|| view! { <ReviewKeys enum_field /> });
    view! {
        <section class="card card--flush queue">
            <div class="queue__tools">
                <FilterChips live status cursor />
                <ReviewChips review cursor />
                {move || {
                    sample_drawn
                        .get()
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="filter-chip"
                                    data-testid="sample-chip"
                                    class:is-active=move || sample.get()
                                    aria-pressed=move || sample.get().to_string()
                                    on:click=move |_| {
                                        sample.update(|s| *s = !*s);
                                        cursor.set(Cursor::Start);
                                    }
                                >
                                    "In the sample"
                                </button>
                            }
                        })
                }}
                {has_keys
                    .then(|| {
                        view! {
                            <input
                                type="search"
                                class="input queue__search"
                                placeholder=format!("Search {}", key_names.join(", "))
                                aria-label="Search key columns"
                                prop:value=move || search.get()
                                on:change=move |ev| {
                                    search.set(event_target_value(&ev));
                                    cursor.set(Cursor::Start);
                                }
                            />
                        }
                    })}
            </div>
            {keys_hint}
            <div
                class="table-wrap table-wrap--grid"
                tabindex="0"
                role="region"
                aria-label="Rows of the batch"
                node_ref=grid.region
                on:scroll=move |_| grid.follow_scroll()
            >
                <table class="table queue__table">
                    <thead>
                        <tr>
                            <th scope="col" class="num">
                                "Row"
                            </th>
                            {shown_names
                                .iter()
                                .map(|k| view! { <th scope="col">{k.clone()}</th> })
                                .collect_view()}
                            <th scope="col">"Status"</th>
                            <th scope="col">"Review"</th>
                            {field_names
                                .iter()
                                .map(|f| {
                                    view! {
                                        <th scope="col">
                                            <code>{f.clone()}</code>
                                        </th>
                                    }
                                })
                                .collect_view()}
                            <th scope="col">"Started"</th>
                            <th scope="col">"Finished"</th>
                            <th scope="col" class="num">
                                "Latency"
                            </th>
                        </tr>
                    </thead>
                    <GridRows grid columns />
                </table>
            </div>
            <WindowBar grid />
        </section>
        {move || {
            selected.get().map(|row| view! { <DrillDown id row total selected finished grid /> })
        }}
    }
}

/// One chip per status filter, each with its live count.
#[component]
fn FilterChips(
    live: RwSignal<Progress>,
    status: RwSignal<String>,
    cursor: RwSignal<Cursor>,
) -> impl IntoView {
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
            <button
                type="button"
                class="filter-chip"
                class:is-active=move || status.get() == value
                aria-pressed=move || (status.get() == value).to_string()
                on:click=move |_| {
                    status.set(value.to_string());
                    cursor.set(Cursor::Start);
                }
            >
                {label}
                <span class="filter-chip__count">{count}</span>
            </button>
        }
    };
    view! {
        <div class="filter-chips" role="group" aria-label="Show rows">
            {chip("all", "All")}
            {chip("succeeded", "Done")}
            {chip("failed", "Failed")}
            {chip("running", "Running")}
            {chip("queued", "Queued")}
            {chip("cancelled", "Cancelled")}
        </div>
    }
}

/// One chip per review filter.
#[component]
fn ReviewChips(review: RwSignal<String>, cursor: RwSignal<Cursor>) -> impl IntoView {
    let chip = move |value: &'static str, label: &'static str| {
        view! {
            <button
                type="button"
                class="filter-chip"
                class:is-active=move || review.get() == value
                aria-pressed=move || (review.get() == value).to_string()
                on:click=move |_| {
                    review.set(value.to_string());
                    cursor.set(Cursor::Start);
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="filter-chips" role="group" aria-label="Show rows by review">
            {chip("all", "Any review")}
            {chip("unreviewed", "To review")}
            {chip("accepted", "Accepted")}
            {chip("fixed", "Fixed")}
            {chip("rejected", "Rejected")}
        </div>
    }
}

/// The reviewer's keys, one line above the grid.
#[component]
fn ReviewKeys(enum_field: Option<(String, usize)>) -> impl IntoView {
    let digits = enum_field.map(|(name, count)| {
        view! {
            <span>
                <kbd>{format!("1–{count}")}</kbd>
                " set "
                <code>{name}</code>
            </span>
        }
    });
    view! {
        <p class="grid__keys" data-testid="review-keys">
            <span>
                <kbd>"↑"</kbd>
                <kbd>"↓"</kbd>
                " move"
            </span>
            <span>
                <kbd>"a"</kbd>
                " accept"
            </span>
            <span>
                <kbd>"e"</kbd>
                " fix"
            </span>
            <span>
                <kbd>"r"</kbd>
                " reject"
            </span>
            {digits}
            <span>
                <kbd>"Enter"</kbd>
                " open · in a fix, save"
            </span>
            <span>
                <kbd>"Esc"</kbd>
                " back"
            </span>
        </p>
    }
}

/// Which rows the window holds, and the jumps: to the first row, to the last, to any row.
#[component]
fn WindowBar(grid: Grid) -> impl IntoView {
    let span = move || {
        grid.page.with(|p| {
            let lines = p.as_ref().map(|p| p.lines.as_slice()).unwrap_or_default();
            match (lines.first(), lines.last()) {
                (Some(first), Some(last)) if lines.len() > 1 => format!(
                    "Rows {}–{} · {} shown",
                    first.row_index + 1,
                    last.row_index + 1,
                    lines.len()
                ),
                (Some(only), _) => format!("Row {}", only.row_index + 1),
                _ => String::new(),
            }
        })
    };
    let target = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let go = move || {
        let text = target.get_untracked();
        match text.trim().replace([',', '_', ' '], "").parse::<i64>() {
            Ok(row) if row >= 1 => {
                problem.set(None);
                grid.jump(window::starting_at(row - 1), Landing::After(row - 2, 1));
            }
            _ => problem.set(Some(format!(
                "\"{}\" is not a row number: rows count from 1.",
                text.trim()
            ))),
        }
    };
    view! {
        <div class="queue__paging" data-testid="window-bar">
            <span class="muted small" data-testid="window-span">
                {span}
            </span>
            <form
                class="queue__goto"
                on:submit=move |ev| {
                    ev.prevent_default();
                    go();
                }
            >
                <label class="small" for="goto-row">
                    "Go to row"
                </label>
                <input
                    id="goto-row"
                    class="input input--sm"
                    inputmode="numeric"
                    autocomplete="off"
                    aria-invalid=move || problem.get().is_some().to_string()
                    aria-describedby="goto-problem"
                    prop:value=move || target.get()
                    on:input=move |ev| target.set(event_target_value(&ev))
                />
                <span id="goto-problem" class="field__error" role="alert">
                    {move || problem.get()}
                </span>
            </form>
            <button
                type="button"
                class="btn btn--ghost btn--sm"
                disabled=move || !grid.edges.get().earlier
                on:click=move |_| grid.jump(Cursor::Start, Landing::First)
            >
                "⇤ First row"
            </button>
            <button
                type="button"
                class="btn btn--ghost btn--sm"
                disabled=move || !grid.edges.get().later
                on:click=move |_| grid.jump(window::END, Landing::Last)
            >
                "Last row ⇥"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_names_the_filter_the_search_and_the_open_row() {
        assert_eq!(
            queue_address(3, None, "all", "all", false, ""),
            "/batches/3"
        );
        assert_eq!(
            queue_address(3, Some(11), "all", "all", false, ""),
            "/batches/3?row=12"
        );
        assert_eq!(
            queue_address(3, Some(0), "failed", "fixed", true, "T-1 & co"),
            "/batches/3?status=failed&review=fixed&sample=true&q=T-1%20%26%20co&row=1"
        );
    }
}
