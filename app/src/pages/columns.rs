//! Step 2 of the wizard: for each column, ignore it, include it in the prompt, or send it as a
//! system parameter; mark key columns; see the result on a real row. Saved as it is edited.

use leptos::prelude::*;
use leptos_router::components::A;
use rowbench_mapping::{ColumnMapping, Role};
use rowbench_recipe::estimate::human_count;

use crate::api::mapping::{MappingPage, SaveMapping, draft_mapping};
use crate::components::notice::{ErrorNotice, Notice, Tone};

#[component]
pub fn ColumnsStep() -> impl IntoView {
    let page = Resource::new(|| (), |_| draft_mapping());
    view! {
        <section class="card step-panel" aria-labelledby="step-title">
            <header class="step-panel__head">
                <p class="eyebrow">"Step 2 of 6"</p>
                <h2 id="step-title">"Map columns"</h2>
                <p class="lead">"Decide what the model reads from each row."</p>
            </header>
            <Suspense fallback=|| view! { <p class="muted">"Loading your columns…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        Ok(None) => {
                            view! {
                                <Notice tone=Tone::Info title="Upload a file first".to_string()>
                                    "The columns come from your CSV. "
                                    <A href="/new/upload">"Go to Upload"</A>
                                </Notice>
                            }
                                .into_any()
                        }
                        Ok(Some(page)) => view! { <MappingEditor page /> }.into_any(),
                    }
                })}
            </Suspense>
            <footer class="step-panel__foot">
                <A href="/new/upload" attr:class="btn btn--ghost">"← Back: Upload"</A>
                <span class="spacer"></span>
                <A href="/new/prompt" attr:class="btn btn--primary">"Continue: Prompt →"</A>
            </footer>
        </section>
    }
}

