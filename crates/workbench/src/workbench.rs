//! The handle every use case hangs off: the database, the configured providers, the queue's wake-up
//! and the chart cache, shared by the pages and the JSON API of one server.

use std::sync::Arc;

use rowbench_providers::catalog::{Catalog, ModelInfo, ProviderConfig, ProviderKind};
use rowbench_recipe::estimate::ModelRates;
use rowbench_store::Database;
use rowbench_store::chart_cache::ChartCache;

/// Rowbench's use cases over one database. Cheap to clone: every part is shared.
#[derive(Debug, Clone)]
pub struct Workbench {
    pub(crate) db: Database,
    /// The providers and models this server is configured for (keys stay in here).
    pub(crate) catalog: Arc<Catalog>,
    /// Woken when a batch gets work, so the queue worker does not wait for its next poll.
    pub(crate) wake: Arc<tokio::sync::Notify>,
    /// Batches' answer charts, read again only when their answers change.
    pub(crate) charts: Arc<ChartCache>,
    /// How wrong passwords slow sign-in down (team mode).
    pub(crate) throttle: crate::accounts::Throttle,
    /// Batches' accuracies, measured again only when their answers or reviews change.
    pub(crate) accuracy_cache: Arc<crate::accuracy::AccuracyCache>,
}

impl Workbench {
    pub fn new(
        db: Database,
        catalog: Arc<Catalog>,
        wake: Arc<tokio::sync::Notify>,
        charts: Arc<ChartCache>,
    ) -> Self {
        Workbench {
            db,
            catalog,
            wake,
            charts,
            throttle: crate::accounts::Throttle::default(),
            accuracy_cache: Arc::default(),
        }
    }

    /// The same use cases with another sign-in throttle (tests shorten its locks).
    pub fn with_throttle(mut self, throttle: crate::accounts::Throttle) -> Self {
        self.throttle = throttle;
        self
    }

    /// The database, for the parts of the server that are not use cases (sessions, uploads,
    /// the progress stream).
    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Tells the queue worker there is work now rather than at its next poll.
    pub(crate) fn wake_queue(&self) {
        self.wake.notify_one();
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
