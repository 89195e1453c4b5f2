//! Server functions: thin shells that find who is asking and the session's draft, call one use
//! case of `rowbench_workbench`, and return its view model. One file per page of `pages/`.

pub mod batch;
pub mod columns;
pub mod home;
pub mod prompt;
pub mod review;
pub mod schema;
pub mod settings;
pub mod upload;
pub mod wizard;
