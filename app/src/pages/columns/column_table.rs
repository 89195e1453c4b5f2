//! The table of columns: for each, its name with a sample value and what it costs a row when
//! sent, what the model gets of it, its parameter key, whether it identifies a row, and the
//! answer field it holds the expected (gold) answers for.

use leptos::prelude::*;
use rowbench_mapping::{ColumnProblem, MappingErrors, Role};
use rowbench_recipe::estimate::human_count;

use super::MappingEdits;
use crate::api::upload::ColumnView;
use crate::components::table_region::TableRegion;

#[component]
pub(super) fn ColumnTable(
    columns: Vec<ColumnView>,
    /// Per column, the input tokens a row costs when it is sent.
    tokens: StoredValue<Vec<f64>>,
    edits: MappingEdits,
    problems: Memo<Option<MappingErrors>>,
    /// The draft schema's fields so far, offered as gold targets.
    fields: Vec<String>,
) -> impl IntoView {
    view! {
        <datalist id="schema-fields">
            {fields.into_iter().map(|f| view! { <option value=f></option> }).collect_view()}
        </datalist>
        <TableRegion label="Columns">
            <table class="table table--stack mapping">
                <thead>
                    <tr>
                        <th scope="col">"Column"</th>
                        <th scope="col">"Use"</th>
                        <th scope="col">"Parameter key"</th>
                        <th scope="col">"Key column"</th>
                        <th
                            scope="col"
                            title="A column of right answers is compared with the model's; it is never sent to the model"
                        >
                            "Expected answer for"
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {columns
                        .into_iter()
                        .enumerate()
                        .map(|(position, column)| {
                            let tokens = tokens
                                .with_value(|t| t.get(position).copied().unwrap_or(0.0));
                            view! { <ColumnRow position column tokens edits problems /> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </TableRegion>
    }
}

#[component]
fn ColumnRow(
    position: usize,
    column: ColumnView,
    tokens: f64,
    edits: MappingEdits,
    problems: Memo<Option<MappingErrors>>,
) -> impl IntoView {
    let mapping = edits.mapping;
    let name = column.name;
    let sample = column.samples.first().cloned().unwrap_or_default();
    let role = move || mapping.with(|m| m.columns[position].role.clone());
    // Only a change of role rebuilds the key box: rebuilt on every key typed into it, it lost
    // the focus after one letter.
    let is_param = Memo::new(move |_| matches!(role(), Role::Param { .. }));
    let select_id = format!("use-{position}");
    let problem = move || {
        problems.with(|p| {
            p.as_ref()
                .and_then(|p| p.for_column(position))
                .map(ToString::to_string)
        })
    };
    let key_label = format!("Parameter key for {name}");
    let gold_problem = move || {
        problems.with(|p| {
            p.as_ref()
                .and_then(|p| p.for_column(position))
                .filter(|p| {
                    matches!(
                        p,
                        ColumnProblem::GoldIsSent { .. } | ColumnProblem::DuplicateGold { .. }
                    )
                })
                .map(ToString::to_string)
        })
    };
    view! {
        <tr>
            <td>
                <label class="strong" for=select_id.clone()>
                    {name.clone()}
                </label>
                <div class="small muted truncate">{sample}</div>
                <div class="small muted" data-testid="column-tokens">
                    {format!("≈ {} tokens a row when sent", human_count(tokens.round() as u64))}
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
                        edits
                            .change(|m| {
                                let column = &mut m.columns[position];
                                if choice != "ignore" {
                                    column.gold_for = None;
                                }
                                column.role = match choice.as_str() {
                                    "ignore" => Role::Ignore,
                                    "param" => {
                                        Role::Param {
                                            key: column.default_key(),
                                        }
                                    }
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
                                id=format!("key-{position}")
                                class="input input--mono"
                                aria-label=key_label.clone()
                                aria-invalid=move || problem().is_some().to_string()
                                prop:value=move || match role() {
                                    Role::Param { key } => key,
                                    _ => String::new(),
                                }
                                on:input=move |ev| {
                                    let key = event_target_value(&ev);
                                    edits
                                        .change(|m| m.columns[position].role = Role::Param { key });
                                }
                            />
                            {move || {
                                problem()
                                    .map(|p| {
                                        view! {
                                            <p class="field__error" role="alert">
                                                {p}
                                            </p>
                                        }
                                    })
                            }}
                        }
                            .into_any()
                    }
                    false => view! { <span class="muted small">"—"</span> }.into_any(),
                }}
            </td>
            <td data-label="Key column">
                <input
                    type="checkbox"
                    aria-label=format!("{name} identifies a row")
                    prop:checked=move || mapping.with(|m| m.columns[position].is_key)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edits.change(|m| m.columns[position].is_key = on);
                    }
                />
            </td>
            <td data-label="Expected answer for">
                <input
                    class="input input--mono input--narrow"
                    list="schema-fields"
                    placeholder="field name"
                    aria-label=format!("{name} holds the expected answer for the field")
                    aria-invalid=move || gold_problem().is_some().to_string()
                    prop:value=move || {
                        mapping.with(|m| m.columns[position].gold_for.clone().unwrap_or_default())
                    }
                    on:input=move |ev| {
                        let field = event_target_value(&ev).trim().to_string();
                        edits
                            .change(|m| {
                                let column = &mut m.columns[position];
                                if field.is_empty() {
                                    column.gold_for = None;
                                } else {
                                    column.gold_for = Some(field);
                                    column.role = Role::Ignore;
                                }
                            });
                    }
                />
                {move || {
                    gold_problem()
                        .map(|p| {
                            view! {
                                <p class="field__error" role="alert">
                                    {p}
                                </p>
                            }
                        })
                }}
            </td>
        </tr>
    }
}
