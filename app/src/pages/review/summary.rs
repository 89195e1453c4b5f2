//! The three facts at the top of the Review step: the dataset, the answer fields, and what a row
//! costs in tokens as measured on the first rows.

use leptos::prelude::*;
use leptos_router::components::A;
use rowbench_recipe::estimate::{RowCost, human_count};

#[component]
pub(super) fn ReviewSummary(
    dataset_name: String,
    row_count: u64,
    field_count: usize,
    per_row: RowCost,
    sampled_rows: usize,
) -> impl IntoView {
    view! {
        <div class="summary-grid">
            <div class="stat">
                <span class="stat__label">"Dataset"</span>
                <span class="stat__value truncate">{dataset_name}</span>
                <span class="stat__hint">{format!("{} rows", human_count(row_count))}</span>
            </div>
            <div class="stat">
                <span class="stat__label">"Answer fields"</span>
                <span class="stat__value">{field_count}</span>
                <span class="stat__hint">
                    <A href="/new/schema">"Edit schema"</A>
                </span>
            </div>
            <div class="stat">
                <span class="stat__label">"Per row (measured)"</span>
                <span class="stat__value">
                    {format!("~{:.0} in / ~{:.0} out", per_row.input_tokens, per_row.output_tokens)}
                </span>
                <span class="stat__hint">
                    {format!("tokens, averaged over {sampled_rows} rows")}
                </span>
            </div>
        </div>
    }
}
