//! The results grid of a batch's page: status, review and sample filters, the search of the key
//! columns, one line per row with its answers and its review, keyset paging, and the open row,
//! all named in the address so a reload or a shared link shows the same.

use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use leptos_router::hooks::use_navigate;
use leptos_router::hooks::use_query_map;

use super::drill_down::DrillDown;
use super::grid::{Grid, GridRows, Mode};
use super::live::Progress;
use crate::api::batch::{BatchFacts, QueuePage, REVIEW_FILTERS, fetch_queue_page};
use crate::components::refresh::{fetch_in_browser_when, refetch_when};
use crate::components::table_region::TableRegion;
use crate::error::AppError;

/// Where the table is: first page, after a row, or before a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cursor {
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
        selected,
        mode: RwSignal::new(Mode::Browse),
        drafts: RwSignal::new(Vec::new()),
        reason: RwSignal::new(String::new()),
        problem: RwSignal::new(None),
        saving: RwSignal::new(false),
        reviews_saved,
        landing: RwSignal::new(None),
        held: StoredValue::new(None),
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
        move |(status, review, sample, search, cursor, _, _, _)| {
            let (after, before) = match cursor {
                Cursor::Start => (None, None),
                Cursor::After(i) => (Some(i), None),
                Cursor::Before(i) => (None, Some(i)),
            };
            fetch_queue_page(
                id,
                Some(status),
                Some(review),
                sample,
                search,
                after,
                before,
            )
        },
        move |answer| grid.show(answer),
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
            <TableRegion label="Rows of the batch">
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
                    {move || match page.get() {
                        Err(error) => {
                            view! {
                                <tbody>
                                    <tr>
                                        <td colspan="100">{error.to_string()}</td>
                                    </tr>
                                </tbody>
                            }
                                .into_any()
                        }
                        Ok(page) => view! { <GridRows grid page columns /> }.into_any(),
                    }}
                </table>
            </TableRegion>
            <QueuePaging page cursor />
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

/// Previous and Next, from the first and last row shown (keyset paging).
#[component]
fn QueuePaging(
    page: RwSignal<Result<QueuePage, AppError>>,
    cursor: RwSignal<Cursor>,
) -> impl IntoView {
    view! {
        <div class="queue__paging">
            <button
                type="button"
                class="btn btn--ghost btn--sm"
                disabled=move || cursor.get() == Cursor::Start
                on:click=move |_| {
                    let first = page
                        .with(|p| {
                            p.as_ref().ok().and_then(|p| p.lines.first().map(|l| l.row_index))
                        });
                    cursor.set(first.map_or(Cursor::Start, Cursor::Before));
                }
            >
                "← Previous"
            </button>
            <button
                type="button"
                class="btn btn--ghost btn--sm"
                disabled=move || {
                    !page
                        .with(|p| {
                            p.as_ref()
                                .is_ok_and(|p| {
                                    p.has_more || matches!(cursor.get(), Cursor::Before(_))
                                })
                        })
                }
                on:click=move |_| {
                    let last = page
                        .with(|p| {
                            p.as_ref().ok().and_then(|p| p.lines.last().map(|l| l.row_index))
                        });
                    if let Some(last) = last {
                        cursor.set(Cursor::After(last));
                    }
                }
            >
                "Next →"
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
