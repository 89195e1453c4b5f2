//! "Compare with…": the batch's rows run again with another model, temperature or system prompt,
//! linked to it as a comparison, and how far the runs agree, field by field, filling in while
//! they run.

use leptos::prelude::*;
use rowbench_recipe::estimate::human_count;
use serde_json::{Map, Value};

use super::accuracy::ProblemLine;
use crate::api::batch::{
    AllRows, CompareRequest, CompareRows, CompareScreen, ComparisonView, CostsElsewhere,
    PromptOverride, load_compare_screen, start_comparison,
};
use crate::error::AppError;

/// Dollars as the panel shows them: cents below a thousand, whole dollars above.
fn dollars(usd: f64) -> String {
    if usd >= 1000.0 {
        format!("${}", human_count(usd.round() as u64))
    } else if usd >= 0.01 || usd == 0.0 {
        format!("${usd:.2}")
    } else {
        "under $0.01".to_string()
    }
}

/// A share as the panel shows it: "52%".
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_string(), |s| format!("{:.0}%", s * 100.0))
}

/// What the form asks for, as the API takes it; or what is wrong with it.
fn request(
    screen: &CompareScreen,
    model: &str,
    temperature: &str,
    system: &str,
    rows: &str,
    count: &str,
) -> Result<CompareRequest, String> {
    let mut settings = Map::new();
    if let Some((provider, model)) = model.split_once('/')
        && (provider != screen.provider || model != screen.model)
    {
        settings.insert("provider".into(), Value::from(provider));
        settings.insert("model".into(), Value::from(model));
    }
    let temperature = temperature.trim();
    if !temperature.is_empty() {
        let t: f32 = temperature
            .parse()
            .ok()
            .filter(|t: &f32| (0.0..=2.0).contains(t))
            .ok_or_else(|| {
                "Temperature is a number from 0 to 2, or blank for the batch's own.".to_string()
            })?;
        settings.insert("temperature".into(), Value::from(t));
    }
    let prompt = (system != screen.system).then(|| PromptOverride {
        system: Some(system.to_string()),
        user: None,
    });
    let count = || {
        count
            .trim()
            .replace([',', ' '], "")
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| "The number of rows is a whole number of 1 or more.".to_string())
    };
    let rows = match rows {
        "first" => CompareRows::First { first: count()? },
        "sample" => CompareRows::Sample {
            sample: count()?,
            seed: 1,
        },
        _ => CompareRows::Every(AllRows::All),
    };
    Ok(CompareRequest {
        settings,
        prompt,
        rows,
    })
}

