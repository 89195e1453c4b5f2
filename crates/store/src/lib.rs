//! Rowbench's database: one pool, the embedded migrations, and the queries each table needs.
//!
//! The rest of the server never writes SQL; it calls the functions in [`drafts`] and [`batches`].

pub mod accounts;
pub mod batch_view;
pub mod batches;
pub mod chart_cache;
pub mod comparisons;
mod database;
pub mod datasets;
pub mod drafts;
mod error;
pub mod export;
pub mod few_shots;
#[cfg(test)]
mod fixtures;
pub mod progress;
pub mod queue;
pub mod rate_budget;
pub mod reviews;
pub mod samples;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod timestamp;
pub mod wakeups;

pub use database::{Database, Engine, is_postgres_url};
pub use error::StoreError;
pub use timestamp::Timestamp;
