//! "Review a sample": draw rows at random (stratified by the model's answer to an enum or yes/no
//! field when asked), review them in the grid, and read each field's accuracy over the whole
//! batch with its 95% interval; measured again as reviews are saved.

use leptos::prelude::*;
use rowbench_recipe::estimate::human_count;
use rowbench_workbench::accuracy::SampleFieldAccuracy;

use super::accuracy::{IntervalTrack, ProblemLine};
use super::queue::GridFilters;
use crate::api::batch::{
    MAX_SAMPLE, SampleReport, discard_review_sample, draw_review_sample, load_sample,
};
use crate::components::refresh::fetch_in_browser_when;
use crate::text::percent;

/// The sentence for one field: "93% correct (95% CI 88–96%), 120 rows reviewed".
pub(super) fn sample_line(field: &SampleFieldAccuracy) -> String {
    match (field.accuracy, field.ci_low, field.ci_high) {
        (Some(a), Some(low), Some(high)) => format!(
            "{} correct (95% CI {}–{}), {} {} reviewed",
            percent(a),
            percent(low).trim_end_matches('%'),
            percent(high),
            human_count(field.reviewed),
            if field.reviewed == 1 { "row" } else { "rows" },
        ),
        _ => "No row of the sample reviewed yet.".to_string(),
    }
}

/// How a stratum's value reads: a row without an answer to the field has the empty one.
fn stratum_name(value: &str) -> String {
    if value.is_empty() {
        "(no answer)".to_string()
    } else {
        value.to_string()
    }
}

