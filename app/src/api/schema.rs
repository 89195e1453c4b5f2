//! The Response schema step's data: the fields the user designed, saved as they are edited.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_schema::ResponseSchema;
pub use rowbench_workbench::limits::MAX_FIELDS;

use crate::error::AppError;

/// The draft's response schema; empty until the user adds a field.
#[server(prefix = "/rpc", endpoint = "draft_schema")]
pub async fn draft_schema() -> Result<ResponseSchema, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench.draft_schema(&crate::server::actor()?, &draft))
}

/// Saves the fields as they are, unfinished ones included (the Review step says what blocks the
/// start); only a schema too large to be a real one is refused.
#[server(prefix = "/rpc", endpoint = "save_schema", input = Json)]
pub async fn save_schema(schema: ResponseSchema) -> Result<(), AppError> {
    use rowbench_workbench::wizard::DraftPart;
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .save_part(&crate::server::actor()?, &draft, DraftPart::Schema(schema))
        .await?)
}
