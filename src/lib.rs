//! The Rowbench server: configuration, start-up, the plain axum routes and the Leptos app wiring.
//!
//! `main.rs` only reads the configuration and runs [`Application`]; tests build the same
//! [`Application`] on port 0 with a fresh database.

mod auth;
pub mod cli;
pub mod config;
pub mod page_pool;
mod recovery;
mod routes;
mod security;
mod sessions;
mod shutdown;
mod startup;
pub mod telemetry;
mod uploads;
mod wire_errors;

pub use config::Config;
pub use page_pool::PageSettings;
pub use startup::{Application, RouteTable, route_table};
