//! The estimate beside the form: rows, tokens, cost and time of the run, recomputed on every key,
//! with the rates and the pace they assume.

use leptos::prelude::*;
use rowbench_recipe::RunSettings;
use rowbench_recipe::estimate::{
    self, ModelRates, RowCost, human_count, human_duration, human_usd,
};

/// The model's rates with the time one row takes: the assumed figure, or the connection
/// check's measured round trip when that is slower (a real row, with its longer answer, is
/// never faster than the check's tiny one). The flag says which it is.
pub(super) fn row_pace(assumed: ModelRates, measured_ms: Option<u64>) -> (ModelRates, bool) {
    match measured_ms.map(|ms| ms as f64 / 1000.0) {
        Some(measured) if measured > assumed.seconds_per_request => (
            ModelRates {
                seconds_per_request: measured,
                ..assumed
            },
            true,
        ),
        _ => (assumed, false),
    }
}

/// Per-row tokens with the answer capped at max tokens: the provider stops (and bills) there.
fn capped(per_row: RowCost, max_tokens: Option<u32>) -> RowCost {
    RowCost {
        output_tokens: max_tokens.map_or(per_row.output_tokens, |max| {
            per_row.output_tokens.min(f64::from(max))
        }),
        ..per_row
    }
}

/// `~1.5 s`, `~0.15 s`: one row's time as the help text quotes it.
pub(super) fn per_row_time(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("~{seconds:.2} s")
    } else {
        format!("~{seconds:.1} s")
    }
}

#[component]
pub(super) fn EstimatePanel(
    settings: RwSignal<RunSettings>,
    /// The rates and whether their time was measured, from [`row_pace`].
    pace: Memo<(ModelRates, bool)>,
    per_row: RowCost,
    row_count: u64,
) -> impl IntoView {
    let run_estimate = Memo::new(move |_| {
        let (rates, _) = pace.get();
        settings.with(|s| {
            estimate::estimate(
                s.rows_to_run(row_count),
                capped(per_row, s.max_tokens),
                rates,
                s.concurrency,
            )
        })
    });
    view! {
        <div class="estimate" data-testid="estimate">
            <h3 class="section-title">"Estimate"</h3>
            <dl class="estimate__list">
                <dt>"Rows to run"</dt>
                <dd data-testid="estimate-rows">{move || human_count(run_estimate.get().rows)}</dd>
                <dt>"Input tokens"</dt>
                <dd data-testid="estimate-input">
                    {move || human_count(run_estimate.get().input_tokens)}
                </dd>
                <dt>"Output tokens"</dt>
                <dd data-testid="estimate-output">
                    {move || human_count(run_estimate.get().output_tokens)}
                </dd>
                <dt>"Cost"</dt>
                <dd data-testid="estimate-cost">
                    {move || human_usd(run_estimate.get().cost_usd)}
                </dd>
                <dt>"Time"</dt>
                <dd data-testid="estimate-time">
                    {move || human_duration(run_estimate.get().seconds)}
                </dd>
            </dl>
            <p class="small muted">
                {move || {
                    let (rates, measured) = pace.get();
                    format!(
                        "At ${:.2} / ${:.2} per million input / output tokens and {} per request ({}){}.",
                        rates.input_usd_per_mtok,
                        rates.output_usd_per_mtok,
                        per_row_time(rates.seconds_per_request),
                        if measured { "measured" } else { "assumed" },
                        match settings.with(|s| s.concurrency) {
                            0 | 1 => ", one row after another".to_string(),
                            n => format!(", {n} rows at once"),
                        },
                    )
                }}
            </p>
            {move || {
                settings
                    .with(|s| s.max_tokens)
                    .filter(|max| *max > 0 && f64::from(*max) < per_row.output_tokens)
                    .map(|max| {
                        view! {
                            <p class="small alert alert--warning" data-testid="max-tokens-note">
                                {format!(
                                    "Max tokens ({max}) is below the ~{:.0} tokens an answer takes: answers may be cut off and fail.",
                                    per_row.output_tokens,
                                )}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSUMED: ModelRates = ModelRates {
        input_usd_per_mtok: 0.15,
        output_usd_per_mtok: 0.6,
        seconds_per_request: 1.5,
    };

    #[test]
    fn a_slower_measured_round_trip_replaces_the_assumed_time_and_a_faster_one_does_not() {
        assert_eq!(row_pace(ASSUMED, Some(3_200)).0.seconds_per_request, 3.2);
        assert!(row_pace(ASSUMED, Some(3_200)).1);
        assert_eq!(row_pace(ASSUMED, Some(300)), (ASSUMED, false));
        assert_eq!(row_pace(ASSUMED, None), (ASSUMED, false));
    }

    #[test]
    fn max_tokens_caps_the_output_tokens_estimated_per_row() {
        let per_row = RowCost {
            input_tokens: 200.0,
            output_tokens: 80.0,
        };
        assert_eq!(capped(per_row, Some(50)).output_tokens, 50.0);
        assert_eq!(capped(per_row, Some(500)).output_tokens, 80.0);
        assert_eq!(capped(per_row, None), per_row);
    }
}
