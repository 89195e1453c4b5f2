//! The Review step: the models to choose from, the run settings, what the run will take, what
//! still blocks it, the connection check, and the Start and Reset buttons.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_recipe::RunSettings;
pub use rowbench_workbench::providers::ConnectionReport;
pub use rowbench_workbench::wizard::{ModelChoice, ProviderChoice, ReviewPage};

use crate::error::AppError;

/// Makes one small call to `model` of `provider` with the server's key for it and says whether
/// it works, and if not what to fix. The offline demo answers at once.
#[server(prefix = "/rpc", endpoint = "check_connection", input = Json)]
pub async fn check_connection(
    provider: String,
    model: String,
) -> Result<ConnectionReport, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .check_connection(&crate::server::actor()?, &provider, &model)
        .await?)
}

/// The Review step's data; `None` until a file was uploaded.
#[server(prefix = "/rpc", endpoint = "draft_review")]
pub async fn draft_review() -> Result<Option<ReviewPage>, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .review_page(&crate::server::actor()?, draft)
        .await?)
}

/// Saves the run settings as chosen (the page shows what is wrong with them).
#[server(prefix = "/rpc", endpoint = "save_settings", input = Json)]
pub async fn save_settings(settings: RunSettings) -> Result<(), AppError> {
    use rowbench_workbench::wizard::DraftPart;
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .save_part(
            &crate::server::actor()?,
            &draft,
            DraftPart::Settings(settings),
        )
        .await?)
}

/// Starts a batch from the draft as it is now, with the settings on the page (saved first, so a
/// change made just before the click is never lost), and answers its id. The batch keeps its own
/// copy of the recipe: editing the draft later never changes it.
#[server(prefix = "/rpc", endpoint = "start_batch", input = Json)]
pub async fn start_batch(settings: RunSettings) -> Result<i64, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .start_from_draft(&crate::server::actor()?, draft, settings)
        .await?)
}

/// Empties the draft: dataset link, mapping, prompt, schema and settings. The uploaded file stays
/// stored; batches already started are not touched.
#[server(prefix = "/rpc", endpoint = "reset_draft")]
pub async fn reset_draft() -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .reset_draft(&crate::server::actor()?, &draft)
        .await?)
}