#[component]
fn MappingEditor(page: MappingPage) -> impl IntoView {
    let MappingPage {
        dataset,
        mapping,
        tokens,
    } = page;
    let tokens = StoredValue::new(tokens);
    let mapping = RwSignal::new(mapping);
    // What the sent columns cost a row, before the prompt's own words.
    let sent = Memo::new(move |_| {
        mapping.with(|m| {
            let sent: Vec<usize> = m
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| !matches!(c.role, Role::Ignore))
                .map(|(i, _)| i)
                .collect();
            let cost: f64 = tokens.with_value(|t| sent.iter().filter_map(|&i| t.get(i)).sum());
            (sent.len(), m.columns.len(), cost)
        })
    });
    let problems = Memo::new(move |_| mapping.with(ColumnMapping::validate).err());
    let save = ServerAction::<SaveMapping>::new();
    let edited = RwSignal::new(false);
    // Save every valid edit; the first run (hydration) has nothing new to save.
    Effect::new(move |_| {
        let current = mapping.get();
        if edited.get_untracked() && current.validate().is_ok() {
            save.dispatch(SaveMapping { mapping: current });
        }
    });
    let change = move |f: &dyn Fn(&mut ColumnMapping)| {
        edited.set(true);
        mapping.update(|m| f(m));
    };

    let samples: Vec<String> = dataset
        .columns
        .iter()
        .map(|c| c.samples.first().cloned().unwrap_or_default())
        .collect();
    let rows = dataset.preview.clone();
    let row_count = rows.len();
    let shown = RwSignal::new(0usize);

    // Every column at once: a user who wants all of them sent (or to start from none) need not
    // change each select.
    let set_all = move |role: Role| {
        change(&|m| {
            for column in &mut m.columns {
                column.role = role.clone();
            }
        })
    };
    view! {
        <div class="row-actions mapping__bulk">
            <span class="small muted">"Text columns go to the model at first; ids, labels, numbers and dates stay out."</span>
            <span class="spacer"></span>
            <button type="button" class="btn btn--ghost btn--sm" on:click=move |_| set_all(Role::Include)>"Include all"</button>
            <button type="button" class="btn btn--ghost btn--sm" on:click=move |_| set_all(Role::Ignore)>"Ignore all"</button>
        </div>
        <p class="small strong mapping__sent" data-testid="sent-tokens" aria-live="polite">
            {move || {
                let (sent, of, cost) = sent.get();
                format!("Sent: {sent} of {of} columns, ≈ {} tokens a row", human_count(cost.round() as u64))
            }}
        </p>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Columns">
            <table class="table table--stack mapping">
                <thead>
                    <tr>
                        <th scope="col">"Column"</th>
                        <th scope="col">"Use"</th>
                        <th scope="col">"Parameter key"</th>
                        <th scope="col">"Key column"</th>
                    </tr>
                </thead>
                <tbody>
                    {dataset
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(position, column)| {
                            let name = column.name.clone();
                            let sample = samples[position].clone();
                            let role = move || mapping.with(|m| m.columns[position].role.clone());
                            // Only a change of role rebuilds the key box: rebuilt on every key
                            // typed into it, it lost the focus after one letter.
                            let is_param = Memo::new(move |_| matches!(role(), Role::Param { .. }));
                            let select_id = format!("use-{position}");
                            let key_id = format!("key-{position}");
                            let problem = move || {
                                problems.with(|p| p.as_ref().and_then(|p| p.for_column(position)).map(ToString::to_string))
                            };
                            view! {
                                <tr>
                                    <td>
                                        <label class="strong" for=select_id.clone()>{name.clone()}</label>
                                        <div class="small muted truncate">{sample}</div>
                                        <div class="small muted" data-testid="column-tokens">
                                            {format!("≈ {} tokens a row when sent", human_count(tokens.with_value(|t| t.get(position).copied().unwrap_or(0.0)).round() as u64))}
                                        </div>
                                    </td>
                                    <td data-label="Use">
                                        <select
                                            id=select_id
                                            class="select"
                                            prop:value=move || match role() {
                                                Role::Ignore => "ignore",
                                                Role::Include => "include",
                                                Role::Param { .. } => "param",
                                            }
                                            on:change=move |ev| {
                                                let choice = event_target_value(&ev);
                                                change(&|m| {
                                                    let column = &mut m.columns[position];
                                                    column.role = match choice.as_str() {
                                                        "ignore" => Role::Ignore,
                                                        "param" => Role::Param { key: column.default_key() },
                                                        _ => Role::Include,
                                                    };
                                                });
                                            }
                                        >
                                            <option value="include">"Include in prompt"</option>
                                            <option value="param">"Send as system param"</option>
                                            <option value="ignore">"Ignore"</option>
                                        </select>
                                    </td>
                                    <td data-label="Parameter key">
                                        {move || match is_param.get() {
                                            true => {
                                                view! {
                                                    <input
                                                        id=key_id.clone()
                                                        class="input input--mono"
                                                        aria-label=format!("Parameter key for {}", name)
                                                        aria-invalid=move || problem().is_some().to_string()
                                                        prop:value=move || match role() {
                                                            Role::Param { key } => key,
                                                            _ => String::new(),
                                                        }
                                                        on:input=move |ev| {
                                                            let key = event_target_value(&ev);
                                                            change(&|m| m.columns[position].role = Role::Param { key: key.clone() });
                                                        }
                                                    />
                                                    {move || problem().map(|p| view! { <p class="field__error" role="alert">{p}</p> })}
                                                }
                                                    .into_any()
                                            }
                                            false => view! { <span class="muted small">"—"</span> }.into_any(),
                                        }}
                                    </td>
                                    <td data-label="Key column">
                                        <input
                                            type="checkbox"
                                            aria-label=format!("{} identifies a row", column.name)
                                            prop:checked=move || mapping.with(|m| m.columns[position].is_key)
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                change(&|m| m.columns[position].is_key = on);
                                            }
                                        />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {move || {
            problems
                .with(|p| p.as_ref().and_then(|p| p.mapping.first().map(ToString::to_string)))
                .map(|message| view! { <Notice tone=Tone::Danger title="Nothing to send".to_string()>{message}</Notice> })
        }}
        <p class="small muted" role="status" data-testid="save-status">
            {move || match (problems.get().is_some(), save.pending().get(), save.value().get()) {
                (true, _, _) => "Not saved: fix the problem shown above.".to_string(),
                (false, true, _) => "Saving…".to_string(),
                (false, false, Some(Err(error))) => error.to_string(),
                (false, false, Some(Ok(()))) => "Saved.".to_string(),
                (false, false, None) => "Changes are saved as you make them.".to_string(),
            }}
        </p>
        <div class="example">
            <div class="example__head">
                <h3 class="section-title">"Example: what the model gets for one row"</h3>
                <div class="example__nav">
                    <button class="btn btn--ghost" type="button" disabled=move || { shown.get() == 0 } on:click=move |_| shown.update(|i| *i = i.saturating_sub(1))>
                        "← Previous"
                    </button>
                    <span class="small muted" data-testid="example-position">
                        {move || format!("Row {} of the first {row_count}", shown.get() + 1)}
                    </span>
                    <button class="btn btn--ghost" type="button" disabled=move || { shown.get() + 1 >= row_count } on:click=move |_| shown.update(|i| *i += 1)>
                        "Next →"
                    </button>
                </div>
            </div>
            <pre class="example__body" tabindex="0" data-testid="example">
                {move || {
                    let Some(row) = rows.get(shown.get()) else { return String::new() };
                    mapping.with(|m| example_text(m, &row.cells))
                }}
            </pre>
        </div>
    }
}

/// The row as the model will see it: included columns by name, then the system parameters.
fn example_text(mapping: &ColumnMapping, cells: &[String]) -> String {
    // Continuation lines of a multi-line value stay under their value.
    let cell = |name: &str| {
        mapping
            .columns
            .iter()
            .position(|c| c.name == name)
            .and_then(|i| cells.get(i))
            .map(|value| value.replace('\n', "\n    "))
            .unwrap_or_default()
    };
    let mut text = String::from("In the prompt:\n");
    let mut any = false;
    for name in mapping.included() {
        any = true;
        text.push_str(&format!("  {name}: {}\n", cell(name)));
    }
    if !any {
        text.push_str("  (no columns)\n");
    }
    text.push_str("\nSystem parameters:\n");
    let mut any = false;
    for (key, name) in mapping.params() {
        any = true;
        text.push_str(&format!("  system_params.{key} = {}\n", cell(name)));
    }
    if !any {
        text.push_str("  (none)\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_lists_included_columns_then_parameters_with_their_values() {
        let mut mapping = ColumnMapping::from_headers(&["id", "body", "lang"]);
        mapping.columns[0].role = Role::Ignore;
        mapping.columns[2].role = Role::Param { key: "lang".into() };
        let cells = [
            "7".to_string(),
            "Hello\nthere".to_string(),
            "en".to_string(),
        ];
        assert_eq!(
            example_text(&mapping, &cells),
            "In the prompt:\n  body: Hello\n    there\n\nSystem parameters:\n  system_params.lang = en\n"
        );
    }
}
