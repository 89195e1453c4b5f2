//! Batches as a whole: the list, one batch's record, starting one from a recipe, and the
//! actions on it (pause, resume, cancel, retry failed rows, retry a row, run the rows a trial
//! left out, delete, copy its recipe back into a draft).

use serde::{Deserialize, Serialize};

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

/// Something a user can do to a batch as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchAction {
    Pause,
    /// Resumes a paused batch; `start` names the same action (a batch runs once created).
    Resume,
    Cancel,
    RetryFailed,
    /// Grows a trial to every row of its dataset, its answers kept.
    RunRemaining,
}

impl BatchAction {
    /// The action a URL or a button names: `pause`, `resume` (or `start`), `cancel`,
    /// `retry-failed`, `run-remaining`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pause" => BatchAction::Pause,
            "start" | "resume" => BatchAction::Resume,
            "cancel" => BatchAction::Cancel,
            "retry-failed" => BatchAction::RetryFailed,
            "run-remaining" => BatchAction::RunRemaining,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            BatchAction::Pause => "pause",
            BatchAction::Resume => "resume",
            BatchAction::Cancel => "cancel",
            BatchAction::RetryFailed => "retry-failed",
            BatchAction::RunRemaining => "run-remaining",
        }
    }
}

#[cfg(feature = "server")]
pub(crate) use server::check_limits;
#[cfg(feature = "server")]
pub use server::{BatchRecord, StartBatch};

#[cfg(feature = "server")]
mod server {
    use rowbench_recipe::{BatchConfig, BlockerStep, Recipe, RunSettings};
    use rowbench_store::batches::{
        self as stored, BatchStatus, BatchSummary, DatasetBatch, RowCounts, RunRemaining,
    };
    use rowbench_store::queue;
    use serde::Serialize;
    use serde_json::{Value, json};

    use super::{BatchAction, BatchListItem, BatchState, BatchView};
    use crate::audit::Action;
    use crate::error::{Error, Result};
    use crate::limits::{LIST_LIMIT, MAX_FIELDS, MAX_TEMPLATE_BYTES};
    use crate::{Actor, Workbench, display_time, model_rates};

