//! The Prompt step's data: the mapping it may refer to, sample rows to preview on, and the saved
//! system prompt and user template.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_mapping::ColumnMapping;
use rowbench_recipe::PromptDraft;
use serde::{Deserialize, Serialize};

use crate::api::datasets::RowView;
use crate::error::AppError;

/// The longest template the server keeps, in bytes: far beyond any prompt, short of abuse.
pub const MAX_TEMPLATE_BYTES: usize = 200_000;

/// What the Prompt step works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptPage {
    pub mapping: ColumnMapping,
    pub prompt: PromptDraft,
    /// True when nothing was saved yet and `prompt` is the generated default.
    pub generated: bool,
    pub row_count: i64,
    /// The first rows, to preview on without asking the server.
    pub sample: Vec<RowView>,
}

/// The draft's prompt with what it may refer to; `None` until a file was uploaded.
#[server(prefix = "/rpc", endpoint = "draft_prompt")]
pub async fn draft_prompt() -> Result<Option<PromptPage>, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let Some(loaded) = super::drafts::ssr::load_parts(&state.db, state.user(), &session).await?
    else {
        return Ok(None);
    };
    Ok(Some(PromptPage {
        generated: loaded.saved_prompt.is_none(),
        prompt: loaded.prompt(),
        row_count: loaded.dataset.row_count,
        sample: loaded.dataset.preview.clone(),
        mapping: loaded.mapping,
    }))
}

/// Row `index` (0-based) of the draft's dataset, to preview the prompt on any row.
#[server(prefix = "/rpc", endpoint = "dataset_row")]
pub async fn dataset_row(index: i64) -> Result<RowView, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    let Some(dataset_id) = draft.dataset_id() else {
        return Err(AppError::Invalid("Upload a file first.".into()));
    };
    if index < 0 {
        return Err(AppError::Invalid("Rows are numbered from 1.".into()));
    }
    let rows = rowbench_store::datasets::rows(&state.db, dataset_id, Some(index - 1), 1).await?;
    rows.into_iter()
        .next()
        .filter(|r| r.index == index)
        .map(|r| RowView {
            index: r.index,
            line: r.line,
            cells: r.cells,
        })
        .ok_or_else(|| AppError::NotFound(format!("Row {}", index + 1)))
}

/// Saves the prompt as typed, problems included: a draft keeps what the user wrote, and the
/// Review step says what still blocks the start.
#[server(prefix = "/rpc", endpoint = "save_prompt", input = Json)]
pub async fn save_prompt(prompt: PromptDraft) -> Result<(), AppError> {
    if prompt.system.len() + prompt.user.len() > MAX_TEMPLATE_BYTES {
        return Err(AppError::Invalid(format!(
            "The prompt was not saved: together the two templates may be at most {} KB.",
            MAX_TEMPLATE_BYTES / 1000
        )));
    }
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    let json = serde_json::to_value(&prompt).map_err(|_| AppError::Internal)?;
    rowbench_store::drafts::set_part(
        &state.db,
        state.user(),
        draft.id,
        rowbench_store::drafts::DraftPart::Prompt,
        &json,
    )
    .await?;
    Ok(())
}
