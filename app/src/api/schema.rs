//! The Response schema step's data: the fields the user designed, saved as they are edited.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_schema::ResponseSchema;

use crate::error::AppError;

/// The most fields a response schema may have.
pub const MAX_FIELDS: usize = 100;

/// The draft's response schema; empty until the user adds a field.
#[server(prefix = "/rpc", endpoint = "draft_schema")]
pub async fn draft_schema() -> Result<ResponseSchema, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    Ok(draft
        .part(rowbench_store::drafts::DraftPart::Schema)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default())
}

/// Saves the fields as they are, unfinished ones included (the Review step says what blocks the
/// start); only a schema too large to be a real one is refused.
#[server(prefix = "/rpc", endpoint = "save_schema", input = Json)]
pub async fn save_schema(schema: ResponseSchema) -> Result<(), AppError> {
    if schema.fields.len() > MAX_FIELDS {
        return Err(AppError::Invalid(format!(
            "The schema was not saved: it may have at most {MAX_FIELDS} fields."
        )));
    }
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    let json = serde_json::to_value(&schema).map_err(|_| AppError::Internal)?;
    rowbench_store::drafts::set_part(
        &state.db,
        state.user(),
        draft.id,
        rowbench_store::drafts::DraftPart::Schema,
        &json,
    )
    .await?;
    Ok(())
}
