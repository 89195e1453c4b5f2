//! A table that scrolls sideways in a region of its own when it is wider than the page. The
//! region takes the focus, so the keyboard can scroll it too, and its label says what it holds.

use leptos::prelude::*;

#[component]
pub fn TableRegion(
    /// What the table holds, e.g. "Columns of the file".
    label: &'static str,
    /// Taller than the default, for a preview of many rows.
    #[prop(optional)]
    tall: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <div
            class=if tall { "table-wrap table-wrap--tall" } else { "table-wrap" }
            tabindex="0"
            role="region"
            aria-label=label
        >
            {children()}
        </div>
    }
}
