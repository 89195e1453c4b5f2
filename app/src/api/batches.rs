//! The batches list of the home page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many batches the home page lists.
pub const LIST_LIMIT: u32 = 200;

/// Where a batch is in its life, as the pages show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchState {
    Queued,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

impl BatchState {
    pub fn label(self) -> &'static str {
        match self {
            BatchState::Queued => "Queued",
            BatchState::Running => "Running",
            BatchState::Paused => "Paused",
            BatchState::Completed => "Completed",
            BatchState::Failed => "Failed",
            BatchState::Cancelled => "Cancelled",
        }
    }

    /// The badge colour class for this state.
    pub fn tone(self) -> &'static str {
        match self {
            BatchState::Queued | BatchState::Paused => "badge--neutral",
            BatchState::Running => "badge--info",
            BatchState::Completed => "badge--success",
            BatchState::Failed => "badge--danger",
            BatchState::Cancelled => "badge--muted",
        }
    }
}

/// One line of the batches list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchListItem {
    pub id: i64,
    pub name: String,
    pub state: BatchState,
    pub total_rows: i64,
    pub done_rows: i64,
    pub failed_rows: i64,
    pub created: String,
}

impl BatchListItem {
    /// Finished rows (done or failed) as a whole percentage of all rows.
    pub fn percent_finished(&self) -> i64 {
        self.percent_of(self.done_rows + self.failed_rows)
    }

    /// `rows` as a whole percentage of all rows (0 for an empty batch).
    pub fn percent_of(&self, rows: i64) -> i64 {
        if self.total_rows <= 0 {
            return 0;
        }
        (rows * 100 / self.total_rows).clamp(0, 100)
    }
}

/// The user's batches, newest first.
#[server(prefix = "/rpc", endpoint = "list_batches")]
pub async fn list_batches() -> Result<Vec<BatchListItem>, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let batches = rowbench_store::batches::list(&state.db, state.user(), LIST_LIMIT).await?;
    Ok(batches.into_iter().map(ssr::item).collect())
}

/// One batch's state for its page: where it is, its rows by state and what it runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchView {
    pub item: BatchListItem,
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub provider_label: String,
    pub model_label: String,
    pub is_demo: bool,
}

impl BatchView {
    /// True while rows may still change state by themselves.
    pub fn is_active(&self) -> bool {
        matches!(self.item.state, BatchState::Queued | BatchState::Running)
    }
}

/// The batch `id` with its row counts.
#[server(prefix = "/rpc", endpoint = "load_batch")]
pub async fn load_batch(id: i64) -> Result<BatchView, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let Some(batch) = rowbench_store::batches::find(&state.db, state.user(), id).await? else {
        return Err(AppError::NotFound(format!("Batch {id}")));
    };
    let counts = rowbench_store::batches::row_counts(&state.db, id).await?;
    let config: Option<rowbench_recipe::BatchConfig> =
        serde_json::from_value(batch.config.clone()).ok();
    Ok(BatchView {
        item: ssr::item(batch.summary),
        queued: counts.queued,
        running: counts.running,
        succeeded: counts.succeeded,
        failed: counts.failed,
        cancelled: counts.cancelled,
        is_demo: config
            .as_ref()
            .is_some_and(|c| c.recipe.settings.provider == rowbench_providers::DEMO_PROVIDER_ID),
        provider_label: config
            .as_ref()
            .map(|c| c.provider_label.clone())
            .unwrap_or_default(),
        model_label: config.map(|c| c.model_label).unwrap_or_default(),
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use rowbench_store::batches::{BatchStatus, BatchSummary};

    use super::{BatchListItem, BatchState};
    use crate::server::display_time;

    pub fn item(b: BatchSummary) -> BatchListItem {
        BatchListItem {
            id: b.id,
            name: b.name,
            state: match b.status {
                BatchStatus::Queued => BatchState::Queued,
                BatchStatus::Running => BatchState::Running,
                BatchStatus::Paused => BatchState::Paused,
                BatchStatus::Completed => BatchState::Completed,
                BatchStatus::Failed => BatchState::Failed,
                BatchStatus::Cancelled => BatchState::Cancelled,
            },
            total_rows: b.total_rows,
            done_rows: b.done_rows,
            failed_rows: b.failed_rows,
            created: display_time(b.created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(total: i64, done: i64, failed: i64) -> BatchListItem {
        BatchListItem {
            id: 1,
            name: "x".into(),
            state: BatchState::Running,
            total_rows: total,
            done_rows: done,
            failed_rows: failed,
            created: String::new(),
        }
    }

    #[test]
    fn progress_counts_done_and_failed_rows_as_finished() {
        assert_eq!(item(200, 50, 50).percent_finished(), 50);
        assert_eq!(item(3, 1, 0).percent_finished(), 33);
    }

    #[test]
    fn done_and_failed_parts_of_the_bar_never_exceed_the_whole() {
        let b = item(3, 2, 1);
        assert_eq!(b.percent_of(b.done_rows), 66);
        assert_eq!(b.percent_of(b.failed_rows), 33);
        assert!(b.percent_of(b.done_rows) + b.percent_of(b.failed_rows) <= 100);
    }

    #[test]
    fn an_empty_batch_shows_no_progress_instead_of_dividing_by_zero() {
        assert_eq!(item(0, 0, 0).percent_finished(), 0);
    }
}
