//! The run settings of the Review step: temperature, max tokens and rows at once, then how many
//! rows to run and what a failed row does. Every key recomputes the estimate; typing is saved
//! once it pauses.

use leptos::prelude::*;
use rowbench_recipe::estimate::{self, ModelRates, RowCost, human_count, human_duration};
use rowbench_recipe::{ErrorPolicy, MAX_CONCURRENCY, RunSettings};

use super::estimate::per_row_time;
use super::saving::Edits;
use crate::components::number_input::NumberInput;

/// The trial size offered when "Test on the first N rows" is first turned on.
const DEFAULT_TRIAL_ROWS: u64 = 10;
/// The error limit offered when "Pause after N errors" is first chosen.
const DEFAULT_STOP_AFTER: u32 = 10;

/// An optional number field: empty means "not set".
fn parse_optional<T: std::str::FromStr>(text: &str) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        None
    } else {
        text.parse().ok()
    }
}

/// What "rows at once" means at `concurrency`, and the time it implies for `rows` rows at
/// `seconds` a row.
fn concurrency_help(concurrency: u32, rows: u64, seconds: f64, measured: bool) -> String {
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return format!(
            "Rows at once is how many rows are with the model at the same time: a whole number from 1 to {MAX_CONCURRENCY}."
        );
    }
    let meaning = if concurrency == 1 {
        "1 row at a time: each row is sent once the one before has answered, in row order. The default, as it is gentle on rate limits; more rows at once finish sooner.".to_string()
    } else {
        format!(
            "Up to {concurrency} rows are with the model at the same time, so they may finish out of order. If the provider answers \"rate limited\", lower it."
        )
    };
    let time = estimate::estimate(
        rows,
        RowCost::default(),
        ModelRates {
            seconds_per_request: seconds,
            ..ModelRates::default()
        },
        concurrency,
    )
    .seconds;
    let at_once = if concurrency == 1 {
        "1 row at a time".to_string()
    } else {
        format!("{concurrency} rows at once")
    };
    format!(
        "{meaning} {at_once} ≈ {} for {} rows at {} a row ({}).",
        human_duration(time),
        human_count(rows),
        per_row_time(seconds),
        if measured {
            "measured by the connection check"
        } else {
            "assumed"
        }
    )
}

/// Temperature, max tokens per answer, and rows at once with what that means in time.
#[component]
pub(super) fn RequestSettings(
    /// The settings the page loaded with: what the fields show at first.
    initial: RunSettings,
    edits: Edits,
    pace: Memo<(ModelRates, bool)>,
    row_count: u64,
) -> impl IntoView {
    let settings = edits.settings;
    view! {
        <div class="form-grid">
            <div class="field">
                <label class="field__label" for="temperature">
                    "Temperature"
                </label>
                <NumberInput
                    id="temperature"
                    min=0
                    max=2
                    step="0.1"
                    placeholder="Provider default"
                    value=initial.temperature.map(|t| t.to_string()).unwrap_or_default()
                    on_input=move |text| {
                        let t = parse_optional::<f32>(&text);
                        edits.type_in(|s| s.temperature = t);
                    }
                />
            </div>
            <div class="field">
                <label class="field__label" for="max-tokens">
                    "Max tokens per answer"
                </label>
                <NumberInput
                    id="max-tokens"
                    min=1
                    placeholder="Provider default"
                    value=initial.max_tokens.map(|t| t.to_string()).unwrap_or_default()
                    on_input=move |text| {
                        let t = max_tokens_in(&text);
                        edits.type_in(|s| s.max_tokens = t);
                    }
                />
            </div>
            <div class="field">
                <label class="field__label" for="concurrency">
                    "Rows at once"
                </label>
                <NumberInput
                    id="concurrency"
                    min=1
                    max=MAX_CONCURRENCY
                    described_by="concurrency-help"
                    value=initial.concurrency.to_string()
                    on_input=move |text| {
                        let n = concurrency_in(&text);
                        edits.type_in(|s| s.concurrency = n);
                    }
                />
                <p class="field__help" id="concurrency-help" data-testid="concurrency-help">
                    {move || {
                        let (rates, measured) = pace.get();
                        let (concurrency, rows) = settings
                            .with(|s| (s.concurrency, s.rows_to_run(row_count)));
                        concurrency_help(concurrency, rows, rates.seconds_per_request, measured)
                    }}
                </p>
            </div>
        </div>
    }
}

