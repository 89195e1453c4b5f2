//! One module per page.

pub mod batch;
pub mod columns;
pub mod home;
pub mod not_found;
pub mod prompt;
pub mod review;
pub mod schema;
pub mod settings;
pub mod upload;
pub mod wizard;