    /// A batch as `GET /api/batches/{id}` answers it, and what its page is built from.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct BatchRecord {
        #[serde(flatten)]
        pub summary: BatchSummary,
        pub dataset_id: Option<i64>,
        pub counts: RowCounts,
        pub totals: Totals,
        pub pause_reason: Option<String>,
        pub provider: String,
        pub model: String,
        pub settings: RunSettings,
        pub json_schema: Value,
        /// The names the page shows; the API's clients have the ids.
        #[serde(skip)]
        pub provider_label: String,
        #[serde(skip)]
        pub model_label: String,
    }

    /// The calls a batch made and what they cost.
    #[derive(Debug, Clone, Copy, PartialEq, Serialize)]
    pub struct Totals {
        pub calls: i64,
        pub input_tokens: i64,
        pub output_tokens: i64,
        pub cost_usd: f64,
    }

    /// A batch to start: a dataset and the whole recipe to run over it.
    #[derive(Debug, Clone)]
    pub struct StartBatch {
        pub dataset_id: i64,
        pub recipe: Recipe,
    }

    pub(crate) fn state_of(status: BatchStatus) -> BatchState {
        match status {
            BatchStatus::Queued => BatchState::Queued,
            BatchStatus::Running => BatchState::Running,
            BatchStatus::Paused => BatchState::Paused,
            BatchStatus::Completed => BatchState::Completed,
            BatchStatus::Failed => BatchState::Failed,
            BatchStatus::Cancelled => BatchState::Cancelled,
        }
    }

    pub(crate) fn list_item(b: BatchSummary) -> BatchListItem {
        BatchListItem {
            id: b.id,
            name: b.name,
            state: state_of(b.status),
            total_rows: b.total_rows,
            done_rows: b.done_rows,
            failed_rows: b.failed_rows,
            created: display_time(b.created_at),
        }
    }

    /// The limits the wizard's steps enforce when they save, which a recipe sent whole keeps too.
    pub(crate) fn check_limits(recipe: &Recipe) -> Result<()> {
        let fields = recipe.schema.fields.len();
        if fields > MAX_FIELDS {
            return Err(Error::invalid(
                "too_many_fields",
                format!("The schema has {fields} fields; it may have at most {MAX_FIELDS}."),
            )
            .with_details(
                json!({ "field": "schema.fields", "found": fields, "limit": MAX_FIELDS }),
            ));
        }
        let bytes = recipe.prompt.system.len() + recipe.prompt.user.len();
        if bytes > MAX_TEMPLATE_BYTES {
            return Err(Error::invalid(
                "template_too_large",
                format!(
                    "Together the two templates may be at most {} KB; these are {bytes} bytes.",
                    MAX_TEMPLATE_BYTES / 1000
                ),
            )
            .with_details(
                json!({ "field": "prompt", "found_bytes": bytes, "limit_bytes": MAX_TEMPLATE_BYTES }),
            ));
        }
        Ok(())
    }

    /// The part of a recipe a blocker is about, as the API names it.
    fn blocker_field(step: BlockerStep) -> &'static str {
        match step {
            BlockerStep::Columns => "mapping",
            BlockerStep::Prompt => "prompt",
            BlockerStep::Schema => "schema",
            BlockerStep::Review => "settings",
        }
    }

    impl Workbench {
        /// The actor's batches, newest first (at most [`LIST_LIMIT`]).
        pub async fn batches(&self, actor: &Actor) -> Result<Vec<BatchSummary>> {
            Ok(stored::list(&self.db, actor.owner(), LIST_LIMIT).await?)
        }

        /// The batches list as the home page shows it.
        pub async fn batch_list(&self, actor: &Actor) -> Result<Vec<BatchListItem>> {
            Ok(self
                .batches(actor)
                .await?
                .into_iter()
                .map(list_item)
                .collect())
        }

        /// The actor's batch `id` with its frozen configuration, or not found.
        pub(crate) async fn stored_batch(&self, actor: &Actor, id: i64) -> Result<stored::Batch> {
            stored::find(&self.db, actor.owner(), id)
                .await?
                .ok_or_else(|| Error::not_found(format!("Batch {id}")))
        }

        /// Where the actor's batch `id` is: its name, state and row counts.
        pub async fn batch_summary(&self, actor: &Actor, id: i64) -> Result<BatchSummary> {
            Ok(self.stored_batch(actor, id).await?.summary)
        }

        /// The batch `id`: state, rows by state, totals and what it runs with.
        pub async fn batch(&self, actor: &Actor, id: i64) -> Result<BatchRecord> {
            let batch = self.stored_batch(actor, id).await?;
            let counts = stored::row_counts(&self.db, id).await?;
            let totals = queue::totals(&self.db, id).await?;
            let BatchConfig {
                json_schema,
                provider_label,
                model_label,
                recipe,
                ..
            } = batch.config;
            Ok(BatchRecord {
                summary: batch.summary,
                dataset_id: batch.dataset_id,
                counts,
                totals: Totals {
                    calls: totals.calls,
                    input_tokens: totals.input_tokens,
                    output_tokens: totals.output_tokens,
                    cost_usd: totals.cost_usd,
                },
                pause_reason: totals.pause_reason,
                provider: recipe.settings.provider.clone(),
                model: recipe.settings.model.clone(),
                settings: recipe.settings,
                json_schema,
                provider_label,
                model_label,
            })
        }

        /// The batch `id` as its page shows it.
        pub async fn batch_view(&self, actor: &Actor, id: i64) -> Result<BatchView> {
            Ok(view_of(self.batch(actor, id).await?))
        }

        /// Checks `start`'s recipe whole (limits, the dataset's columns, every blocker, the
        /// model being configured here), then starts a batch over the dataset with a frozen copy
        /// of everything it runs with, and wakes the queue. Answers the batch's id.
        pub async fn start_batch(&self, actor: &Actor, start: StartBatch) -> Result<i64> {
            actor.must_edit("start batches")?;
            let StartBatch { dataset_id, recipe } = start;
            check_limits(&recipe)?;
            let dataset = self.stored_dataset(actor, dataset_id).await?;
            let columns: Vec<String> = dataset.columns.iter().map(|c| c.name.clone()).collect();
            if !recipe
                .mapping
                .columns
                .iter()
                .map(|c| &c.name)
                .eq(columns.iter())
            {
                return Err(Error::invalid(
                    "mapping_mismatch",
                    "The mapping must list the dataset's columns, in order.",
                )
                .with_details(json!({ "columns": columns })));
            }
            let config = self.frozen_config(actor, dataset.name.clone(), columns, recipe)?;
            let first_rows = config
                .recipe
                .settings
                .first_rows
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
            let config = serde_json::to_value(&config)
                .map_err(|e| Error::internal("freezing a batch's configuration", &e))?;
            let started = stored::start_over_dataset(
                &self.db,
                DatasetBatch {
                    owner: actor.owner(),
                    name: &dataset.name,
                    dataset_id: dataset.id,
                    first_rows,
                    config: &config,
                },
            )
            .await?;
            let Some(id) = started else {
                return Err(Error::not_found("The dataset"));
            };
            self.wake_queue();
            self.audit(
                actor,
                Action::BatchStart,
                &format!("batch {id}"),
                &dataset.name,
            )
            .await;
            Ok(id)
        }

        /// What a batch runs with, frozen: `recipe` checked for every blocker and the model
        /// being configured here, with the model's labels and rates as they are now.
        pub(crate) fn frozen_config(
            &self,
            actor: &Actor,
            dataset_name: String,
            columns: Vec<String>,
            recipe: Recipe,
        ) -> Result<BatchConfig> {
            let blockers = self.blockers(actor, &recipe);
            if let Some(first) = blockers.first() {
                return Err(Error::invalid(
                    "invalid_recipe",
                    format!("The batch was not started: {}", first.message),
                )
                .with_details(
                    json!({ "field": blocker_field(first.step), "blockers": blockers }),
                ));
            }
            let settings = &recipe.settings;
            let (Some(provider), Some(model)) = (
                self.catalog.provider(&settings.provider),
                self.catalog.model(&settings.provider, &settings.model),
            ) else {
                // `blockers` has said so already; this keeps the two lookups honest.
                return Err(Error::invalid(
                    "invalid_recipe",
                    format!(
                        "The model \"{}\" of provider \"{}\" is not configured on this server.",
                        settings.model, settings.provider
                    ),
                ));
            };
            Ok(BatchConfig {
                json_schema: recipe.schema.to_json_schema(),
                dataset_name,
                columns,
                provider_label: provider.label.clone(),
                model_label: model.label.clone(),
                rates: model_rates(provider, model),
                recipe,
            })
        }

        /// Does `action` to the batch `id`: a conflict when it does not apply to the batch in
        /// its current state.
        pub async fn control(&self, actor: &Actor, id: i64, action: BatchAction) -> Result<()> {
            actor.must_edit("pause, resume, cancel or retry batches")?;
            let owner = actor.owner();
            let batch = self.stored_batch(actor, id).await?;
            let changed = match action {
                BatchAction::Pause => queue::pause(&self.db, owner, id, None).await?,
                BatchAction::Resume => queue::resume(&self.db, owner, id).await?,
                BatchAction::Cancel => queue::cancel(&self.db, owner, id).await?,
                BatchAction::RetryFailed => queue::retry_failed(&self.db, owner, id).await?,
                BatchAction::RunRemaining => {
                    self.run_remaining(actor, id).await?;
                    self.audit(
                        actor,
                        Action::BatchRunRemaining,
                        &format!("batch {id}"),
                        &batch.summary.name,
                    )
                    .await;
                    return Ok(());
                }
            };
            if !changed {
                // Read again: the state that refused may be newer than the one read above.
                let status = stored::find(&self.db, owner, id)
                    .await?
                    .map_or(batch.summary.status, |b| b.summary.status);
                let status = json!(status);
                return Err(Error::conflict(
                    "not_applicable",
                    format!(
                        "The batch is {}: {} does not apply to it now",
                        status.as_str().unwrap_or("in another state"),
                        action.name()
                    ),
                )
                .with_details(json!({ "status": status })));
            }
            self.wake_queue();
            let logged = match action {
                BatchAction::Pause => Action::BatchPause,
                BatchAction::Resume => Action::BatchResume,
                BatchAction::Cancel => Action::BatchCancel,
                BatchAction::RetryFailed | BatchAction::RunRemaining => Action::BatchRetryFailed,
            };
            self.audit(actor, logged, &format!("batch {id}"), &batch.summary.name)
                .await;
            Ok(())
        }

        /// "Run the remaining rows" of a trial: the same batch goes on over every row of its
        /// dataset, the trial's answers kept.
        async fn run_remaining(&self, actor: &Actor, id: i64) -> Result<()> {
            match stored::run_remaining(&self.db, actor.owner(), id).await? {
                RunRemaining::Extended { .. } => {
                    self.wake_queue();
                    Ok(())
                }
                RunRemaining::NotFound => Err(Error::not_found(format!("Batch {id}"))),
                RunRemaining::NotLimited => Err(Error::conflict(
                    "not_applicable",
                    "This batch already covers every row of its dataset: there are no remaining rows to run.",
                )),
                RunRemaining::Cancelled => Err(Error::conflict(
                    "not_applicable",
                    "This batch was cancelled, so its remaining rows cannot be run. Clone it into a new draft to run it again.",
                )
                .with_details(json!({ "status": "cancelled" }))),
            }
        }

        /// Sends row `row` (0-based) of batch `id` back to the queue, its answer kept in the
        /// row's history. A conflict while the row is still waiting or running.
        pub async fn retry_row(&self, actor: &Actor, id: i64, row: i64) -> Result<()> {
            actor.must_edit("retry rows")?;
            let batch = self.stored_batch(actor, id).await?;
            if !queue::retry_row(&self.db, actor.owner(), id, row).await? {
                return Err(Error::conflict(
                    "not_applicable",
                    format!(
                        "Row {} is still waiting or running, or does not exist; it can be retried once it has finished.",
                        row.saturating_add(1)
                    ),
                )
                .with_details(json!({ "row_index": row })));
            }
            self.wake_queue();
            self.audit(
                actor,
                Action::RowRetry,
                &format!("batch {id}"),
                &format!("row {} of {}", row.saturating_add(1), batch.summary.name),
            )
            .await;
            Ok(())
        }

        /// Deletes batch `id` with its rows and call records (its dataset stays).
        pub async fn delete_batch(&self, actor: &Actor, id: i64) -> Result<()> {
            actor.must_edit("delete batches")?;
            let name = self.stored_batch(actor, id).await?.summary.name;
            if !stored::delete_batch(&self.db, actor.owner(), id).await? {
                return Err(Error::not_found(format!("Batch {id}")));
            }
            self.audit(actor, Action::BatchDelete, &format!("batch {id}"), &name)
                .await;
            Ok(())
        }

        /// The dataset and recipe of batch `id`, to copy into a draft and run again with changes.
        pub async fn recipe_of(&self, actor: &Actor, id: i64) -> Result<(i64, Recipe)> {
            let batch = self.stored_batch(actor, id).await?;
            let Some(dataset_id) = batch.dataset_id else {
                return Err(Error::conflict(
                    "no_dataset",
                    "This batch has no dataset to run again.",
                ));
            };
            Ok((dataset_id, batch.config.recipe))
        }
    }

    /// The page's view of a batch's record.
    fn view_of(record: BatchRecord) -> BatchView {
        let is_demo = record.provider == rowbench_providers::DEMO_PROVIDER_ID;
        BatchView {
            queued: record.counts.queued,
            running: record.counts.running,
            succeeded: record.counts.succeeded,
            failed: record.counts.failed,
            cancelled: record.counts.cancelled,
            provider_label: record.provider_label,
            model_label: record.model_label,
            is_demo,
            item: list_item(record.summary),
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

    #[test]
    fn every_action_a_url_names_parses_and_start_is_resume() {
        for name in ["pause", "resume", "cancel", "retry-failed", "run-remaining"] {
            assert_eq!(BatchAction::parse(name).map(BatchAction::name), Some(name));
        }
        assert_eq!(BatchAction::parse("start"), Some(BatchAction::Resume));
        assert_eq!(BatchAction::parse("explode"), None);
    }
}
