//! One module per page.

pub mod columns;
pub mod home;
pub mod not_found;
pub mod upload;
pub mod wizard;
