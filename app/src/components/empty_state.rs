//! The panel shown where a list has nothing in it yet, with the one action that fills it.

use leptos::prelude::*;

#[component]
pub fn EmptyState(
    /// What is missing, e.g. "No batches yet".
    title: &'static str,
    /// One sentence on how to get started.
    body: &'static str,
    /// The icon above the title.
    icon: AnyView,
    /// The call to action.
    children: Children,
) -> impl IntoView {
    view! {
        <section class="empty-state" aria-label=title>
            <div class="empty-state__icon">{icon}</div>
            <h2 class="empty-state__title">{title}</h2>
            <p class="empty-state__body">{body}</p>
            <div class="empty-state__action">{children()}</div>
        </section>
    }
}
