//! The accuracy panel: per answer field, how often the model was right on the rows people
//! reviewed and on a gold column's expected answers, with its 95% interval, and for enum and
//! boolean fields a confusion matrix; measured again as rows finish and reviews are saved.

use leptos::prelude::*;
use rowbench_recipe::estimate::human_count;

use crate::api::batch::{BatchAccuracy, FieldAccuracy, measure_accuracy};
use crate::components::refresh::fetch_in_browser_when;
use crate::text::percent;

/// The sentence for one field: "93% correct (95% CI 88–96%), 120 rows compared".
pub(super) fn accuracy_line(field: &FieldAccuracy) -> String {
    match (field.accuracy, field.ci_low, field.ci_high) {
        (Some(a), Some(low), Some(high)) => {
            let gold = match field.gold {
                0 => String::new(),
                n if n == field.reviewed => " (all with gold answers)".to_string(),
                n => format!(" ({} with gold answers)", human_count(n)),
            };
            format!(
                "{} correct (95% CI {}–{}), {} {} compared{gold}",
                percent(a),
                percent(low).trim_end_matches('%'),
                percent(high),
                human_count(field.reviewed),
                if field.reviewed == 1 { "row" } else { "rows" },
            )
        }
        _ => "Nothing compared yet.".to_string(),
    }
}

