//! The page for addresses that lead nowhere; answered with HTTP 404.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let path = use_location().pathname;

    view! {
        <Title text="Page not found" />
        <section class="not-found" aria-labelledby="not-found-title">
            <p class="not-found__code" aria-hidden="true">
                "404"
            </p>
            <h1 id="not-found-title">"Page not found"</h1>
            <p class="muted">
                "Nothing lives at " <code>{move || path.get()}</code>
                ". The link may be out of date, or the address mistyped."
            </p>
            <A href="/" attr:class="btn btn--primary">
                "Back to batches"
            </A>
        </section>
    }
}
