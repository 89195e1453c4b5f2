//! Plain axum routes, outside the Leptos app.

pub mod api_error;
pub mod batches;
pub mod datasets;
pub mod events;
pub mod export;
pub mod extract;
pub mod health;
pub mod providers;
