//! The frame around every page: top bar with the product name and navigation, then the page.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::icons::Logo;

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    // Effects run only in the browser, after hydration: the attribute tells end-to-end tests
    // (and anyone curious) that the page is interactive.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="topbar">
            <div class="topbar__inner">
                <A href="/" attr:class="brand" attr:aria-label="Rowbench home">
                    <Logo />
                    <span class="brand__name">"Rowbench"</span>
                </A>
                <nav class="nav" aria-label="Main">
                    <A href="/" exact=true attr:class="nav__link">
                        "Batches"
                    </A>
                    <A href="/new" attr:class="nav__link">
                        "New batch"
                    </A>
                </nav>
                <span class="topbar__mode" title="Single user on this machine, no login">
                    <span class="dot dot--ok" aria-hidden="true"></span>
                    "Local mode"
                </span>
            </div>
        </header>
        <main id="main" class="page" data-hydrated=move || hydrated.get().then_some("true")>
            {children()}
        </main>
        <footer class="footer">
            <span>"Rowbench · runs a model over every row, returns validated results"</span>
        </footer>
    }
}
