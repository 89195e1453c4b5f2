//! Setting up a batch's export: the columns and names its frozen configuration gives, whether
//! the file is partial, and what the CSV formula guard will change, counted before the download.

use serde::{Deserialize, Serialize};

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

#[cfg(feature = "server")]
pub use server::{ExportSetup, PAGE_ROWS, export_row, plan_of};

#[cfg(feature = "server")]
mod server {
    use rowbench_export::{ExportOptions, ExportPlan, Exporter, Format, Row, RowReview};
    use rowbench_recipe::BatchConfig;
    use rowbench_store::batches::{BatchStatus, BatchSummary};
    use rowbench_store::export::{ExportCursor, ExportRecord};

    use super::FormulaCount;
    use crate::audit::Action;
    use crate::error::{Error, Result};
    use crate::{Actor, Workbench};

    /// Rows read per query, by the download and the count alike: large enough that the
    /// per-query cost vanishes, small enough that the pages in flight (at most three) stay
    /// around a megabyte.
    pub const PAGE_ROWS: u32 = 2_000;

    /// What an export of one batch is made of.
    #[derive(Debug, Clone)]
    pub struct ExportSetup {
        /// The batch as the export starts: its rows finished and in all.
        pub summary: BatchSummary,
        pub dataset_id: Option<i64>,
        pub plan: ExportPlan,
        /// The batch is not completed, or some of its rows did not succeed.
        pub partial: bool,
    }

    /// The export's columns and names from a batch's frozen configuration.
    pub fn plan_of(config: &BatchConfig) -> ExportPlan {
        ExportPlan {
            columns: config.columns.clone(),
            fields: config
                .recipe
                .schema
                .field_names()
                .map(str::to_string)
                .collect(),
            model: config.recipe.settings.model.clone(),
            dataset_name: config.dataset_name.clone(),
        }
    }

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
            review: record.review.as_ref().map(|r| RowReview {
                decision: r.decision.as_str(),
                answer: r.answer.as_deref(),
                reviewed_by: r.reviewed_by.as_str(),
                reviewed_at_ms: r.reviewed_at.as_millis(),
            }),
        }
    }

    impl Workbench {
        /// What an export of batch `id` is made of.
        pub async fn export_setup(&self, actor: &Actor, id: i64) -> Result<ExportSetup> {
            let batch = self.stored_batch(actor, id).await?;
            let summary = batch.summary;
            Ok(ExportSetup {
                dataset_id: batch.dataset_id,
                partial: summary.status != BatchStatus::Completed
                    || summary.done_rows < summary.total_rows,
                plan: plan_of(&batch.config),
                summary,
            })
        }

        /// What a download of batch `id` in `format` is made of; the download goes in the
        /// workspace's audit log.
        pub async fn open_export(
            &self,
            actor: &Actor,
            id: i64,
            format: &str,
        ) -> Result<ExportSetup> {
            let setup = self.export_setup(actor, id).await?;
            let detail = format!("{} ({format})", setup.summary.name);
            self.audit(actor, Action::BatchExport, &format!("batch {id}"), &detail)
                .await;
            Ok(setup)
        }

        /// Writes batch `id`'s CSV export to nowhere and counts its formula cells: the count is
        /// exactly what the download changes, because it is the download's own writer.
        pub async fn formula_cells(
            &self,
            actor: &Actor,
            id: i64,
            metadata: bool,
        ) -> Result<FormulaCount> {
            let setup = self.export_setup(actor, id).await?;
            let options = ExportOptions {
                format: Format::Csv,
                formula_guard: true,
            };
            let failed =
                |e: rowbench_export::ExportError| Error::internal("counting formula cells", &e);
            let mut exporter = Exporter::new(std::io::sink(), setup.plan.layout(metadata), options)
                .map_err(failed)?;
            let mut cursor = ExportCursor::open(&self.db, id, setup.dataset_id, PAGE_ROWS).await?;
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
                .map_err(|e| Error::internal("counting formula cells", &e))??;
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
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use rowbench_mapping::ColumnMapping;
    use rowbench_recipe::estimate::ModelRates;
    use rowbench_recipe::{BatchConfig, PromptDraft, Recipe, RunSettings};
    use rowbench_schema::{FieldType, ResponseSchema, SchemaField};

    use super::plan_of;

    fn field(name: &str) -> SchemaField {
        SchemaField {
            name: name.into(),
            kind: FieldType::String,
            description: String::new(),
            required: true,
        }
    }

    #[test]
    fn a_plan_reads_columns_fields_and_model_from_the_configuration() {
        let mapping = ColumnMapping::from_headers(&["id", "text"]);
        let config = BatchConfig {
            recipe: Recipe {
                prompt: PromptDraft::default_for(&mapping),
                mapping,
                schema: ResponseSchema {
                    fields: vec![field("sentiment"), field("reason")],
                },
                settings: RunSettings::new("demo", "demo-small"),
            },
            dataset_name: "tweets.csv".into(),
            columns: vec!["id".into(), "text".into()],
            json_schema: serde_json::json!({}),
            provider_label: "Demo".into(),
            model_label: "Demo small".into(),
            rates: ModelRates::default(),
        };
        let plan = plan_of(&config);
        assert_eq!(plan.columns, ["id", "text"]);
        assert_eq!(plan.fields, ["sentiment", "reason"]);
        assert_eq!(plan.model, "demo-small");
        assert_eq!(plan.dataset_name, "tweets.csv");
    }
}
