//! Plain axum routes, outside the Leptos app.

pub mod health;
