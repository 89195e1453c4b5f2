//! What server functions take from the running server: its state, provided as Leptos context.

use std::sync::Arc;

use leptos::prelude::use_context;
use rowbench_providers::catalog::{Catalog, ModelInfo, ProviderConfig, ProviderKind};
use rowbench_recipe::estimate::ModelRates;
use rowbench_recipe::{BatchConfig, Recipe};
use rowbench_store::Database;

use crate::error::AppError;

/// The owner of every draft and batch in local mode, where one person uses the app without login.
pub const LOCAL_USER: &str = "local";

/// Shared server state, handed to every render and server function as context.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub db: Database,
    /// The providers and models this server is configured for (keys stay in here).
    pub catalog: Arc<Catalog>,
    /// Woken when a batch gets work, so the queue worker does not wait for its next poll.
    pub wake: Arc<tokio::sync::Notify>,
    /// Batches' answer charts, read again only when their answers change.
    pub charts: Arc<rowbench_store::chart_cache::ChartCache>,
}

impl ServerState {
    /// The state provided by the server; missing only if the server was wired wrongly.
    pub fn from_context() -> Result<Self, AppError> {
        use_context::<ServerState>().ok_or_else(|| {
            tracing::error!("ServerState was not provided as context");
            AppError::Internal
        })
    }

    /// Whose data this request may see. Local mode has exactly one user.
    pub fn user(&self) -> &'static str {
        LOCAL_USER
    }

    /// Starts a batch of `recipe` over the dataset, freezing a copy of everything it runs with,
    /// and wakes the queue. The recipe must have been checked already.
    pub async fn start_batch(
        &self,
        dataset_id: i64,
        dataset_name: &str,
        columns: Vec<String>,
        recipe: Recipe,
    ) -> Result<i64, AppError> {
        let settings = &recipe.settings;
        let (Some(provider), Some(model)) = (
            self.catalog.provider(&settings.provider),
            self.catalog.model(&settings.provider, &settings.model),
        ) else {
            return Err(AppError::Invalid(format!(
                "The model \"{}\" of provider \"{}\" is not configured on this server.",
                settings.model, settings.provider
            )));
        };
        let config = BatchConfig {
            json_schema: recipe.schema.to_json_schema(),
            dataset_name: dataset_name.to_string(),
            columns,
            provider_label: provider.label.clone(),
            model_label: model.label.clone(),
            rates: model_rates(provider, model),
            recipe,
        };
        let json = serde_json::to_value(&config).map_err(|_| AppError::Internal)?;
        let started = rowbench_store::batches::start_over_dataset(
            &self.db,
            rowbench_store::batches::DatasetBatch {
                owner: self.user(),
                name: dataset_name,
                dataset_id,
                first_rows: config
                    .recipe
                    .settings
                    .first_rows
                    .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                config: &json,
            },
        )
        .await?;
        let Some(id) = started else {
            return Err(AppError::NotFound("The dataset".into()));
        };
        self.wake.notify_one();
        Ok(id)
    }
}

/// Seconds one request typically takes when a provider has no measured figure: a short answer
/// from a hosted model, including network time. Shown as an assumption next to the estimate.
pub const TYPICAL_SECONDS_PER_REQUEST: f64 = 1.5;

/// A model's prices and typical speed, for estimates and the batch's cost accounting.
pub fn model_rates(provider: &ProviderConfig, model: &ModelInfo) -> ModelRates {
    let seconds_per_request = if provider.kind == ProviderKind::Demo {
        rowbench_providers::demo::DEFAULT_DEMO_LATENCY.as_secs_f64()
    } else {
        TYPICAL_SECONDS_PER_REQUEST
    };
    ModelRates {
        input_usd_per_mtok: model.input_usd_per_mtok,
        output_usd_per_mtok: model.output_usd_per_mtok,
        seconds_per_request,
    }
}

/// A stored timestamp as people read it on a page, e.g. `21 Nov 2026, 14:05 UTC`.
pub fn display_time(at: rowbench_store::Timestamp) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_millis()) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "unknown time".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_is_shown_as_day_month_year_and_utc_time() {
        // 2026-11-21T14:05:00Z
        let at = rowbench_store::Timestamp(1_795_269_900_000);
        assert_eq!(display_time(at), "21 Nov 2026, 14:05 UTC");
    }
}
