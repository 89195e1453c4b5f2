//! Plain axum routes, outside the Leptos app, and the table of every path they register (what
//! the isolation sweep of the tests walks: a new route is in it without anyone listing it).

use axum::Router;
use axum::routing::MethodRouter;

use crate::startup::AppState;

pub mod account;
pub mod api_error;
pub mod batches;
pub mod comparisons;
pub mod datasets;
pub mod events;
pub mod export;
pub mod extract;
pub mod health;
pub mod providers;
pub mod team;

/// A router that remembers the paths it was given.
pub struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    pub fn route(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, handler);
        self
    }

    /// Applies `f` (a layer, usually) to the routes so far.
    pub fn wrap(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }

    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// Every plain route of the server, in the order they are matched.
pub fn all() -> Routes {
    Routes::new()
        .merge(health::router())
        .merge(account::router())
        .merge(team::router())
        .merge(datasets::router())
        .merge(batches::router())
        .merge(comparisons::router())
        .merge(export::router())
        .merge(events::router())
        .merge(providers::router())
        // Last of the API: any other `/api/...` path answers a JSON 404, not the HTML page.
        .merge(api_error::router())
}
