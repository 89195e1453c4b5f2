//! Step 5 of the wizard: provider, model and run settings; the estimated tokens, cost and time,
//! recomputed as the user types; the connection check; what still blocks the start; Start batch
//! and Reset form.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use rowbench_recipe::estimate::{
    self, ModelRates, RowCost, human_count, human_duration, human_usd,
};
use rowbench_recipe::{BlockerStep, ErrorPolicy, MAX_CONCURRENCY, RunSettings};

use crate::api::review::{
    ConnectionReport, ReviewPage, check_connection, draft_review, reset_draft, save_settings,
    start_batch,
};
use crate::components::debounce::Debounced;
use crate::components::notice::ErrorNotice;
use crate::components::step_frame::StepFrame;
use crate::pages::prompt::UploadFirst;
use crate::wizard_step::WizardStep;

#[component]
pub fn ReviewStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_review());
    view! {
        <StepFrame step=WizardStep::Review no_continue=true>
            <Suspense fallback=|| view! { <p class="muted">"Adding up your batch…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        Ok(None) => view! { <UploadFirst /> }.into_any(),
                        Ok(Some(page)) => view! { <ReviewForm page /> }.into_any(),
                    }
                })}
            </Suspense>
        </StepFrame>
    }
}

fn step_of(step: BlockerStep) -> WizardStep {
    match step {
        BlockerStep::Columns => WizardStep::Columns,
        BlockerStep::Prompt => WizardStep::Prompt,
        BlockerStep::Schema => WizardStep::Schema,
        BlockerStep::Review => WizardStep::Review,
    }
}

/// An optional number field: empty means "not set".
fn parse_optional<T: std::str::FromStr>(text: &str) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        None
    } else {
        text.parse().ok()
    }
}

/// How long typing must pause before the settings are saved.
const SAVE_DELAY_MS: u64 = 300;
/// The trial size offered when "Test on the first N rows" is first turned on.
const DEFAULT_TRIAL_ROWS: u64 = 10;
/// The error limit offered when "Pause after N errors" is first chosen.
const DEFAULT_STOP_AFTER: u32 = 10;

/// Saves the page's settings one request at a time, the latest each time: a change made while
/// a save is on its way is sent once that one has answered, so an older save never lands after
/// (and overwrites) a newer one.
#[derive(Clone, Copy)]
struct SettingsSaver {
    settings: RwSignal<RunSettings>,
    error: RwSignal<Option<String>>,
    in_flight: StoredValue<bool>,
    again: StoredValue<bool>,
}

impl SettingsSaver {
    fn new(settings: RwSignal<RunSettings>, error: RwSignal<Option<String>>) -> Self {
        SettingsSaver {
            settings,
            error,
            in_flight: StoredValue::new(false),
            again: StoredValue::new(false),
        }
    }

    fn save(self) {
        if self.in_flight.try_get_value().unwrap_or(true) {
            self.again.try_set_value(true);
            return;
        }
        self.in_flight.set_value(true);
        leptos::task::spawn_local(async move {
            loop {
                self.again.try_set_value(false);
                // The page may be gone already.
                let Some(latest) = self.settings.try_get_untracked() else {
                    return;
                };
                let saved = save_settings(latest).await;
                self.error.try_set(
                    saved
                        .err()
                        .map(|e| format!("Your latest settings were not saved: {e}")),
                );
                if !self.again.try_get_value().unwrap_or(false) {
                    break;
                }
            }
            self.in_flight.try_set_value(false);
        });
    }
}

