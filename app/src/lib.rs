//! Rowbench's web application: the HTML shell, the routes, the pages and the server functions
//! they call. Compiled twice: with `ssr` into the server, with `hydrate` into the browser's wasm.

// Leptos views are deeply nested types; the optimised builds need more than the default 128.
#![recursion_limit = "256"]

pub mod api;
mod components;
pub mod error;
mod pages;
#[cfg(feature = "ssr")]
pub mod server;
mod text;
#[cfg(feature = "hydrate")]
mod upload_client;
pub mod wizard_step;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::layout::AppLayout;
use crate::pages::{
    batch::BatchPage, home::HomePage, not_found::NotFound, settings::SettingsPage,
    wizard::ResumeDraft, wizard::WizardLayout, wizard::WizardStepPage,
};

/// The full HTML document the server sends; the browser hydrates everything inside `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta
                    name="description"
                    content="Run a language model over every row of a spreadsheet and get structured, validated results."
                />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes inside the common layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="rowbench" href="/pkg/rowbench.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Rowbench".to_string() } else { format!("{page} · Rowbench") }
        } />
        <Router>
            <AppLayout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("/batches/:id") view=BatchPage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=SettingsPage />
                    <ParentRoute path=path!("/new") view=WizardLayout ssr=SsrMode::Async>
                        <Route path=path!("") view=ResumeDraft />
                        <Route path=path!(":step") view=WizardStepPage />
                    </ParentRoute>
                </Routes>
            </AppLayout>
        </Router>
    }
}
