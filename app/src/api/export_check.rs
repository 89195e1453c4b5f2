//! What a CSV download will change, said before the download: how many cells start like a
//! spreadsheet formula and would get the guard's leading `'`, and in which columns.

use leptos::prelude::*;
pub use rowbench_workbench::export::FormulaCount;

use crate::error::AppError;

/// Counts what the formula guard would change in batch `id`'s CSV export (with or without the
/// metadata columns), reading the batch the way the download does.
#[server(prefix = "/rpc", endpoint = "formula_cells")]
pub async fn formula_cells(id: i64, metadata: bool) -> Result<FormulaCount, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .formula_cells(&crate::server::actor(), id, metadata)
        .await?)
}