/// The model's rates with the time one row takes: the assumed figure, or the connection
/// check's measured round trip when that is slower (a real row, with its longer answer, is
/// never faster than the check's tiny one). The flag says which it is.
fn row_pace(assumed: ModelRates, measured_ms: Option<u64>) -> (ModelRates, bool) {
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
fn per_row_time(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("~{seconds:.2} s")
    } else {
        format!("~{seconds:.1} s")
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

#[component]
fn ReviewForm(page: ReviewPage) -> impl IntoView {
    let ReviewPage {
        dataset_name,
        row_count,
        field_count,
        providers,
        settings,
        per_row,
        sampled_rows,
        blockers,
    } = page;
    let providers = StoredValue::new(providers);
    // What the number fields show at first; from then on the user's typing owns their text, so
    // no re-render ever rewrites a field (and moves the caret) while it is being typed in.
    let initial = settings.clone();
    let settings = RwSignal::new(settings);
    let save_error: RwSignal<Option<String>> = RwSignal::new(None);
    let saver = SettingsSaver::new(settings, save_error);
    // Typing saves once it pauses; a choice from a list or a box saves at once.
    let save_later = Debounced::new(SAVE_DELAY_MS, move || saver.save());
    let type_in = move |f: &dyn Fn(&mut RunSettings)| {
        settings.update(|s| f(s));
        save_later.trigger();
    };
    let change = move |f: &dyn Fn(&mut RunSettings)| {
        settings.update(|s| f(s));
        save_later.fire_now();
    };
    // The trial size and the error limit are remembered while their option is off, so turning
    // it back on uses the number the field shows.
    let trial_rows = StoredValue::new(initial.first_rows.unwrap_or(DEFAULT_TRIAL_ROWS));
    let stop_after = StoredValue::new(match initial.error_policy {
        ErrorPolicy::StopAfter { errors } => errors,
        _ => DEFAULT_STOP_AFTER,
    });

    // Memos: typing in a number field changes the settings, but must not rebuild the lists.
    let provider = Memo::new(move |_| {
        let id = settings.with(|s| s.provider.clone());
        providers.with_value(|ps| ps.iter().find(|p| p.id == id).cloned())
    });
    let provider = move || provider.get();
    let model = Memo::new(move |_| {
        let id = settings.with(|s| s.model.clone());
        provider().and_then(|p| p.models.into_iter().find(|m| m.id == id))
    });
    let model = move || model.get();

    // The last connection check's answer, shown while the provider and model it was for are the
    // ones chosen; `checking` is the choice a check is running for.
    let connection: RwSignal<Option<Result<ConnectionReport, String>>> = RwSignal::new(None);
    let checked_for: RwSignal<Option<(String, String)>> = RwSignal::new(None);
    let checking: RwSignal<Option<(String, String)>> = RwSignal::new(None);
    let chosen = move || settings.with(|s| (s.provider.clone(), s.model.clone()));
    let current_check = move || {
        (checked_for.get() == Some(chosen()))
            .then(|| connection.get())
            .flatten()
    };
    let check = move |_| {
        let target = chosen();
        checking.set(Some(target.clone()));
        leptos::task::spawn_local(async move {
            let answer = check_connection(target.0.clone(), target.1.clone())
                .await
                .map_err(|e| e.to_string());
            // A check for another choice started since: this answer is stale.
            if checking.try_get_untracked().flatten().as_ref() != Some(&target) {
                return;
            }
            connection.set(Some(answer));
            checked_for.set(Some(target));
            checking.set(None);
        });
    };

    let pace = Memo::new(move |_| {
        let assumed = model().map(|m| m.rates).unwrap_or_default();
        let measured = current_check()
            .and_then(Result::ok)
            .and_then(|report| report.latency_ms);
        row_pace(assumed, measured)
    });
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
    let settings_problem =
        Memo::new(move |_| settings.with(|s| s.check().err().map(|e| e.to_string())));
    let server_blockers = StoredValue::new(blockers);
    // The server's verdict on the earlier steps, plus this form's own checks as they change.
    let blockers = move || {
        let mut list: Vec<(BlockerStep, String)> = server_blockers.with_value(|b| {
            b.iter()
                .filter(|b| b.step != BlockerStep::Review)
                .map(|b| (b.step, b.message.clone()))
                .collect()
        });
        if let Some(problem) = settings_problem.get() {
            list.push((BlockerStep::Review, problem));
        } else if model().is_none() {
            list.push((
                BlockerStep::Review,
                "Choose a model this server is configured for.".into(),
            ));
        }
        list
    };

    let starting = RwSignal::new(false);
    let start_error: RwSignal<Option<String>> = RwSignal::new(None);
    let navigate = use_navigate();
    let start = move |_| {
        starting.set(true);
        start_error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match start_batch(settings.get_untracked()).await {
                Ok(id) => navigate(&format!("/batches/{id}"), Default::default()),
                Err(error) => {
                    start_error.set(Some(error.to_string()));
                    starting.set(false);
                }
            }
        });
    };

    let confirming_reset = RwSignal::new(false);
    let navigate = use_navigate();
    let reset = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match reset_draft().await {
                // A full load: every step's data starts over.
                Ok(()) => {
                    #[cfg(feature = "hydrate")]
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().assign("/new/upload");
                        return;
                    }
                    navigate("/new/upload", Default::default());
                }
                Err(error) => start_error.set(Some(error.to_string())),
            }
        });
    };

    view! {
        <div class="review">
            <div class="summary-grid">
                <div class="stat">
                    <span class="stat__label">"Dataset"</span>
                    <span class="stat__value truncate">{dataset_name}</span>
                    <span class="stat__hint">{format!("{} rows", human_count(row_count))}</span>
                </div>
                <div class="stat">
                    <span class="stat__label">"Answer fields"</span>
                    <span class="stat__value">{field_count}</span>
                    <span class="stat__hint"><A href="/new/schema">"Edit schema"</A></span>
                </div>
                <div class="stat">
                    <span class="stat__label">"Per row (measured)"</span>
                    <span class="stat__value">{format!("~{:.0} in / ~{:.0} out", per_row.input_tokens, per_row.output_tokens)}</span>
                    <span class="stat__hint">{format!("tokens, averaged over {sampled_rows} rows")}</span>
                </div>
            </div>

            <div class="split">
                <div class="split__main">
                    <h3 class="section-title">"Model"</h3>
                    <div class="form-grid">
                        <div class="field">
                            <label class="field__label" for="provider">"Provider"</label>
                            <select
                                id="provider"
                                class="select"
                                prop:value=move || settings.with(|s| s.provider.clone())
                                on:change=move |ev| {
                                    let id = event_target_value(&ev);
                                    let first_model = providers.with_value(|ps| {
                                        ps.iter().find(|p| p.id == id).and_then(|p| p.models.first()).map(|m| m.id.clone())
                                    });
                                    change(&|s| {
                                        s.provider = id.clone();
                                        s.model = first_model.clone().unwrap_or_default();
                                    });
                                }
                            >
                                {providers.with_value(|ps| {
                                    ps.iter()
                                        .map(|p| view! { <option value=p.id.clone()>{p.label.clone()}</option> })
                                        .collect_view()
                                })}
                            </select>
                        </div>
                        <div class="field">
                            <label class="field__label" for="model">"Model"</label>
                            <select
                                id="model"
                                class="select"
                                prop:value=move || settings.with(|s| s.model.clone())
                                on:change=move |ev| {
                                    let id = event_target_value(&ev);
                                    change(&|s| s.model = id.clone());
                                }
                            >
                                {move || {
                                    provider()
                                        .map(|p| {
                                            p.models
                                                .into_iter()
                                                .map(|m| view! { <option value=m.id.clone()>{m.label}</option> })
                                                .collect_view()
                                        })
                                }}
                            </select>
                        </div>
                    </div>
                    {move || {
                        provider()
                            .filter(|p| p.is_demo)
                            .map(|_| {
                                view! {
                                    <p class="alert alert--info small" data-testid="demo-note">
                                        <strong>"Offline demo: "</strong>
                                        "answers are synthetic, schema-valid data made up on this server. No model is called and nothing leaves this machine."
                                    </p>
                                }
                            })
                    }}
                    <div class="connection-check">
                        <button
                            type="button"
                            class="btn btn--secondary btn--sm"
                            data-testid="check-connection"
                            disabled=move || checking.get() == Some(chosen()) || model().is_none()
                            on:click=check
                        >
                            {move || if checking.get() == Some(chosen()) { "Checking…" } else { "Check the connection" }}
                        </button>
                        <span class="small muted">"One small call with this provider, model and the server's key for it."</span>
                        {move || {
                            current_check()
                                .map(|answer| {
                                    let (class, text) = match answer {
                                        Ok(report) if report.ok => ("alert alert--success small", report.message),
                                        Ok(report) => ("alert alert--danger small", report.message),
                                        Err(error) => ("alert alert--danger small", format!("The check could not run: {error}")),
                                    };
                                    view! { <p class=class role="status" data-testid="connection-result">{text}</p> }
                                })
                        }}
                    </div>
                    <div class="form-grid">
                        <div class="field">
                            <label class="field__label" for="temperature">"Temperature"</label>
                            <input
                                id="temperature"
                                class="input"
                                type="number"
                                min="0"
                                max="2"
                                step="0.1"
                                placeholder="Provider default"
                                value=initial.temperature.map(|t| t.to_string()).unwrap_or_default()
                                on:input=move |ev| {
                                    let t = parse_optional::<f32>(&event_target_value(&ev));
                                    type_in(&|s| s.temperature = t);
                                }
                            />
                        </div>
                        <div class="field">
                            <label class="field__label" for="max-tokens">"Max tokens per answer"</label>
                            <input
                                id="max-tokens"
                                class="input"
                                type="number"
                                min="1"
                                placeholder="Provider default"
                                value=initial.max_tokens.map(|t| t.to_string()).unwrap_or_default()
                                on:input=move |ev| {
                                    // A number too large for the field reads as 0 and is refused.
                                    let text = event_target_value(&ev);
                                    let t = parse_optional::<u32>(&text).or_else(|| (!text.trim().is_empty()).then_some(0));
                                    type_in(&|s| s.max_tokens = t);
                                }
                            />
                        </div>
                        <div class="field">
                            <label class="field__label" for="concurrency">"Rows at once"</label>
                            <input
                                id="concurrency"
                                class="input"
                                type="number"
                                min="1"
                                max=MAX_CONCURRENCY
                                aria-describedby="concurrency-help"
                                value=initial.concurrency.to_string()
                                on:input=move |ev| {
                                    // Empty or not a number: 0, which the checks refuse, rather than a
                                    // silent 1.
                                    let n = parse_optional::<u32>(&event_target_value(&ev)).unwrap_or(0);
                                    type_in(&|s| s.concurrency = n);
                                }
                            />
                            <p class="field__help" id="concurrency-help" data-testid="concurrency-help">
                                {move || {
                                    let (rates, measured) = pace.get();
                                    let (concurrency, rows) = settings.with(|s| (s.concurrency, s.rows_to_run(row_count)));
                                    concurrency_help(concurrency, rows, rates.seconds_per_request, measured)
                                }}
                            </p>
                        </div>
                    </div>

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
                                    change(&|s| s.first_rows = on.then_some(n));
                                }
                            />
                            "Test on the first "
                            <input
                                class="input input--narrow"
                                type="number"
                                min="1"
                                aria-label="Number of rows to test on"
                                disabled=move || settings.with(|s| s.first_rows.is_none())
                                value=initial.first_rows.unwrap_or(DEFAULT_TRIAL_ROWS).to_string()
                                on:input=move |ev| {
                                    let n = parse_optional::<u64>(&event_target_value(&ev)).unwrap_or(0);
                                    trial_rows.set_value(n);
                                    type_in(&|s| s.first_rows = Some(n));
                                }
                            />
                            " rows only"
                        </label>
                    </div>
                    <fieldset class="field radio-group">
                        <legend class="field__label">"When a row fails"</legend>
                        <label class="radio">
                            <input
                                type="radio"
                                name="policy"
                                prop:checked=move || settings.with(|s| s.error_policy == ErrorPolicy::Continue)
                                on:change=move |_| change(&|s| s.error_policy = ErrorPolicy::Continue)
                            />
                            "Continue with the other rows"
                        </label>
                        <label class="radio">
                            <input
                                type="radio"
                                name="policy"
                                prop:checked=move || settings.with(|s| s.error_policy == ErrorPolicy::StopOnFirst)
                                on:change=move |_| change(&|s| s.error_policy = ErrorPolicy::StopOnFirst)
                            />
                            "Pause the batch at the first error"
                        </label>
                        <label class="radio">
                            <input
                                type="radio"
                                name="policy"
                                prop:checked=move || settings.with(|s| matches!(s.error_policy, ErrorPolicy::StopAfter { .. }))
                                on:change=move |_| {
                                    let errors = stop_after.get_value();
                                    change(&|s| s.error_policy = ErrorPolicy::StopAfter { errors });
                                }
                            />
                            "Pause after "
                            <input
                                class="input input--narrow"
                                type="number"
                                min="1"
                                aria-label="Errors before pausing"
                                disabled=move || settings.with(|s| !matches!(s.error_policy, ErrorPolicy::StopAfter { .. }))
                                value=stop_after.get_value().to_string()
                                on:input=move |ev| {
                                    let errors = parse_optional::<u32>(&event_target_value(&ev)).unwrap_or(0);
                                    stop_after.set_value(errors);
                                    type_in(&|s| s.error_policy = ErrorPolicy::StopAfter { errors });
                                }
                            />
                            " errors"
                        </label>
                    </fieldset>
                </div>

                <aside class="split__side">
                    <div class="estimate" data-testid="estimate">
                        <h3 class="section-title">"Estimate"</h3>
                        <dl class="estimate__list">
                            <dt>"Rows to run"</dt>
                            <dd data-testid="estimate-rows">{move || human_count(run_estimate.get().rows)}</dd>
                            <dt>"Input tokens"</dt>
                            <dd data-testid="estimate-input">{move || human_count(run_estimate.get().input_tokens)}</dd>
                            <dt>"Output tokens"</dt>
                            <dd data-testid="estimate-output">{move || human_count(run_estimate.get().output_tokens)}</dd>
                            <dt>"Cost"</dt>
                            <dd data-testid="estimate-cost">{move || human_usd(run_estimate.get().cost_usd)}</dd>
                            <dt>"Time"</dt>
                            <dd data-testid="estimate-time">{move || human_duration(run_estimate.get().seconds)}</dd>
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
                </aside>
            </div>

            {move || {
                let list = blockers();
                (!list.is_empty())
                    .then(|| {
                        view! {
                            <div class="alert alert--warning" data-testid="blockers">
                                <strong class="alert__title">"Before you can start"</strong>
                                <ul class="plain-list">
                                    {list
                                        .into_iter()
                                        .map(|(step, message)| {
                                            let step = step_of(step);
                                            view! {
                                                <li>
                                                    {message}
                                                    " "
                                                    {(step != WizardStep::Review)
                                                        .then(|| view! { <A href=format!("/new/{}", step.slug())>{format!("Fix in {}", step.label())}</A> })}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </div>
                        }
                    })
            }}
            {move || save_error.get().map(|e| view! { <p class="alert alert--warning" role="alert">{e}</p> })}
            {move || start_error.get().map(|e| view! { <p class="alert alert--danger" role="alert">{e}</p> })}

            <div class="review__actions">
                {move || {
                    if confirming_reset.get() {
                        view! {
                            <div class="confirm" role="alertdialog" aria-label="Reset the form?">
                                <span>"Clear the file, mapping, prompt, schema and settings of this draft?"</span>
                                <button type="button" class="btn btn--danger btn--sm" on:click=reset.clone()>"Yes, reset"</button>
                                <button type="button" class="btn btn--ghost btn--sm" on:click=move |_| confirming_reset.set(false)>"Keep my draft"</button>
                            </div>
                        }
                            .into_any()
                    } else {
                        view! {
                            <button type="button" class="btn btn--ghost" on:click=move |_| confirming_reset.set(true)>
                                "Reset form"
                            </button>
                        }
                            .into_any()
                    }
                }}
                <span class="spacer"></span>
                <span class="small muted" data-testid="start-reason">
                    {move || blockers().first().map(|(_, m)| format!("Start is disabled: {m}"))}
                </span>
                <button
                    type="button"
                    class="btn btn--primary btn--lg"
                    data-testid="start"
                    disabled=move || starting.get() || !blockers().is_empty()
                    on:click=start
                >
                    {move || if starting.get() { "Starting…" } else { "Start batch" }}
                </button>
            </div>
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
