//! What a CSV download will change, said before the download: how many cells start like a
//! spreadsheet formula and would get the guard's leading `'`, and in which columns.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The cells of a batch's CSV export that start with `=`, `+`, `-`, `@` (or a tab or line
/// break), plain numbers aside.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormulaCount {
    pub total: u64,
    /// Output column names with how many such cells each has, most first.
    pub by_column: Vec<(String, u64)>,
    /// Rows read: the export so far when the batch is still running.
    pub rows: u64,
}

/// Counts what the formula guard would change in batch `id`'s CSV export (with or without the
/// metadata columns), reading the batch the way the download does.
#[server(prefix = "/rpc", endpoint = "formula_cells")]
pub async fn formula_cells(id: i64, metadata: bool) -> Result<FormulaCount, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let Some(batch) = rowbench_store::batches::find(&state.db, state.user(), id).await? else {
        return Err(AppError::NotFound(format!("Batch {id}")));
    };
    ssr::count(&state.db, &batch, metadata).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use rowbench_export::{ExportOptions, ExportPlan, Exporter, Format, Row};
    use rowbench_store::Database;
    use rowbench_store::batches::Batch;
    use rowbench_store::export::{ExportCursor, ExportRecord};

    use super::FormulaCount;
    use crate::error::AppError;

    /// Rows read per query, as the download reads them.
    const PAGE_ROWS: u32 = 2_000;

    /// The export's view of a stored row.
    pub fn export_row(record: &ExportRecord) -> Row<'_> {
        Row {
            row_index: record.row_index,
            cells: record.cells.as_deref().unwrap_or_default(),
            status: record.status.as_str(),
            result: record.result.as_deref(),
            error: record.error.as_deref(),
            attempts: record.attempt,
            latency_ms: record.latency_ms,
            input_tokens: record.input_tokens,
            output_tokens: record.output_tokens,
            cost_usd: record.cost_usd,
        }
    }

    /// Writes the batch's CSV export to nowhere and counts its formula cells: the count is
    /// exactly what the download changes, because it is the download's own writer.
    pub async fn count(
        db: &Database,
        batch: &Batch,
        metadata: bool,
    ) -> Result<FormulaCount, AppError> {
        let plan = ExportPlan::from_config(&batch.config, &batch.summary.name);
        let options = ExportOptions {
            format: Format::Csv,
            formula_guard: true,
        };
        let failed = |e: rowbench_export::ExportError| {
            tracing::error!(batch_id = batch.summary.id, error = %e, "formula count failed");
            AppError::Internal
        };
        let mut exporter =
            Exporter::new(std::io::sink(), plan.layout(metadata), options).map_err(failed)?;
        let mut cursor =
            ExportCursor::open(db, batch.summary.id, batch.dataset_id, PAGE_ROWS).await?;
        while let Some(page) = cursor.next_page().await? {
            // Parsing and formatting are CPU work: off the async workers, like the download's.
            exporter = tokio::task::spawn_blocking(move || {
                for record in page.records()? {
                    exporter.write_row(&export_row(&record)).map_err(|e| {
                        rowbench_store::StoreError::Corrupt {
                            what: "export row",
                            reason: e.to_string(),
                        }
                    })?;
                }
                Ok::<_, rowbench_store::StoreError>(exporter)
            })
            .await
            .map_err(|_| AppError::Internal)??;
        }
        let rows = exporter.rows_written();
        let mut by_column = exporter.formula_cells().by_column;
        by_column.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        Ok(FormulaCount {
            total: by_column.iter().map(|(_, n)| n).sum(),
            by_column,
            rows,
        })
    }
}