#[component]
pub(super) fn ComparePanel(
    id: i64,
    /// Viewers see the agreement, not the form.
    can_edit: bool,
) -> impl IntoView {
    let screen: RwSignal<Option<Result<CompareScreen, AppError>>> = RwSignal::new(None);
    let model = RwSignal::new(String::new());
    let temperature = RwSignal::new(String::new());
    let system = RwSignal::new(String::new());
    let rows = RwSignal::new("all".to_string());
    let count = RwSignal::new("100".to_string());
    let busy = RwSignal::new(false);
    let problem: RwSignal<Option<String>> = RwSignal::new(None);
    let started: RwSignal<Option<i64>> = RwSignal::new(None);
    let reload = move || {
        leptos::task::spawn_local(async move {
            let loaded = load_compare_screen(id).await;
            if let Ok(loaded) = &loaded
                && model.with_untracked(String::is_empty)
            {
                model.set(format!("{}/{}", loaded.provider, loaded.model));
                system.set(loaded.system.clone());
            }
            screen.set(Some(loaded));
        });
    };
    #[cfg(feature = "hydrate")]
    {
        let active = move || {
            screen.with(|s| {
                s.as_ref()
                    .and_then(|s| s.as_ref().ok())
                    .and_then(|s| s.comparison.as_ref())
                    .is_some_and(|c| {
                        c.runs
                            .iter()
                            .any(|r| matches!(r.status.as_str(), "queued" | "running"))
                    })
            })
        };
        // Read once the page is live (it is not needed for the first screen), then every 2 s
        // while a run goes, so the agreement fills in.
        Effect::new(move |_| reload());
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if active() {
                    reload();
                }
            },
            std::time::Duration::from_secs(2),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    let submit = move || {
        let Some(Ok(current)) = screen.get_untracked() else {
            return;
        };
        let asked = request(
            &current,
            &model.get_untracked(),
            &temperature.get_untracked(),
            &system.get_untracked(),
            &rows.get_untracked(),
            &count.get_untracked(),
        );
        let request = match asked {
            Ok(request) => request,
            Err(message) => {
                problem.set(Some(message));
                return;
            }
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match start_comparison(id, request).await {
                Ok(run) => {
                    problem.set(None);
                    started.set(Some(run.batch_id));
                    reload();
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let choices = move || {
        screen.with(|s| match s {
            Some(Ok(s)) => s
                .choices
                .iter()
                .flat_map(|p| {
                    p.models.iter().map(move |m| {
                        (
                            format!("{}/{}", p.id, m.id),
                            format!("{} · {}", p.label, m.label),
                        )
                    })
                })
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    view! {
        <section class="card compare" data-testid="compare" aria-labelledby="compare-title">
            <header class="accuracy__head">
                <h2 id="compare-title" class="section-title">
                    "Compare with…"
                </h2>
            </header>
            <p class="small muted">
                "Run the same rows with another model, temperature or system prompt, and see field by field where the answers agree: before a million rows, and where they cannot be trusted."
            </p>
            <ProblemLine problem />
            <form
                hidden=!can_edit
                class="rerun__form compare__form"
                data-testid="compare-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <label class="small">
                    <span>"Model"</span>
                    <select
                        class="select"
                        name="model"
                        aria-label="Model to compare with"
                        on:change=move |ev| model.set(event_target_value(&ev))
                    >
                        {move || {
                            choices()
                                .into_iter()
                                .map(|(value, label)| {
                                    let chosen = value.clone();
                                    view! {
                                        <option
                                            value=value
                                            selected=move || model.with(|m| *m == chosen)
                                        >
                                            {label}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label class="small">
                    <span>"Temperature"</span>
                    <input
                        class="input input--sm input--narrow"
                        inputmode="decimal"
                        name="temperature"
                        placeholder="as the batch"
                        aria-label="Temperature of the comparison"
                        prop:value=move || temperature.get()
                        on:input=move |ev| temperature.set(event_target_value(&ev))
                    />
                </label>
                <label class="small">
                    <span>"Rows"</span>
                    <select
                        class="select"
                        name="rows"
                        aria-label="Rows to compare"
                        on:change=move |ev| rows.set(event_target_value(&ev))
                    >
                        <option value="all" selected=move || rows.with(|r| r == "all")>
                            "every row"
                        </option>
                        <option value="first" selected=move || rows.with(|r| r == "first")>
                            "the first"
                        </option>
                        <option value="sample" selected=move || rows.with(|r| r == "sample")>
                            "a random sample of"
                        </option>
                    </select>
                </label>
                {move || {
                    rows.with(|r| r != "all")
                        .then(|| {
                            view! {
                                <label class="small">
                                    <span>"How many"</span>
                                    <input
                                        class="input input--sm input--narrow"
                                        inputmode="numeric"
                                        name="count"
                                        aria-label="Rows to compare, how many"
                                        prop:value=move || count.get()
                                        on:input=move |ev| count.set(event_target_value(&ev))
                                    />
                                </label>
                            }
                        })
                }}
                <label class="small compare__system">
                    <span>"System prompt"</span>
                    <textarea
                        class="input input--sm"
                        name="system"
                        rows="2"
                        aria-label="System prompt of the comparison"
                        prop:value=move || system.get()
                        on:input=move |ev| system.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <button
                    type="submit"
                    class="btn btn--primary btn--sm"
                    disabled=move || busy.get() || !matches!(screen.get(), Some(Ok(_)))
                    data-testid="compare-start"
                >
                    {move || if busy.get() { "Starting…" } else { "Start the comparison" }}
                </button>
            </form>
            {move || {
                started
                    .get()
                    .map(|batch| {
                        view! {
                            <p
                                class="alert alert--success small"
                                role="status"
                                data-testid="compare-started"
                            >
                                "The comparison run started: "
                                <a href=format!("/batches/{batch}")>{format!("batch {batch}")}</a>
                                ". The agreement below fills in as its rows finish."
                            </p>
                        }
                    })
            }}
            {move || {
                screen
                    .with(|s| match s {
                        Some(Ok(s)) => s.comparison.clone(),
                        _ => None,
                    })
                    .map(|comparison| view! { <Agreement comparison /> })
            }}
            {move || {
                screen
                    .with(|s| match s {
                        Some(Ok(s)) if s.costs.calls > 0 => Some(s.costs.clone()),
                        _ => None,
                    })
                    .map(|costs| view! { <Elsewhere costs /> })
            }}
        </section>
    }
}

/// The comparison's runs and its agreement per field.
#[component]
fn Agreement(comparison: ComparisonView) -> impl IntoView {
    let runs = comparison
        .runs
        .iter()
        .map(|run| {
            view! {
                <li>
                    <a href=format!("/batches/{}", run.batch_id)>{run.name.clone()}</a>
                    " "
                    <span class="muted small">
                        {format!(
                            "{} · {} of {} rows",
                            run.status,
                            human_count(u64::try_from(run.done_rows).unwrap_or(0)),
                            human_count(u64::try_from(run.total_rows).unwrap_or(0)),
                        )}
                    </span>
                </li>
            }
        })
        .collect_view();
    let fields = comparison
        .fields
        .iter()
        .map(|f| {
            let kappa = f
                .kappa
                .map_or_else(|| "–".to_string(), |k| format!("{k:.2}"));
            let kappa_title = if f.kappa.is_some() {
                "Agreement beyond chance: 1 is perfect, 0 what chance alone gives"
            } else {
                "Kappa is for one-of-a-list and yes/no fields with more than one value given"
            };
            let folded = f.normalised.map(|n| {
                view! {
                    <span class="muted small compare__folded">
                        {format!("{} ignoring case and spaces", percent(Some(n)))}
                    </span>
                }
            });
            let agreement = percent(f.agreement);
            view! {
                <tr data-testid="agreement-row">
                    <td>
                        <code>{f.field.clone()}</code>
                    </td>
                    <td class="num">
                        <span data-testid="agreement">{agreement}</span>
                        {folded}
                    </td>
                    <td class="num" title=kappa_title data-testid="kappa">
                        {kappa}
                    </td>
                    <td class="num">{human_count(f.rows_compared)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="compare__result" data-testid="comparison" data-comparison=comparison.id>
            <ol class="compare__runs">{runs}</ol>
            <p class="small" data-testid="rows-compared">
                {format!(
                    "{} {} answered by every run.",
                    human_count(comparison.rows_compared),
                    if comparison.rows_compared == 1 { "row" } else { "rows" },
                )}
            </p>
            <div class="table-wrap compare__table">
                <table class="table" aria-label="Agreement per field">
                    <thead>
                        <tr>
                            <th scope="col">"Field"</th>
                            <th scope="col" class="num">
                                "Agreement"
                            </th>
                            <th scope="col" class="num">
                                "Kappa"
                            </th>
                            <th scope="col" class="num">
                                "Rows"
                            </th>
                        </tr>
                    </thead>
                    <tbody>{fields}</tbody>
                </table>
            </div>
        </div>
    }
}

/// What the batch's calls would have cost on other models, cheapest first.
#[component]
fn Elsewhere(costs: CostsElsewhere) -> impl IntoView {
    let summary = format!(
        "What these {} calls would cost elsewhere ({} tokens in, {} out)",
        human_count(u64::try_from(costs.calls).unwrap_or(0)),
        human_count(u64::try_from(costs.input_tokens).unwrap_or(0)),
        human_count(u64::try_from(costs.output_tokens).unwrap_or(0)),
    );
    let rows = costs
        .models
        .into_iter()
        .map(|m| {
            let name = format!("{} ({})", m.label, m.provider);
            let batch = m
                .batch_cost_usd
                .map_or_else(|| "no batch API".to_string(), dollars);
            view! {
                <tr data-testid="cost-row" class:is-selected=m.this_batch>
                    <td>
                        {name}
                        {m
                            .this_batch
                            .then(|| view! { <span class="muted small">" · this batch"</span> })}
                        {(!m.configured)
                            .then(|| {
                                view! { <span class="muted small">" · not set up here"</span> }
                            })}
                    </td>
                    <td class="num" data-testid="cost">
                        {dollars(m.cost_usd)}
                    </td>
                    <td class="num muted">{batch}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <details class="compare__costs" data-testid="costs">
            <summary class="small">{summary}</summary>
            <p class="small muted">
                "The tokens this batch's calls recorded, at each model's list price; no call is made. Another model's tokenizer counts the same text somewhat differently. Batch APIs answer within a day, at half the price."
            </p>
            <div class="table-wrap compare__table">
                <table class="table" aria-label="Cost on other models">
                    <thead>
                        <tr>
                            <th scope="col">"Model"</th>
                            <th scope="col" class="num">
                                "Cost"
                            </th>
                            <th scope="col" class="num">
                                "In batch mode"
                            </th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen() -> CompareScreen {
        CompareScreen {
            choices: Vec::new(),
            provider: "demo".into(),
            model: "demo-synthetic".into(),
            temperature: None,
            system: "Classify.".into(),
            comparison: None,
            costs: CostsElsewhere {
                calls: 0,
                input_tokens: 0,
                output_tokens: 0,
                cost_usd: 0.0,
                models: Vec::new(),
            },
        }
    }

    #[test]
    fn the_form_sends_only_what_it_changes() {
        let asked =
            request(&screen(), "demo/demo-synthetic", "", "Classify.", "all", "").expect("valid");
        assert!(asked.settings.is_empty());
        assert_eq!(asked.prompt, None);
        assert_eq!(asked.rows, CompareRows::Every(AllRows::All));

        let asked = request(
            &screen(),
            "openai/gpt-4o",
            "0.5",
            "Be strict.",
            "sample",
            "1,000",
        )
        .expect("valid");
        assert_eq!(asked.settings["provider"], "openai");
        assert_eq!(asked.settings["model"], "gpt-4o");
        assert_eq!(asked.settings["temperature"], 0.5);
        assert_eq!(
            asked.prompt.and_then(|p| p.system).as_deref(),
            Some("Be strict.")
        );
        assert_eq!(
            asked.rows,
            CompareRows::Sample {
                sample: 1000,
                seed: 1
            }
        );
    }

    #[test]
    fn dollars_read_as_cents_or_whole_dollars() {
        assert_eq!(dollars(0.0), "$0.00");
        assert_eq!(dollars(0.004), "under $0.01");
        assert_eq!(dollars(12.345), "$12.35");
        assert_eq!(dollars(25_400.4), "$25,400");
    }

    #[test]
    fn a_bad_number_in_the_form_says_what_it_should_be() {
        let bad = request(
            &screen(),
            "demo/demo-synthetic",
            "hot",
            "Classify.",
            "all",
            "",
        );
        assert_eq!(
            bad.err().as_deref(),
            Some("Temperature is a number from 0 to 2, or blank for the batch's own.")
        );
        let bad = request(
            &screen(),
            "demo/demo-synthetic",
            "",
            "Classify.",
            "first",
            "0",
        );
        assert_eq!(
            bad.err().as_deref(),
            Some("The number of rows is a whole number of 1 or more.")
        );
    }
}
