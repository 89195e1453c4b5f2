//! The uploaded dataset of the wizard's draft: what the Upload step shows, and the same shape the
//! JSON API answers (`GET /api/datasets/{id}`).

use leptos::prelude::*;
pub use rowbench_workbench::datasets::{ColumnView, DatasetView, RenameView, RowView};
pub use rowbench_workbench::limits::{MAX_NAME_CHARS, PREVIEW_ROWS};

use crate::error::AppError;

/// The dataset of this session's draft, if one was uploaded.
#[server(prefix = "/rpc", endpoint = "draft_dataset")]
pub async fn draft_dataset() -> Result<Option<DatasetView>, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .draft_dataset(&crate::server::actor()?, &draft)
        .await?)
}

/// Makes the uploaded dataset `id` the one this session's draft works on.
#[server(prefix = "/rpc", endpoint = "use_dataset")]
pub async fn use_dataset(id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .use_dataset(&crate::server::actor()?, &draft, id)
        .await?)
}

/// Renames the dataset (display only) and answers the name as saved.
#[server(prefix = "/rpc", endpoint = "rename_dataset")]
pub async fn rename_dataset(id: i64, name: String) -> Result<String, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .rename_dataset(&crate::server::actor()?, id, &name)
        .await?)
}
