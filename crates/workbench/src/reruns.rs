//! "Run again": a batch's failed, rejected or finished rows go back to the queue, optionally
//! shown worked examples: rows a person accepted or fixed, the closest to each row by chosen
//! columns or a stable random few, after the system prompt. The examples are frozen when the
//! re-run starts, so every row's drill-down shows the ones its call was sent with.

use rowbench_recipe::few_shot::Choose;
use serde::{Deserialize, Serialize};

pub use rowbench_recipe::few_shot::{MAX_EXAMPLES, MAX_POOL};

/// Which finished rows run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RerunScope {
    Failed,
    /// Rows whose current answer a person rejected.
    Rejected,
    /// Every finished row, succeeded or failed.
    All,
}

impl RerunScope {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "failed" => Some(RerunScope::Failed),
            "rejected" => Some(RerunScope::Rejected),
            "all" => Some(RerunScope::All),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RerunScope::Failed => "failed",
            RerunScope::Rejected => "rejected",
            RerunScope::All => "all",
        }
    }

    /// The rows, as a sentence's object: "no {} to run again".
    pub fn rows_named(self) -> &'static str {
        match self {
            RerunScope::Failed => "failed rows",
            RerunScope::Rejected => "rows with a rejected answer",
            RerunScope::All => "finished rows",
        }
    }
}

/// The worked examples a re-run asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamplesRequest {
    /// Examples per row, 1 to [`MAX_EXAMPLES`].
    pub count: u32,
    #[serde(default = "closest")]
    pub choose: Choose,
    /// The columns closeness is measured on; the columns the model sees when left out.
    #[serde(default)]
    pub by: Option<Vec<String>>,
}

fn closest() -> Choose {
    Choose::Closest
}

/// `POST /api/batches/{id}/rerun` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RerunRequest {
    pub rows: RerunScope,
    #[serde(default)]
    pub examples: Option<ExamplesRequest>,
}

/// The worked examples a re-run's rows are shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamplesView {
    /// The batch's re-run with examples this is (1 for the first).
    pub generation: i64,
    pub count: u32,
    pub choose: Choose,
    pub by: Vec<String>,
    /// The reviewed rows they are chosen from (the most recent fixes first, then accepted
    /// answers, at most [`MAX_POOL`]).
    pub pool: u64,
}

/// What a re-run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RerunReport {
    pub scope: RerunScope,
    /// Rows sent back to the queue.
    pub rows: u64,
    pub examples: Option<ExamplesView>,
}

/// The examples one row is shown, as its drill-down says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowExamples {
    pub generation: i64,
    pub choose: Choose,
    pub by: Vec<String>,
    /// The rows shown as examples (0-based), in the order the prompt has them.
    pub rows: Vec<i64>,
}

#[cfg(feature = "server")]
mod server {
    use rowbench_recipe::BatchConfig;
    use rowbench_recipe::few_shot::{Example, FewShotSet, FewShots, key_text};
    use rowbench_store::few_shots;
    use rowbench_store::queue::{self, NewFewShots, Rerun, RerunRows};
    use serde_json::json;

    use super::{
        ExamplesRequest, ExamplesView, MAX_EXAMPLES, MAX_POOL, RerunReport, RerunRequest,
        RerunScope,
    };
    use crate::audit::Action;
    use crate::error::{Error, Result};
    use crate::{Actor, Workbench};

