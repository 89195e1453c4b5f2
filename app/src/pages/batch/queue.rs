//! The queue table of a batch's page: status filters with their counts, the search of the key
//! columns, one line per row with its answers, keyset paging, and the open row, all named in the
//! address so a reload or a shared link shows the same.

use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use leptos_router::hooks::use_navigate;
use leptos_router::hooks::use_query_map;

use super::drill_down::DrillDown;
use super::live::Progress;
use crate::api::batch::{BatchFacts, QueuePage, fetch_queue_page};
use crate::components::refresh::{fetch_in_browser_when, refetch_when};
use crate::components::table_region::TableRegion;
use crate::error::AppError;

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
pub(super) fn QueueTable(
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
    view! {
        <section class="card card--flush queue">
            <div class="queue__tools">
                <FilterChips live status cursor />
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
                        Ok(page) => view! { <QueueRows page selected /> }.into_any(),
                    }}
                </table>
            </TableRegion>
            <QueuePaging page cursor />
        </section>
        {move || selected.get().map(|row| view! { <DrillDown id row total selected finished /> })}
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

#[component]
fn QueueRows(page: QueuePage, selected: RwSignal<Option<i64>>) -> impl IntoView {
    if page.lines.is_empty() {
        return view! {
            <tbody>
                <tr>
                    <td colspan="100" class="muted">
                        "No rows here."
                    </td>
                </tr>
            </tbody>
        }
        .into_any();
    }
    view! {
        <tbody>
            {page
                .lines
                .into_iter()
                .map(|line| {
                    let row = line.row_index;
                    let tone = match line.status.as_str() {
                        "succeeded" => "badge--success",
                        "failed" => "badge--danger",
                        "running" => "badge--info",
                        "cancelled" => "badge--muted",
                        _ => "badge--neutral",
                    };
                    view! {
                        <tr
                            class="queue__row"
                            class:is-selected=move || selected.get() == Some(row)
                            tabindex="0"
                            data-testid="queue-row"
                            on:click=move |_| selected.set(Some(row))
                            on:keydown=move |ev| {
                                if ev.key() == "Enter" {
                                    selected.set(Some(row))
                                }
                            }
                        >
                            <td class="num">{row + 1}</td>
                            {line
                                .cells
                                .into_iter()
                                .map(|k| {
                                    let full = k.clone();
                                    view! {
                                        <td class="truncate" title=full>
                                            {k}
                                        </td>
                                    }
                                })
                                .collect_view()}
                            <td>
                                <span class=format!("badge {tone}")>{line.status.clone()}</span>
                            </td>
                            {line
                                .answers
                                .into_iter()
                                .map(|a| {
                                    let full = a.clone();
                                    view! {
                                        <td class="truncate" title=full>
                                            {a}
                                        </td>
                                    }
                                })
                                .collect_view()}
                            <td class="muted small">{line.started.clone().unwrap_or_default()}</td>
                            <td class="muted small" title=line.error.clone().unwrap_or_default()>
                                {line.finished.clone().unwrap_or_default()}
                            </td>
                            <td class="num">
                                {line.latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}
                            </td>
                        </tr>
                    }
                })
                .collect_view()}
        </tbody>
    }
    .into_any()
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
        assert_eq!(queue_address(3, None, "all", ""), "/batches/3");
        assert_eq!(queue_address(3, Some(11), "all", ""), "/batches/3?row=12");
        assert_eq!(
            queue_address(3, Some(0), "failed", "T-1 & co"),
            "/batches/3?status=failed&q=T-1%20%26%20co&row=1"
        );
    }
}
