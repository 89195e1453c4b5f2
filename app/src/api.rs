//! Server functions: thin shells that check who is asking, call the store, and return view models.

pub mod batch_page;
pub mod batches;
pub mod datasets;
pub mod drafts;
pub mod export_check;
pub mod mapping;
pub mod prompt;
pub mod review;
pub mod schema;
