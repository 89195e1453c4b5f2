//! The batches list of the home page.

use leptos::prelude::*;
pub use rowbench_workbench::batches::{BatchListItem, BatchState};
pub use rowbench_workbench::limits::LIST_LIMIT;

use crate::error::AppError;

/// The user's batches, newest first.
#[server(prefix = "/rpc", endpoint = "list_batches")]
pub async fn list_batches() -> Result<Vec<BatchListItem>, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench.batch_list(&crate::server::actor()?).await?)
}
