//! Inline SVG icons, so pages need no icon font or network request.

use leptos::prelude::*;

/// The product mark: a grid of rows with one highlighted.
#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect x="2" y="2" width="28" height="28" rx="7" class="logo__bg" />
            <rect x="8" y="9" width="16" height="3" rx="1.5" class="logo__row" />
            <rect x="8" y="14.5" width="16" height="3" rx="1.5" class="logo__row logo__row--hot" />
            <rect x="8" y="20" width="11" height="3" rx="1.5" class="logo__row" />
        </svg>
    }
}

/// A stack of table rows, for empty states.
#[component]
pub fn TableIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 48 48" width="48" height="48" aria-hidden="true" class="icon-lg">
            <rect
                x="6"
                y="9"
                width="36"
                height="30"
                rx="5"
                fill="none"
                stroke="currentColor"
                stroke-width="2.5"
            />
            <path
                d="M6 18h36M6 27h36M18 18v21"
                fill="none"
                stroke="currentColor"
                stroke-width="2.5"
            />
        </svg>
    }
}

#[component]
pub fn PlusIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
            <path
                d="M10 4v12M4 10h12"
                stroke="currentColor"
                stroke-width="2"
                stroke-linecap="round"
            />
        </svg>
    }
}

#[component]
pub fn CheckIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 20 20" width="14" height="14" aria-hidden="true">
            <path
                d="M4.5 10.5l3.5 3.5 7.5-8"
                fill="none"
                stroke="currentColor"
                stroke-width="2.2"
                stroke-linecap="round"
                stroke-linejoin="round"
            />
        </svg>
    }
}