/// A trial on the first rows, and what the batch does when a row fails.
#[component]
pub(super) fn RowsAndErrors(
    /// The settings the page loaded with: what the fields show at first.
    initial: RunSettings,
    edits: Edits,
) -> impl IntoView {
    let settings = edits.settings;
    // The trial size and the error limit are remembered while their option is off, so turning
    // it back on uses the number the field shows.
    let trial_rows = StoredValue::new(initial.first_rows.unwrap_or(DEFAULT_TRIAL_ROWS));
    let stop_after = StoredValue::new(match initial.error_policy {
        ErrorPolicy::StopAfter { errors } => errors,
        _ => DEFAULT_STOP_AFTER,
    });
    let stops_after =
        move || settings.with(|s| matches!(s.error_policy, ErrorPolicy::StopAfter { .. }));
    view! {
        <h3 class="section-title">"Rows and errors"</h3>
        <div class="field">
            <label class="checkbox">
                <input
                    type="checkbox"
                    id="trial"
                    prop:checked=move || settings.with(|s| s.first_rows.is_some())
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let n = trial_rows.get_value();
                        edits.change(|s| s.first_rows = on.then_some(n));
                    }
                />
                "Test on the first "
                <NumberInput
                    narrow=true
                    min=1
                    label="Number of rows to test on"
                    disabled=Signal::derive(move || settings.with(|s| s.first_rows.is_none()))
                    value=initial.first_rows.unwrap_or(DEFAULT_TRIAL_ROWS).to_string()
                    on_input=move |text| {
                        let n = parse_optional::<u64>(&text).unwrap_or(0);
                        trial_rows.set_value(n);
                        edits.type_in(|s| s.first_rows = Some(n));
                    }
                />
                " rows only"
            </label>
        </div>
        <fieldset class="field radio-group">
            <legend class="field__label">"When a row fails"</legend>
            <PolicyChoice
                checked=Signal::derive(move || {
                    settings.with(|s| s.error_policy == ErrorPolicy::Continue)
                })
                on_pick=move || edits.change(|s| s.error_policy = ErrorPolicy::Continue)
            >
                "Continue with the other rows"
            </PolicyChoice>
            <PolicyChoice
                checked=Signal::derive(move || {
                    settings.with(|s| s.error_policy == ErrorPolicy::StopOnFirst)
                })
                on_pick=move || edits.change(|s| s.error_policy = ErrorPolicy::StopOnFirst)
            >
                "Pause the batch at the first error"
            </PolicyChoice>
            <PolicyChoice
                checked=Signal::derive(stops_after)
                on_pick=move || {
                    let errors = stop_after.get_value();
                    edits.change(|s| s.error_policy = ErrorPolicy::StopAfter { errors });
                }
            >
                "Pause after "
                <NumberInput
                    narrow=true
                    min=1
                    label="Errors before pausing"
                    disabled=Signal::derive(move || !stops_after())
                    value=stop_after.get_value().to_string()
                    on_input=move |text| {
                        let errors = parse_optional::<u32>(&text).unwrap_or(0);
                        stop_after.set_value(errors);
                        edits.type_in(|s| s.error_policy = ErrorPolicy::StopAfter { errors });
                    }
                />
                " errors"
            </PolicyChoice>
        </fieldset>
    }
}

/// One way to treat a failed row: a radio button, and its words (with its number, if any).
#[component]
fn PolicyChoice(
    #[prop(into)] checked: Signal<bool>,
    on_pick: impl Fn() + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    view! {
        <label class="radio">
            <input
                type="radio"
                name="policy"
                prop:checked=move || checked.get()
                on:change=move |_| on_pick()
            />
            {children()}
        </label>
    }
}

/// The max-tokens box's value: none when empty; a number too large for the field reads as 0,
/// which the checks refuse.
fn max_tokens_in(text: &str) -> Option<u32> {
    parse_optional::<u32>(text).or_else(|| (!text.trim().is_empty()).then_some(0))
}

/// The rows-at-once box's value: empty or not a number is 0, which the checks refuse, rather
/// than a silent 1.
fn concurrency_in(text: &str) -> u32 {
    parse_optional::<u32>(text).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_of_one_row_at_a_time_is_explained_with_its_time() {
        assert_eq!(
            concurrency_help(1, 1_500, 1.5, false),
            "1 row at a time: each row is sent once the one before has answered, in row order. \
             The default, as it is gentle on rate limits; more rows at once finish sooner. \
             1 row at a time ≈ 38 min for 1,500 rows at ~1.5 s a row (assumed)."
        );
    }

    #[test]
    fn more_rows_at_once_divide_the_time_the_help_quotes() {
        let help = concurrency_help(8, 1_500, 1.0, true);
        assert!(help.starts_with("Up to 8 rows are with the model at the same time"));
        assert!(
            help.ends_with(
                "8 rows at once ≈ 4 min for 1,500 rows at ~1.0 s a row (measured by the connection check)."
            ),
            "{help}"
        );
    }

    #[test]
    fn an_out_of_range_number_of_rows_at_once_gets_the_range_not_a_time() {
        for n in [0, MAX_CONCURRENCY + 1] {
            let help = concurrency_help(n, 100, 1.0, false);
            assert!(help.contains("from 1 to 64"), "{help}");
            assert!(!help.contains('≈'), "{help}");
        }
    }
}
