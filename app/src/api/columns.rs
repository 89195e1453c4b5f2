//! The Map columns step's data: the draft's dataset columns with sample rows, and its mapping.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_mapping::ColumnMapping;
pub use rowbench_workbench::wizard::MappingPage;

use crate::error::AppError;

/// The draft's dataset and mapping; `None` until a file was uploaded. A mapping saved for other
/// columns (the file was replaced) starts over from the new headers.
#[server(prefix = "/rpc", endpoint = "draft_mapping")]
pub async fn draft_mapping() -> Result<Option<MappingPage>, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .mapping_page(&crate::server::actor()?, &draft)
        .await?)
}

/// Saves the mapping after checking it again and that it fits the draft's dataset.
#[server(prefix = "/rpc", endpoint = "save_mapping", input = Json)]
pub async fn save_mapping(mapping: ColumnMapping) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .save_mapping(&crate::server::actor()?, &draft, &mapping)
        .await?)
}
