//! The example under the table: what the model gets for one of the first rows under the mapping
//! as it is now.

use leptos::prelude::*;
use rowbench_mapping::ColumnMapping;

use crate::api::upload::RowView;

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

#[component]
pub(super) fn MappingExample(
    mapping: RwSignal<ColumnMapping>,
    rows: Vec<RowView>,
) -> impl IntoView {
    let row_count = rows.len();
    let shown = RwSignal::new(0usize);
    view! {
        <div class="example">
            <div class="example__head">
                <h3 class="section-title">"Example: what the model gets for one row"</h3>
                <div class="example__nav">
                    <button
                        class="btn btn--ghost"
                        type="button"
                        disabled=move || { shown.get() == 0 }
                        on:click=move |_| shown.update(|i| *i = i.saturating_sub(1))
                    >
                        "← Previous"
                    </button>
                    <span class="small muted" data-testid="example-position">
                        {move || format!("Row {} of the first {row_count}", shown.get() + 1)}
                    </span>
                    <button
                        class="btn btn--ghost"
                        type="button"
                        disabled=move || { shown.get() + 1 >= row_count }
                        on:click=move |_| shown.update(|i| *i += 1)
                    >
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

#[cfg(test)]
mod tests {
    use super::*;
    use rowbench_mapping::Role;

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
