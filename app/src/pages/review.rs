//! Step 5 of the wizard: provider, model and run settings; the estimated tokens, cost and time;
//! what still blocks the start; Start batch and Reset form.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use rowbench_recipe::estimate::{self, human_count, human_duration, human_usd};
use rowbench_recipe::{BlockerStep, ErrorPolicy, MAX_CONCURRENCY, RunSettings};

use crate::api::review::{ReviewPage, SaveSettings, draft_review, reset_draft, start_batch};
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
    let settings = RwSignal::new(settings);
    let save = ServerAction::<SaveSettings>::new();
    let change = move |f: &dyn Fn(&mut RunSettings)| {
        settings.update(|s| f(s));
        save.dispatch(SaveSettings {
            settings: settings.get_untracked(),
        });
    };

    let provider = move || {
        let id = settings.with(|s| s.provider.clone());
        providers.with_value(|ps| ps.iter().find(|p| p.id == id).cloned())
    };
    let model = move || {
        let id = settings.with(|s| s.model.clone());
        provider().and_then(|p| p.models.into_iter().find(|m| m.id == id))
    };
    let run_estimate = Memo::new(move |_| {
        let rates = model().map(|m| m.rates).unwrap_or_default();
        settings
            .with(|s| estimate::estimate(s.rows_to_run(row_count), per_row, rates, s.concurrency))
    });
    let settings_problem = Memo::new(move |_| settings.with(|s| s.check().err()));
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
                                prop:value=move || settings.with(|s| s.temperature.map(|t| t.to_string()).unwrap_or_default())
                                on:change=move |ev| {
                                    let t = parse_optional::<f32>(&event_target_value(&ev));
                                    change(&|s| s.temperature = t);
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
                                prop:value=move || settings.with(|s| s.max_tokens.map(|t| t.to_string()).unwrap_or_default())
                                on:change=move |ev| {
                                    let t = parse_optional::<u32>(&event_target_value(&ev));
                                    change(&|s| s.max_tokens = t);
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
                                prop:value=move || settings.with(|s| s.concurrency.to_string())
                                on:change=move |ev| {
                                    let n = parse_optional::<u32>(&event_target_value(&ev)).unwrap_or(1);
                                    change(&|s| s.concurrency = n);
                                }
                            />
                            <p class="field__help">"1 runs the rows one after another, in order."</p>
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
                                    change(&|s| s.first_rows = on.then_some(s.first_rows.unwrap_or(10)));
                                }
                            />
                            "Test on the first "
                            <input
                                class="input input--narrow"
                                type="number"
                                min="1"
                                aria-label="Number of rows to test on"
                                disabled=move || settings.with(|s| s.first_rows.is_none())
                                prop:value=move || settings.with(|s| s.first_rows.unwrap_or(10).to_string())
                                on:change=move |ev| {
                                    let n = parse_optional::<u64>(&event_target_value(&ev)).unwrap_or(0);
                                    change(&|s| s.first_rows = Some(n));
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
                                on:change=move |_| change(&|s| s.error_policy = ErrorPolicy::StopAfter { errors: 10 })
                            />
                            "Pause after "
                            <input
                                class="input input--narrow"
                                type="number"
                                min="1"
                                aria-label="Errors before pausing"
                                disabled=move || settings.with(|s| !matches!(s.error_policy, ErrorPolicy::StopAfter { .. }))
                                prop:value=move || settings.with(|s| match s.error_policy {
                                    ErrorPolicy::StopAfter { errors } => errors.to_string(),
                                    _ => "10".to_string(),
                                })
                                on:change=move |ev| {
                                    let n = parse_optional::<u32>(&event_target_value(&ev)).unwrap_or(0);
                                    change(&|s| s.error_policy = ErrorPolicy::StopAfter { errors: n });
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
                                let rates = model().map(|m| m.rates).unwrap_or_default();
                                format!(
                                    "At ${:.2} / ${:.2} per million input / output tokens and about {:.1} s per request{}.",
                                    rates.input_usd_per_mtok,
                                    rates.output_usd_per_mtok,
                                    rates.seconds_per_request,
                                    if settings.with(|s| s.concurrency) > 1 { ", rows in parallel" } else { ", one row after another" },
                                )
                            }}
                        </p>
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
