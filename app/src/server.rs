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

/// Who this request is for. Local mode has exactly one user.
pub fn actor() -> Actor {
    Actor::local()
}
