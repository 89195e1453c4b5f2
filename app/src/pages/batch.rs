//! A batch's own page: live progress (server-sent events), the controls, the answer charts, the
//! accuracy and the review sample, the results grid with filters, search and keyset paging, and
//! one row's drill-down.

mod accuracy;
mod charts;
mod compare;
mod controls;
mod delete;
mod drill_down;
mod editors;
mod grid;
mod header;
mod live;
mod progress;
mod queue;
mod rerun;
mod sample;
mod sheet;
mod trial;
mod window;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use self::accuracy::AccuracyPanel;
use self::charts::Charts;
use self::compare::ComparePanel;
pub use self::delete::DeleteBatch;
use self::header::BatchHeader;
use self::live::Progress;
use self::progress::BatchProgress;
use self::queue::{GridFilters, QueueTable};
use self::rerun::RerunPanel;
use self::sample::SamplePanel;
use self::sheet::ReviewSheet;
use self::trial::TrialBanner;
use crate::api::batch::{BatchScreenData, load_batch_screen};
use crate::components::notice::ErrorNotice;

/// Whether the reader may act on the batch shown; a viewer gets no action buttons.
#[derive(Debug, Clone, Copy)]
struct CanEdit(bool);

/// What the batch screen's parts ask before they offer an action.
fn can_edit() -> bool {
    use_context::<CanEdit>().is_none_or(|CanEdit(yes)| yes)
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
        <Suspense fallback=|| {
            view! {
                <div class="card skeleton" aria-busy="true">
                    "Loading the batch…"
                </div>
            }
        }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => {
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response
                                .set_status(
                                    http::StatusCode::from_u16(error.status())
                                        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                                );
                        }
                        // Rendered before the answer's head (the route awaits its resources),
                        // so a batch that is not there, or not the reader's, is a real 404.
                        view! {
                            <ErrorNotice error />
                            <p>
                                <a
                                    class="btn btn--secondary"
                                    href="/"
                                    data-testid="back-to-batches"
                                >
                                    "← Back to the batches"
                                </a>
                            </p>
                        }
                            .into_any()
                    }
                    Ok(data) => view! { <BatchScreen id=id.get_untracked() data /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn BatchScreen(id: i64, data: BatchScreenData) -> impl IntoView {
    let BatchScreenData {
        view,
        facts,
        charts,
        queue,
        can_edit,
    } = data;
    provide_context(CanEdit(can_edit));
    let live = RwSignal::new(Progress::from_page(&view, &facts));
    // Bumped after an action, which reopens the event stream.
    let generation = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    live::follow(id, live, generation);

    let total_rows = view.item.total_rows;
    let trial = facts.trial;
    let facts = StoredValue::new(facts);
    // Charts and the table refresh as rows finish, at most a few times a second.
    let finished = Memo::new(move |_| live.with(Progress::finished));
    // Bumped by every review saved in the table, for the accuracy to be measured again.
    let reviews_saved = RwSignal::new(0u64);
    // Bumped by a review sheet applied, for the table and the accuracy to read again.
    let sheet_applied = RwSignal::new(0u64);
    let has_numbers = facts.with_value(|f| {
        f.editors
            .iter()
            .any(|e| matches!(e.kind.as_str(), "number" | "integer"))
    });
    let strata_fields: Vec<String> = facts.with_value(|f| {
        f.editors
            .iter()
            .filter(|e| matches!(e.kind.as_str(), "enum" | "boolean"))
            .map(|e| e.name.clone())
            .collect()
    });
    let filters = GridFilters::from_address();
    // What worked examples can be compared on: the columns the table shows.
    let example_columns: Vec<String> = facts.with_value(|f| {
        f.shown_columns
            .iter()
            .filter_map(|&at| f.columns.get(at).cloned())
            .collect()
    });

    view! {
        <BatchHeader view live />
        {trial.map(|trial| view! { <TrialBanner id trial live generation /> })}
        <BatchProgress id live generation finished total_rows />
        <Charts id finished total=Memo::new(move |_| live.with(|p| p.total_rows)) initial=charts />
        <AccuracyPanel id finished reviews_saved sheet_applied has_numbers />
        <SamplePanel id finished reviews_saved sheet_applied filters strata_fields />
        {can_edit.then(|| view! { <ReviewSheet id sheet_applied /> })}
        {can_edit.then(|| view! { <RerunPanel id live generation columns=example_columns /> })}
        <ComparePanel id can_edit />
        <QueueTable id live finished facts initial=queue reviews_saved sheet_applied filters />
    }
}
