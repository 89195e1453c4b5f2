//! The Prompt step's data: the mapping it may refer to, sample rows to preview on, and the saved
//! system prompt and user template.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_recipe::PromptDraft;
pub use rowbench_workbench::limits::MAX_TEMPLATE_BYTES;
pub use rowbench_workbench::wizard::PromptPage;

use crate::api::upload::RowView;
use crate::error::AppError;

/// The draft's prompt with what it may refer to; `None` until a file was uploaded.
#[server(prefix = "/rpc", endpoint = "draft_prompt")]
pub async fn draft_prompt() -> Result<Option<PromptPage>, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .prompt_page(&crate::server::actor()?, draft)
        .await?)
}

/// Row `index` (0-based) of the draft's dataset, to preview the prompt on any row.
#[server(prefix = "/rpc", endpoint = "dataset_row")]
pub async fn dataset_row(index: i64) -> Result<RowView, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    let Some(dataset_id) = draft.dataset_id() else {
        return Err(AppError::Invalid("Upload a file first.".into()));
    };
    Ok(workbench
        .dataset_row(&crate::server::actor()?, dataset_id, index)
        .await?)
}

/// Saves the prompt as typed, problems included: a draft keeps what the user wrote, and the
/// Review step says what still blocks the start.
#[server(prefix = "/rpc", endpoint = "save_prompt", input = Json)]
pub async fn save_prompt(prompt: PromptDraft) -> Result<(), AppError> {
    use rowbench_workbench::wizard::DraftPart;
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .save_part(&crate::server::actor()?, &draft, DraftPart::Prompt(prompt))
        .await?)
}