    impl Workbench {
        /// Runs batch `id`'s rows of `request.rows` again (editors and admins), with the worked
        /// examples asked for. The batch must be running or have finished: a paused one is
        /// resumed by its own button, a cancelled one cloned.
        pub async fn rerun(
            &self,
            actor: &Actor,
            id: i64,
            request: RerunRequest,
        ) -> Result<RerunReport> {
            actor.must_edit("run a batch's rows again")?;
            let batch = self.stored_batch(actor, id).await?;
            let set = match &request.examples {
                None => None,
                Some(examples) => Some(self.few_shot_set(id, &batch.config, examples).await?),
            };
            let created_by = self.actor_name(actor).await;
            let new = set.as_ref().map(|set| NewFewShots {
                set,
                created_by: &created_by,
            });
            let rows = match request.rows {
                RerunScope::Failed => RerunRows::Failed,
                RerunScope::Rejected => RerunRows::Rejected,
                RerunScope::All => RerunRows::All,
            };
            let (requeued, generation) =
                match queue::rerun(&self.db, actor.owner(), id, rows, new).await? {
                    Rerun::Requeued { rows, few_shot } => (rows, few_shot),
                    Rerun::NothingToRun => {
                        return Err(Error::conflict(
                            "nothing_to_rerun",
                            format!(
                                "Batch {id} has no {} to run again.",
                                request.rows.rows_named()
                            ),
                        )
                        .with_details(json!({ "field": "rows" })));
                    }
                    Rerun::NotApplicable => {
                        let status = json!(batch.summary.status);
                        return Err(Error::conflict(
                            "not_applicable",
                            format!(
                                "The batch is {}: its rows run again once it is running or has \
                                 finished (resume a paused batch; clone a cancelled one).",
                                status.as_str().unwrap_or("in another state")
                            ),
                        )
                        .with_details(json!({ "status": status })));
                    }
                };
            self.wake_queue();
            self.audit(
                actor,
                Action::BatchRerun,
                &format!("batch {id}"),
                &batch.summary.name,
            )
            .await;
            tracing::info!(
                batch_id = id,
                rows = requeued,
                scope = request.rows.name(),
                examples = set.as_ref().map(|s| s.examples.len()),
                "rows run again"
            );
            Ok(RerunReport {
                scope: request.rows,
                rows: requeued,
                examples: set.zip(generation).map(|(set, generation)| ExamplesView {
                    generation,
                    count: set.count,
                    choose: set.choose,
                    pool: u64::try_from(set.examples.len()).unwrap_or(0),
                    by: set.by,
                }),
            })
        }

        /// The few-shot set `examples` asks for over batch `id`'s reviewed rows, checked.
        async fn few_shot_set(
            &self,
            id: i64,
            config: &BatchConfig,
            examples: &ExamplesRequest,
        ) -> Result<FewShotSet> {
            if !(1..=MAX_EXAMPLES).contains(&examples.count) {
                return Err(Error::invalid(
                    "invalid_field",
                    format!(
                        "examples.count must be between 1 and {MAX_EXAMPLES} examples per row, not {}.",
                        examples.count
                    ),
                )
                .with_details(json!({ "field": "examples.count" })));
            }
            let mapping = &config.recipe.mapping;
            // A gold column holds the answer: closeness on it would choose by what the model
            // is asked to find.
            let usable: Vec<&str> = mapping
                .columns
                .iter()
                .filter(|c| c.gold_for.is_none())
                .map(|c| c.name.as_str())
                .collect();
            let by: Vec<String> = match &examples.by {
                None => mapping
                    .included()
                    .filter(|name| usable.contains(name))
                    .map(str::to_string)
                    .collect(),
                Some(by) => {
                    if let Some(unknown) = by.iter().find(|name| !usable.contains(&name.as_str())) {
                        return Err(Error::invalid(
                            "invalid_field",
                            format!(
                                "examples.by names \"{unknown}\", which is not a column the \
                                 examples can be compared on ({}).",
                                usable.join(", ")
                            ),
                        )
                        .with_details(json!({ "field": "examples.by" })));
                    }
                    by.clone()
                }
            };
            if by.is_empty() && examples.choose == super::Choose::Closest {
                return Err(Error::invalid(
                    "invalid_field",
                    "examples.by names no column: closest examples need at least one to compare.",
                )
                .with_details(json!({ "field": "examples.by" })));
            }
            let vouched = few_shots::vouched_rows(&self.db, id, MAX_POOL).await?;
            let examples_kept: Vec<Example> = vouched
                .into_iter()
                .filter_map(|row| {
                    let user = config.recipe.render(&row.cells).ok()?.user;
                    Some(Example {
                        row_index: row.row_index,
                        key: key_text(mapping, &by, &row.cells),
                        user,
                        answer: row.answer,
                    })
                })
                .collect();
            if examples_kept.is_empty() {
                return Err(Error::conflict(
                    "no_examples",
                    format!(
                        "No row of batch {id} has an accepted or fixed answer yet: review a few \
                         rows first, or run again without examples."
                    ),
                )
                .with_details(json!({ "field": "examples" })));
            }
            Ok(FewShotSet {
                count: examples.count,
                choose: examples.choose,
                by,
                examples: examples_kept,
            })
        }

        /// The few-shot set of batch `id`'s re-run `generation`, ready to choose from.
        pub(crate) async fn few_shots(&self, id: i64, generation: i64) -> Result<FewShots> {
            few_shots::few_shot_set(&self.db, id, generation)
                .await?
                .map(FewShots::new)
                .ok_or_else(|| {
                    Error::not_found(format!("The worked examples of re-run {generation}"))
                })
        }
    }
}
