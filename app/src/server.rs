//! What server functions take from the running server: the use cases, provided as Leptos
//! context, and who is asking.

use leptos::prelude::use_context;
pub use rowbench_workbench::actor::LOCAL_USER;
use rowbench_workbench::{Actor, Workbench};

use crate::error::AppError;

/// The use cases of the server, provided to every render and server function.
pub fn workbench() -> Result<Workbench, AppError> {
    use_context::<Workbench>().ok_or_else(|| {
        tracing::error!("the Workbench was not provided as context");
        AppError::Internal
    })
}

/// Who this request is for, as the server's gate found it (local mode: the one local user).
/// Nobody signed in reads as `Unauthenticated`.
pub fn actor() -> Result<Actor, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Actor>().cloned())
        .ok_or(AppError::Unauthenticated)
}