#[component]
pub(super) fn AccuracyPanel(
    id: i64,
    finished: Memo<i64>,
    reviews_saved: RwSignal<u64>,
    sheet_applied: RwSignal<u64>,
    /// Whether the schema has a number field (the tolerance applies to those).
    has_numbers: bool,
) -> impl IntoView {
    let tolerance = RwSignal::new(0.0f64);
    let measured: RwSignal<Option<BatchAccuracy>> = RwSignal::new(None);
    let problem: RwSignal<Option<String>> = RwSignal::new(None);
    // Measured in the browser only, so the page's first render never waits for it.
    fetch_in_browser_when(
        move || {
            (
                finished.get(),
                reviews_saved.get() + sheet_applied.get(),
                tolerance.get().to_bits(),
            )
        },
        move |(_, _, bits)| measure_accuracy(id, f64::from_bits(bits)),
        move |answer| match answer {
            Ok(fresh) => {
                problem.set(None);
                measured.set(Some(fresh));
            }
            Err(e) => problem.set(Some(e.to_string())),
        },
    );
    let compared = move || {
        measured.with(|m| {
            m.as_ref()
                .is_some_and(|m| m.fields.iter().any(|f| f.reviewed > 0))
        })
    };
    view! {
        <section class="card accuracy" data-testid="accuracy" aria-labelledby="accuracy-title">
            <header class="accuracy__head">
                <h2 id="accuracy-title" class="section-title">
                    "Accuracy"
                </h2>
                {move || {
                    measured
                        .with(|m| {
                            m.as_ref()
                                .map(|m| {
                                    format!(
                                        "{} accepted · {} fixed · {} rejected",
                                        human_count(m.accepted),
                                        human_count(m.fixed),
                                        human_count(m.rejected),
                                    )
                                })
                        })
                        .map(|counts| view! { <span class="muted small">{counts}</span> })
                }}
                <span class="spacer"></span>
                {has_numbers
                    .then(|| {
                        view! {
                            <label class="accuracy__tolerance small">
                                "Numbers right within ±"
                                <input
                                    class="input input--sm input--narrow"
                                    inputmode="decimal"
                                    aria-label="Tolerance for number fields"
                                    value="0"
                                    on:change=move |ev| {
                                        let text = event_target_value(&ev).trim().replace(',', ".");
                                        match text.parse::<f64>().ok().filter(|t| t.is_finite()) {
                                            Some(t) if t >= 0.0 => tolerance.set(t),
                                            _ => {
                                                problem
                                                    .set(
                                                        Some(
                                                            "The tolerance is a number of 0 or more, such as 0.5."
                                                                .to_string(),
                                                        ),
                                                    )
                                            }
                                        }
                                    }
                                />
                            </label>
                        }
                    })}
            </header>
            <ProblemLine problem />
            {move || {
                if measured.with(Option::is_none) {
                    return view! { <p class="muted small">"Measuring…"</p> }.into_any();
                }
                if !compared() {
                    return view! {
                        <p class="muted small" data-testid="accuracy-empty">
                            "No accuracy yet. Review rows in the table below (a accepts, e fixes), or mark a column of expected answers in Map columns when you run the batch again."
                        </p>
                    }
                        .into_any();
                }
                let fields = measured.get().map(|m| m.fields).unwrap_or_default();
                view! {
                    <div class="accuracy__fields">
                        {fields
                            .into_iter()
                            .map(|field| view! { <FieldLine field /> })
                            .collect_view()}
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn FieldLine(field: FieldAccuracy) -> impl IntoView {
    let line = accuracy_line(&field);
    let interval = match (field.accuracy, field.ci_low, field.ci_high) {
        (Some(accuracy), Some(low), Some(high)) => {
            Some(view! { <IntervalTrack accuracy low high /> })
        }
        _ => None,
    };
    let confusion = field
        .confusion
        .clone()
        .filter(|cells| !cells.is_empty())
        .map(|cells| view! { <Confusion field=field.field.clone() cells /> });
    view! {
        <div class="accuracy__field" data-testid="accuracy-field" data-field=field.field.clone()>
            <p class="accuracy__line">
                <code>{field.field.clone()}</code>
                ": "
                <span data-testid="accuracy-line">{line}</span>
            </p>
            {interval}
            {confusion}
        </div>
    }
}

/// A 0–100% track with the 95% interval shaded and the estimate marked.
#[component]
pub(super) fn IntervalTrack(accuracy: f64, low: f64, high: f64) -> impl IntoView {
    view! {
        <span class="accuracy__track" aria-hidden="true">
            <span
                class="accuracy__ci"
                style=format!("left: {:.1}%; width: {:.1}%", low * 100.0, (high - low) * 100.0)
            ></span>
            <span class="accuracy__point" style=format!("left: {:.1}%", accuracy * 100.0)></span>
        </span>
    }
}

/// What went wrong with the panel's last request, if anything.
#[component]
pub(super) fn ProblemLine(problem: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        problem.get().map(|p| {
            view! {
                <p class="alert alert--danger small" role="alert">
                    {p}
                </p>
            }
        })
    }
}

/// Rows: the model's answer; columns: the right one; the diagonal is where it was right.
#[component]
fn Confusion(
    field: String,
    cells: Vec<rowbench_workbench::accuracy::ConfusionCell>,
) -> impl IntoView {
    let mut labels: Vec<String> = Vec::new();
    for cell in &cells {
        for label in [&cell.model, &cell.reviewed] {
            if !labels.contains(label) {
                labels.push(label.clone());
            }
        }
    }
    labels.sort();
    let count = |model: &str, right: &str| {
        cells
            .iter()
            .find(|c| c.model == model && c.reviewed == right)
            .map_or(0, |c| c.rows)
    };
    view! {
        <details class="accuracy__confusion">
            <summary class="small">"Confusion matrix"</summary>
            <table class="table" aria-label=format!("Confusion matrix of {field}")>
                <thead>
                    <tr>
                        <th scope="col" class="small muted">
                            "model ↓ · right →"
                        </th>
                        {labels
                            .iter()
                            .map(|l| view! { <th scope="col">{l.clone()}</th> })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {labels
                        .iter()
                        .map(|model| {
                            view! {
                                <tr>
                                    <th scope="row">{model.clone()}</th>
                                    {labels
                                        .iter()
                                        .map(|right| {
                                            let n = count(model, right);
                                            view! {
                                                <td class="num" class:is-diagonal=model == right>
                                                    {human_count(n)}
                                                </td>
                                            }
                                        })
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(reviewed: u64, correct: u64, gold: u64) -> FieldAccuracy {
        let interval = rowbench_workbench::accuracy::wilson(correct, reviewed);
        FieldAccuracy {
            field: "sentiment".into(),
            reviewed,
            correct,
            gold,
            accuracy: (reviewed > 0).then(|| correct as f64 / reviewed as f64),
            ci_low: interval.map(|i| i.0),
            ci_high: interval.map(|i| i.1),
            confusion: None,
        }
    }

    #[test]
    fn the_line_states_the_accuracy_its_interval_and_how_many_rows() {
        assert_eq!(
            accuracy_line(&field(100, 93, 0)),
            "93% correct (95% CI 86–97%), 100 rows compared"
        );
        assert_eq!(
            accuracy_line(&field(4, 3, 2)),
            "75% correct (95% CI 30–95%), 4 rows compared (2 with gold answers)"
        );
        assert_eq!(accuracy_line(&field(0, 0, 0)), "Nothing compared yet.");
    }
}
