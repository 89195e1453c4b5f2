//! The batches list of the home page.

use leptos::prelude::*;
pub use rowbench_workbench::batches::{BatchListItem, BatchState};
pub use rowbench_workbench::limits::LIST_LIMIT;

use crate::error::AppError;

/// The home page's list, and whether the reader may start, clone and delete batches.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchList {
    pub items: Vec<BatchListItem>,
    pub can_edit: bool,
}

/// The workspace's batches, newest first.
#[server(prefix = "/rpc", endpoint = "list_batches")]
pub async fn list_batches() -> Result<BatchList, AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    Ok(BatchList {
        items: workbench.batch_list(&actor).await?,
        can_edit: actor.can_edit(),
    })
}

/// Who is signed in, for the top bar; `None` in local mode.
#[server(prefix = "/rpc", endpoint = "current_account")]
pub async fn current_account() -> Result<Option<rowbench_workbench::accounts::AccountView>, AppError>
{
    let workbench = crate::server::workbench()?;
    Ok(workbench.account(&crate::server::actor()?).await?)
}
