//! A number box the user types into. The page sets its text once; from then on only the user's
//! typing changes it, so no re-render rewrites it (and moves the caret, or takes the focus) while
//! a number is being typed. What a key changes is up to the page, told on every key.

use leptos::prelude::*;

#[component]
pub fn NumberInput(
    /// The text the box starts with; empty for "not set".
    value: String,
    /// Called with the box's text on every key.
    on_input: impl Fn(String) + Send + Sync + 'static,
    min: u32,
    #[prop(optional)] id: Option<&'static str>,
    /// The narrow box that sits inside a sentence ("Test on the first [10] rows only").
    #[prop(optional)]
    narrow: bool,
    #[prop(optional)] max: Option<u32>,
    #[prop(optional)] step: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    /// The accessible name, for a box with no `<label for>` of its own.
    #[prop(optional)]
    label: Option<&'static str>,
    /// The id of the help text under the box.
    #[prop(optional)]
    described_by: Option<&'static str>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <input
            id=id
            class=if narrow { "input input--narrow" } else { "input" }
            type="number"
            min=min
            max=max
            step=step
            placeholder=placeholder
            aria-label=label
            aria-describedby=described_by
            disabled=move || disabled.get()
            value=value
            on:input=move |ev| on_input(event_target_value(&ev))
        />
    }
}
