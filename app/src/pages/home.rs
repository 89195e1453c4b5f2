//! The home page: every batch with its state and progress, or how to start the first one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use rowbench_recipe::estimate::human_count;

use crate::api::home::{BatchListItem, list_batches};
use crate::components::empty_state::EmptyState;
use crate::components::icons::{PlusIcon, TableIcon};
use crate::components::notice::ErrorNotice;
use crate::pages::batch::DeleteBatch;

#[component]
pub fn HomePage() -> impl IntoView {
    let batches = Resource::new(|| (), |_| list_batches());

    view! {
        <Title text="Batches" />
        <div class="page-header">
            <div>
                <h1>"Batches"</h1>
                <p class="lead">
                    "Each batch runs one prompt over every row of a spreadsheet and checks every answer against your schema."
                </p>
            </div>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    batches
                        .await
                        .ok()
                        .filter(|list| list.can_edit)
                        .map(|_| {
                            view! {
                                <A href="/new" attr:class="btn btn--primary">
                                    <PlusIcon />
                                    "New batch"
                                </A>
                            }
                        })
                })}
            </Suspense>
        </div>
        <Suspense fallback=|| {
            view! {
                <div class="card skeleton" aria-busy="true">
                    "Loading batches…"
                </div>
            }
        }>
            {move || Suspend::new(async move {
                match batches.await {
                    Ok(list) if list.items.is_empty() => {
                        view! { <NoBatches can_edit=list.can_edit /> }.into_any()
                    }
                    Ok(list) => {
                        view! {
                            <BatchTable
                                items=list.items
                                can_edit=list.can_edit
                                on_change=move || batches.refetch()
                            />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NoBatches(can_edit: bool) -> impl IntoView {
    if !can_edit {
        return view! {
            <EmptyState
                title="No batches yet"
                body="Nothing has run in this workspace yet. Once a batch starts, its results show up here."
                icon=view! { <TableIcon /> }.into_any()
            >
                <span class="small muted">
                    "You are a viewer here: an editor or admin of this workspace starts batches."
                </span>
            </EmptyState>
        }
            .into_any();
    }
    view! {
        <EmptyState
            title="No batches yet — start one"
            body="Upload a CSV, say what the model should read and what it must answer, and Rowbench runs it over every row."
            icon=view! { <TableIcon /> }.into_any()
        >
            <A href="/new" attr:class="btn btn--primary btn--lg">
                <PlusIcon />
                "Start a batch"
            </A>
        </EmptyState>
    }
        .into_any()
}

#[component]
fn BatchTable(
    items: Vec<BatchListItem>,
    can_edit: bool,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let clone = move |id: i64| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match crate::api::batch::clone_batch(id).await {
                Ok(()) => navigate("/new/review", Default::default()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {move || {
            error
                .get()
                .map(|e| {
                    view! {
                        <p class="alert alert--danger" role="alert">
                            {e}
                        </p>
                    }
                })
        }}
        <div class="card card--flush">
            <table class="table table--stack">
                <thead>
                    <tr>
                        <th scope="col">"Batch"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Progress"</th>
                        <th scope="col" class="num">
                            "Rows"
                        </th>
                        <th scope="col">"Created"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {items
                        .into_iter()
                        .map(|b| {
                            let percent = b.percent_finished();
                            let done = b.percent_of(b.done_rows);
                            let failed = b.percent_of(b.failed_rows);
                            let progress_label = format!("{}: {percent}% finished", b.name);
                            view! {
                                <tr>
                                    <td>
                                        <A href=format!("/batches/{}", b.id) attr:class="strong">
                                            {b.name}
                                        </A>
                                        <span class="muted small">{format!(" #{}", b.id)}</span>
                                    </td>
                                    <td data-label="Status">
                                        <span class=format!(
                                            "badge {}",
                                            b.state.tone(),
                                        )>{b.state.label()}</span>
                                    </td>
                                    <td data-label="Progress">
                                        <div
                                            class="progress"
                                            role="progressbar"
                                            aria-valuemin="0"
                                            aria-valuemax="100"
                                            aria-valuenow=percent
                                            aria-label=progress_label
                                        >
                                            <div
                                                class="progress__bar"
                                                style=format!("width: {done}%")
                                            ></div>
                                            <div
                                                class="progress__bar progress__bar--failed"
                                                style=format!("width: {failed}%")
                                            ></div>
                                        </div>
                                        <span class="small muted">{format!("{percent}%")}</span>
                                    </td>
                                    <td class="num" data-label="Rows">
                                        {format!(
                                            "{} / {}",
                                            human_count((b.done_rows + b.failed_rows).max(0) as u64),
                                            human_count(b.total_rows.max(0) as u64),
                                        )}
                                    </td>
                                    <td class="muted" data-label="Created">
                                        {b.created}
                                    </td>
                                    <td class="row-actions-cell">
                                        <A
                                            href=format!("/batches/{}", b.id)
                                            attr:class="btn btn--ghost btn--sm"
                                        >
                                            "Open"
                                        </A>
                                        {can_edit
                                            .then(|| {
                                                let clone = clone.clone();
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="btn btn--ghost btn--sm"
                                                        on:click=move |_| clone(b.id)
                                                    >
                                                        "Clone"
                                                    </button>
                                                    <DeleteBatch id=b.id on_deleted=on_change />
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