#[component]
pub(super) fn SamplePanel(
    id: i64,
    finished: Memo<i64>,
    reviews_saved: RwSignal<u64>,
    sheet_applied: RwSignal<u64>,
    filters: GridFilters,
    /// The enum and yes/no fields, which a sample can be stratified by.
    strata_fields: Vec<String>,
) -> impl IntoView {
    let can_edit = super::can_edit();
    let report: RwSignal<Option<Option<SampleReport>>> = RwSignal::new(None);
    let problem: RwSignal<Option<String>> = RwSignal::new(None);
    // Bumped by a draw or a discard, for the panel to read again.
    let drawn = RwSignal::new(0u64);
    let choosing = RwSignal::new(false);
    fetch_in_browser_when(
        move || {
            (
                finished.get(),
                reviews_saved.get() + sheet_applied.get(),
                drawn.get(),
            )
        },
        move |_| load_sample(id),
        move |answer| match answer {
            Ok(fresh) => {
                filters.sample_drawn.set(fresh.is_some());
                report.set(Some(fresh));
            }
            Err(e) => problem.set(Some(e.to_string())),
        },
    );
    let size = RwSignal::new("100".to_string());
    let stratify = RwSignal::new(strata_fields.first().cloned().unwrap_or_default());
    let strata_fields = StoredValue::new(strata_fields);
    let busy = RwSignal::new(false);
    let draw = move || {
        let Some(rows) = size
            .get_untracked()
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_SAMPLE).contains(n))
        else {
            problem.set(Some(format!(
                "The sample size is a whole number of rows from 1 to {}.",
                human_count(MAX_SAMPLE)
            )));
            return;
        };
        let field = Some(stratify.get_untracked()).filter(|f| !f.is_empty());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match draw_review_sample(id, rows, field).await {
                Ok(fresh) => {
                    problem.set(None);
                    choosing.set(false);
                    filters.sample_drawn.set(true);
                    report.set(Some(Some(fresh)));
                    filters.show_sample_to_review();
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let discard = move |_| {
        leptos::task::spawn_local(async move {
            match discard_review_sample(id).await {
                Ok(()) => {
                    problem.set(None);
                    filters.sample.set(false);
                    drawn.update(|n| *n += 1);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    let form = move || {
        let options = strata_fields.get_value();
        view! {
            <form
                class="sample__form"
                data-testid="sample-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    draw();
                }
            >
                <label class="small">
                    <span>"Rows"</span>
                    <input
                        class="input input--sm input--narrow"
                        inputmode="numeric"
                        name="size"
                        aria-label="Rows to draw"
                        prop:value=move || size.get()
                        on:input=move |ev| size.set(event_target_value(&ev))
                    />
                </label>
                <label class="small">
                    <span>"Stratified by"</span>
                    <select
                        class="select"
                        name="stratify_by"
                        aria-label="Stratify the sample by"
                        on:change=move |ev| stratify.set(event_target_value(&ev))
                    >
                        {options
                            .iter()
                            .map(|f| {
                                let value = f.clone();
                                let chosen = f.clone();
                                view! {
                                    <option
                                        value=value
                                        selected=move || stratify.with(|s| *s == chosen)
                                    >
                                        {format!("the model's {f}")}
                                    </option>
                                }
                            })
                            .collect_view()}
                        <option value="" selected=move || stratify.with(String::is_empty)>
                            "nothing (simple random)"
                        </option>
                    </select>
                </label>
                <button
                    type="submit"
                    class="btn btn--primary btn--sm"
                    disabled=move || busy.get()
                    data-testid="draw-sample"
                >
                    {move || if busy.get() { "Drawing…" } else { "Draw the sample" }}
                </button>
            </form>
        }
    };
    view! {
        <section class="card sample" data-testid="sample" aria-labelledby="sample-title">
            <header class="accuracy__head">
                <h2 id="sample-title" class="section-title">
                    "Review a sample"
                </h2>
                <span class="spacer"></span>
                {move || {
                    let has = report.with(|r| matches!(r, Some(Some(_))));
                    (can_edit && has && !choosing.get())
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn--secondary btn--sm"
                                    on:click=move |_| choosing.set(true)
                                >
                                    "Draw again"
                                </button>
                                <button
                                    type="button"
                                    class="btn btn--ghost btn--sm"
                                    data-testid="discard-sample"
                                    on:click=discard
                                >
                                    "Discard"
                                </button>
                            }
                        })
                }}
            </header>
            <ProblemLine problem />
            {move || match report.get() {
                None => view! { <p class="muted small">"Reading the sample…"</p> }.into_any(),
                Some(None) => {
                    view! {
                        <p class="small muted">
                            "Rowbench draws rows at random; you review them in the table, and each field's accuracy over the whole batch is stated with a 95% interval. Stratified, every answer the model gave is sampled in proportion to its share."
                        </p>
                        {can_edit.then(form)}
                    }
                        .into_any()
                }
                Some(Some(sample)) => {
                    view! {
                        <Drawn sample filters />
                        {move || (can_edit && choosing.get()).then(form)}
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A drawn sample: what it is, how far the review has gone, and the estimates.
#[component]
fn Drawn(sample: SampleReport, filters: GridFilters) -> impl IntoView {
    let how = match &sample.stratify_by {
        Some(field) => format!(", stratified by the model's {field},"),
        None => String::new(),
    };
    let about = format!(
        "{} rows drawn at random from the {} answered{how} by {} on {}.",
        human_count(sample.rows),
        human_count(sample.population),
        sample.drawn_by,
        sample.drawn_at,
    );
    let done = sample.reviewed;
    let left = sample.rows.saturating_sub(done);
    let share = if sample.rows == 0 {
        0.0
    } else {
        done as f64 / sample.rows as f64
    };
    let stratified = sample.stratify_by.is_some();
    let strata = sample.strata.clone();
    let population = sample.population.max(1);
    view! {
        <p class="small">{about}</p>
        <div class="sample__progress">
            <progress
                max=sample.rows.to_string()
                value=done.to_string()
                aria-label="Sample rows reviewed"
            ></progress>
            <span class="small" data-testid="sample-progress">
                {format!(
                    "{} of {} reviewed ({})",
                    human_count(done),
                    human_count(sample.rows),
                    percent(share),
                )}
            </span>
            {(left > 0)
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="btn btn--primary btn--sm"
                            data-testid="review-sample"
                            on:click=move |_| filters.show_sample_to_review()
                        >
                            {format!("Review the {} left", human_count(left))}
                        </button>
                    }
                })}
        </div>
        <div class="accuracy__fields">
            {sample
                .fields
                .into_iter()
                .map(|field| {
                    let line = sample_line(&field);
                    let track = match (field.accuracy, field.ci_low, field.ci_high) {
                        (Some(accuracy), Some(low), Some(high)) => {
                            Some(view! { <IntervalTrack accuracy low high /> })
                        }
                        _ => None,
                    };
                    let weighted = match (stratified, field.effective_rows) {
                        (true, Some(n)) => {
                            Some(
                                format!(
                                    "Weighted by each stratum's share; as precise as {} rows drawn without strata.",
                                    human_count(n.round().max(0.0) as u64),
                                ),
                            )
                        }
                        _ => None,
                    };
                    view! {
                        <div
                            class="accuracy__field"
                            data-testid="sample-field"
                            data-field=field.field.clone()
                        >
                            <p class="accuracy__line">
                                <code>{field.field.clone()}</code>
                                ": "
                                <span data-testid="sample-line">{line}</span>
                            </p>
                            {track}
                            {weighted.map(|w| view! { <p class="small muted">{w}</p> })}
                        </div>
                    }
                })
                .collect_view()}
        </div>
        {stratified
            .then(|| {
                view! {
                    <details class="accuracy__confusion">
                        <summary class="small">"Strata"</summary>
                        <div class="table-wrap">
                            <table class="table" aria-label="Strata of the sample">
                                <thead>
                                    <tr>
                                        <th scope="col">"Model's answer"</th>
                                        <th scope="col" class="num">
                                            "Rows in the batch"
                                        </th>
                                        <th scope="col" class="num">
                                            "Share"
                                        </th>
                                        <th scope="col" class="num">
                                            "Drawn"
                                        </th>
                                        <th scope="col" class="num">
                                            "Reviewed"
                                        </th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {strata
                                        .into_iter()
                                        .map(|s| {
                                            view! {
                                                <tr>
                                                    <th scope="row">{stratum_name(&s.value)}</th>
                                                    <td class="num">{human_count(s.population)}</td>
                                                    <td class="num">
                                                        {percent(s.population as f64 / population as f64)}
                                                    </td>
                                                    <td class="num">{human_count(s.rows)}</td>
                                                    <td class="num">{human_count(s.reviewed)}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    </details>
                }
            })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_states_the_estimate_its_interval_and_the_rows_reviewed() {
        let field = SampleFieldAccuracy {
            field: "sentiment".into(),
            reviewed: 120,
            correct: 112,
            accuracy: Some(0.93),
            ci_low: Some(0.876),
            ci_high: Some(0.962),
            effective_rows: Some(120.0),
        };
        assert_eq!(
            sample_line(&field),
            "93% correct (95% CI 88–96%), 120 rows reviewed"
        );
        let none = SampleFieldAccuracy {
            reviewed: 0,
            correct: 0,
            accuracy: None,
            ci_low: None,
            ci_high: None,
            effective_rows: None,
            ..field
        };
        assert_eq!(sample_line(&none), "No row of the sample reviewed yet.");
        assert_eq!(stratum_name(""), "(no answer)");
    }
}
