//! The answer charts: one horizontal bar chart per answer field, fetched again as rows finish.

use leptos::prelude::*;
use rowbench_recipe::estimate::human_count;

use crate::api::batch::{Chart, batch_charts};
use crate::components::refresh::refetch_when;
use crate::error::AppError;

#[component]
pub(super) fn Charts(
    id: i64,
    finished: Memo<i64>,
    total: Memo<i64>,
    initial: Vec<Chart>,
) -> impl IntoView {
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
                <span class="muted small">
                    {if chart.is_histogram { " · histogram" } else { " · answers" }}
                </span>
            </figcaption>
            {if chart.bars.is_empty() || total == 0 {
                view! { <p class="small muted">"No answers yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="bars" aria-label=format!("Distribution of {}", chart.field)>
                        {chart
                            .bars
                            .iter()
                            .map(|(label, n)| {
                                let width = (*n as f64 / max as f64 * 100.0).max(0.5);
                                view! {
                                    <li class="bars__row">
                                        <span class="bars__label" title=label.clone()>
                                            {truncate_label(label)}
                                        </span>
                                        <span class="bars__track" aria-hidden="true">
                                            <span
                                                class="bars__bar"
                                                style=format!("width: {width:.1}%")
                                            ></span>
                                        </span>
                                        <span class="bars__value">
                                            {human_count((*n).max(0) as u64)}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
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
