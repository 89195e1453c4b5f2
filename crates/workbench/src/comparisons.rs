//! "Compare with…": a run of a batch's rows (all, the first N, or a seeded random sample) with
//! another model, provider, prompt or temperature, linked to it as a comparison, and how far the
//! comparison's runs agree, field by field (see [`crate::agreement`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::agreement::{FieldAgreement, PairCell};

#[cfg(feature = "server")]
pub use server::{Disagreement, DisagreementsPage};

/// The largest sample a comparison may draw.
pub const MAX_COMPARE_SAMPLE: i64 = 100_000;

/// Which of the batch's rows the comparison run covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CompareRows {
    /// `"all"`.
    Every(AllRows),
    /// `{"first": N}`.
    First { first: i64 },
    /// `{"sample": N, "seed": S}`: the same rows for the same seed, every time.
    Sample {
        sample: i64,
        #[serde(default)]
        seed: u64,
    },
}

/// The word `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllRows {
    All,
}

/// The templates a comparison run may change (either or both).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptOverride {
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// `POST /api/batches/{id}/compare` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// Overrides of the batch's settings: `provider`, `model`, `temperature`, `max_tokens`,
    /// `concurrency`.
    #[serde(default)]
    pub settings: Map<String, Value>,
    #[serde(default)]
    pub prompt: Option<PromptOverride>,
    pub rows: CompareRows,
}

/// What `POST /api/batches/{id}/compare` started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareStarted {
    pub comparison_id: i64,
    /// The new run.
    pub batch_id: i64,
    /// Its rows.
    pub rows: i64,
}

/// One run of a comparison as `GET /api/comparisons/{id}` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRun {
    pub batch_id: i64,
    pub name: String,
    pub status: String,
    pub provider: String,
    pub model: String,
    pub temperature: Option<f32>,
    /// Whether its prompt differs from the first run's.
    pub prompt_changed: bool,
    pub total_rows: i64,
    pub done_rows: i64,
}

/// `GET /api/comparisons/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonView {
    pub id: i64,
    /// The first is the batch the comparison was started from.
    pub runs: Vec<ComparisonRun>,
    /// Rows every run answered.
    pub rows_compared: u64,
    /// What counts as equal for number fields.
    pub tolerance: f64,
    pub fields: Vec<FieldAgreement>,
}

/// One run's answer to a row the runs disagree on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAnswer {
    pub batch_id: i64,
    pub result: Option<Value>,
}

/// What the batch page's "Compare with…" panel shows: the models the actor may run, the batch's
/// own, and its comparison so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareScreen {
    pub choices: Vec<crate::wizard::ProviderChoice>,
    pub provider: String,
    pub model: String,
    pub temperature: Option<f32>,
    pub system: String,
    pub comparison: Option<ComparisonView>,
    /// The batch's recorded tokens priced on other models.
    pub costs: crate::costs::CostsElsewhere,
}

/// The settings the API lets a comparison change.
#[cfg(feature = "server")]
const OVERRIDABLE: [&str; 5] = [
    "provider",
    "model",
    "temperature",
    "max_tokens",
    "concurrency",
];

/// `size` of `rows` drawn by `seed`: the rows with the smallest keys, so the draw does not depend
/// on the order the rows come in, and a smaller sample with the same seed is part of a larger
/// one. In row order.
pub fn sample_rows(rows: &[i64], size: usize, seed: u64) -> Vec<i64> {
    let mut keyed: Vec<(u64, i64)> = rows
        .iter()
        .map(|&r| (rowbench_recipe::few_shot::mix(seed as i64, r), r))
        .collect();
    if size < keyed.len() {
        keyed.select_nth_unstable(size);
        keyed.truncate(size);
    }
    let mut picked: Vec<i64> = keyed.into_iter().map(|(_, r)| r).collect();
    picked.sort_unstable();
    picked
}

/// What a comparison run changes from its base, as its name says it: "another prompt,
/// temperature 0.2", or "the same recipe again".
#[cfg(feature = "server")]
fn what_changed(base: &rowbench_recipe::BatchConfig, run: &rowbench_recipe::BatchConfig) -> String {
    let (was, now) = (&base.recipe.settings, &run.recipe.settings);
    let mut changes = Vec::new();
    if was.provider != now.provider || was.model != now.model {
        changes.push(run.model_label.clone());
    }
    if was.temperature != now.temperature {
        changes.push(match now.temperature {
            Some(t) => format!("temperature {t}"),
            None => "the model's own temperature".to_string(),
        });
    }
    if was.max_tokens != now.max_tokens {
        changes.push(match now.max_tokens {
            Some(n) => format!("at most {n} tokens"),
            None => "no token limit".to_string(),
        });
    }
    if base.recipe.prompt != run.recipe.prompt {
        changes.push("another prompt".to_string());
    }
    if changes.is_empty() {
        "the same recipe again".to_string()
    } else {
        changes.join(", ")
    }
}

#[cfg(feature = "server")]
mod server {
    use rowbench_recipe::{BatchConfig, RunSettings};
    use rowbench_store::comparisons::{self, NewRun, RunRows};
    use serde_json::{Value, json};

    use super::{
        CompareRequest, CompareRows, CompareStarted, ComparisonRun, ComparisonView,
        MAX_COMPARE_SAMPLE, OVERRIDABLE, sample_rows, what_changed,
    };
    use rowbench_store::batch_view::{QueueFilter, QueueRow, queue_page};
    use serde::Serialize;

    use super::RunAnswer;
    use crate::agreement::{AgreementTally, values_agree};
    use crate::audit::Action;
    use crate::error::{Error, Result};
    use crate::{Actor, Workbench};

    /// Rows read at once to measure the agreement.
    const CHUNK: u32 = 2_000;

    /// A row the runs of a comparison disagree on.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Disagreement {
        #[serde(flatten)]
        pub row: QueueRow,
        /// Each run's answer, in the comparison's order.
        pub runs: Vec<RunAnswer>,
        /// The fields whose values differ.
        pub fields: Vec<String>,
    }

    /// A page of `GET /api/batches/{id}/rows?disagree=`.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct DisagreementsPage {
        pub rows: Vec<Disagreement>,
        pub next_after: Option<i64>,
    }

    impl Workbench {
        /// Starts a run of batch `id`'s rows with `request`'s changes, linked to it as a
        /// comparison (the one it is in already, if any).
        pub async fn compare(
            &self,
            actor: &Actor,
            id: i64,
            request: CompareRequest,
        ) -> Result<CompareStarted> {
            actor.must_edit("start comparison runs")?;
            let base = self.stored_batch(actor, id).await?;
            if base.summary.total_rows == 0 {
                return Err(Error::conflict(
                    "nothing_to_compare",
                    format!("Batch {id} has no rows to compare."),
                ));
            }
            let mut recipe = base.config.recipe.clone();
            if let Some(key) = request
                .settings
                .keys()
                .find(|k| !OVERRIDABLE.contains(&k.as_str()))
            {
                return Err(Error::invalid(
                    "unknown_field",
                    format!(
                        "settings.{key} cannot be changed for a comparison; these can: {}.",
                        OVERRIDABLE.join(", ")
                    ),
                )
                .with_details(json!({ "field": format!("settings.{key}") })));
            }
            let mut settings = serde_json::to_value(&recipe.settings)
                .map_err(|e| Error::internal("reading a batch's settings", &e))?;
            if let Value::Object(map) = &mut settings {
                map.extend(request.settings.clone());
                // The run's rows are named by the comparison, not by a trial's count.
                map.insert("first_rows".into(), Value::Null);
            }
            recipe.settings = serde_json::from_value::<RunSettings>(settings).map_err(|e| {
                Error::invalid("invalid_field", format!("The settings are not valid: {e}."))
                    .with_details(json!({ "field": "settings" }))
            })?;
            if let Some(prompt) = request.prompt {
                if let Some(system) = prompt.system {
                    recipe.prompt.system = system;
                }
                if let Some(user) = prompt.user {
                    recipe.prompt.user = user;
                }
            }
            let rows = match request.rows {
                CompareRows::Every(_) => RunRows::All,
                CompareRows::First { first } if first >= 1 => RunRows::First(first),
                CompareRows::Sample { sample, seed }
                    if (1..=MAX_COMPARE_SAMPLE).contains(&sample) =>
                {
                    let all = comparisons::row_indexes(&self.db, id).await?;
                    let size = usize::try_from(sample).unwrap_or(usize::MAX);
                    RunRows::Listed(sample_rows(&all, size, seed))
                }
                CompareRows::First { .. } => {
                    return Err(
                        Error::invalid("invalid_field", "rows.first must be at least 1.")
                            .with_details(json!({ "field": "rows.first" })),
                    );
                }
                CompareRows::Sample { .. } => {
                    return Err(Error::invalid(
                        "invalid_field",
                        format!("rows.sample must be from 1 to {MAX_COMPARE_SAMPLE}."),
                    )
                    .with_details(json!({ "field": "rows.sample" })));
                }
            };
            crate::batches::check_limits(&recipe)?;
            let config = self.frozen_config(
                actor,
                base.config.dataset_name.clone(),
                base.config.columns.clone(),
                recipe,
            )?;
            let name = format!(
                "{} · {}",
                base.summary.name,
                what_changed(&base.config, &config)
            );
            let config = serde_json::to_value(&config)
                .map_err(|e| Error::internal("freezing a comparison run's configuration", &e))?;
            let started_by = self.actor_name(actor).await;
            let started = comparisons::start_run(
                &self.db,
                NewRun {
                    owner: actor.owner(),
                    started_by: &started_by,
                    base: id,
                    name: &name,
                    config: &config,
                    rows: &rows,
                },
            )
            .await?
            .ok_or_else(|| Error::not_found(format!("Batch {id}")))?;
            self.wake_queue();
            self.audit(
                actor,
                Action::ComparisonStart,
                &format!("comparison {}", started.comparison_id),
                &name,
            )
            .await;
            Ok(CompareStarted {
                comparison_id: started.comparison_id,
                batch_id: started.batch_id,
                rows: started.rows,
            })
        }

        /// The batch page's comparison panel for batch `id`.
        pub async fn compare_screen(&self, actor: &Actor, id: i64) -> Result<super::CompareScreen> {
            let batch = self.stored_batch(actor, id).await?;
            let comparison = match comparisons::comparison_of(&self.db, id).await? {
                Some(comparison) => Some(self.comparison(actor, comparison, 0.0).await?),
                None => None,
            };
            let recipe = batch.config.recipe;
            let costs = self.costs_elsewhere(actor, id).await?;
            Ok(super::CompareScreen {
                costs,
                choices: self.choices(actor),
                provider: recipe.settings.provider,
                model: recipe.settings.model,
                temperature: recipe.settings.temperature,
                system: recipe.prompt.system,
                comparison,
            })
        }

        /// Up to `limit` rows of batch `id` after row `after` on which the runs of comparison
        /// `comparison` disagree in some field, each with every run's answer and the fields
        /// they differ in; where the next page starts (`None` after the last).
        pub async fn disagreements(
            &self,
            actor: &Actor,
            id: i64,
            comparison: i64,
            after: Option<i64>,
            limit: u32,
        ) -> Result<DisagreementsPage> {
            let found = comparisons::find(&self.db, actor.owner(), comparison)
                .await?
                .ok_or_else(|| Error::not_found(format!("Comparison {comparison}")))?;
            let batch = self.stored_batch(actor, id).await?;
            if !found.runs.contains(&id) {
                return Err(Error::invalid(
                    "invalid_parameter",
                    format!("Batch {id} is not a run of comparison {comparison}."),
                )
                .with_details(json!({ "parameter": "disagree" })));
            }
            let fields = batch.config.recipe.schema.fields.clone();
            let mut sizes = Vec::with_capacity(found.runs.len());
            for &run in &found.runs {
                sizes.push(self.stored_batch(actor, run).await?.summary.total_rows);
            }
            let driver = sizes
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| **n)
                .map_or(0, |(i, _)| i);
            let mut rows = Vec::new();
            let mut cursor = after.unwrap_or(-1);
            let mut exhausted = false;
            while rows.len() < limit as usize {
                let page = comparisons::compared_rows(&self.db, &found.runs, driver, cursor, CHUNK)
                    .await?;
                let Some(last) = page.last() else {
                    exhausted = true;
                    break;
                };
                let last = last.0;
                for (row, answers) in page.iter() {
                    if answers.iter().any(Option::is_none) {
                        continue;
                    }
                    let differ: Vec<String> = fields
                        .iter()
                        .filter(|f| {
                            let values: Vec<Option<&Value>> = answers
                                .iter()
                                .map(|a| a.as_ref().and_then(|a| a.get(&f.name)))
                                .map(|v| v.filter(|v| !v.is_null()))
                                .collect();
                            !values_agree(&f.kind, &values, 0.0)
                        })
                        .map(|f| f.name.clone())
                        .collect();
                    if !differ.is_empty() {
                        rows.push((*row, answers.clone(), differ));
                        if rows.len() == limit as usize {
                            cursor = *row;
                            break;
                        }
                    }
                    cursor = *row;
                }
                if page.len() < CHUNK as usize && cursor == last {
                    exhausted = true;
                    break;
                }
            }
            let keys = crate::batch_page::key_columns(&batch.config);
            let mut lines = Vec::with_capacity(rows.len());
            for (row, answers, differ) in rows {
                let filter = QueueFilter {
                    status: None,
                    review: None,
                    sample: false,
                    search: Some((&keys, "")),
                    after: Some(row - 1),
                    before: None,
                    limit: 1,
                };
                let Some(mut found_rows) = queue_page(&self.db, actor.owner(), id, filter).await?
                else {
                    return Err(Error::not_found(format!("Batch {id}")));
                };
                let Some(line) = found_rows.pop().filter(|r| r.row_index == row) else {
                    continue;
                };
                lines.push(Disagreement {
                    row: line,
                    runs: found
                        .runs
                        .iter()
                        .zip(answers)
                        .map(|(&batch_id, result)| RunAnswer { batch_id, result })
                        .collect(),
                    fields: differ,
                });
            }
            let next_after = (!exhausted).then_some(cursor);
            Ok(DisagreementsPage {
                rows: lines,
                next_after,
            })
        }

        /// The comparison `id`: its runs and their agreement per field, over the rows every run
        /// answered (numbers within `tolerance` of each other agree).
        pub async fn comparison(
            &self,
            actor: &Actor,
            id: i64,
            tolerance: f64,
        ) -> Result<ComparisonView> {
            crate::accuracy::check_tolerance(tolerance)?;
            let comparison = comparisons::find(&self.db, actor.owner(), id)
                .await?
                .ok_or_else(|| Error::not_found(format!("Comparison {id}")))?;
            let mut runs = Vec::with_capacity(comparison.runs.len());
            let mut configs: Vec<BatchConfig> = Vec::with_capacity(comparison.runs.len());
            for &batch in &comparison.runs {
                let stored = self.stored_batch(actor, batch).await?;
                let recipe = &stored.config.recipe;
                let prompt_changed = configs
                    .first()
                    .is_some_and(|first: &BatchConfig| first.recipe.prompt != recipe.prompt);
                runs.push(ComparisonRun {
                    batch_id: batch,
                    name: stored.summary.name.clone(),
                    status: format!("{:?}", stored.summary.status).to_lowercase(),
                    provider: recipe.settings.provider.clone(),
                    model: recipe.settings.model.clone(),
                    temperature: recipe.settings.temperature,
                    prompt_changed,
                    total_rows: stored.summary.total_rows,
                    done_rows: stored.summary.done_rows,
                });
                configs.push(stored.config);
            }
            let fields = configs
                .first()
                .map(|c| c.recipe.schema.fields.clone())
                .unwrap_or_default();
            let mut tally = AgreementTally::new(&fields, comparison.runs.len(), tolerance);
            // The run with the fewest rows leads: the others are read only at its rows.
            let driver = runs
                .iter()
                .enumerate()
                .min_by_key(|(_, r)| r.total_rows)
                .map_or(0, |(i, _)| i);
            let mut after = -1;
            let mut compared = 0u64;
            loop {
                let rows =
                    comparisons::compared_rows(&self.db, &comparison.runs, driver, after, CHUNK)
                        .await?;
                let Some(last) = rows.last() else { break };
                after = last.0;
                for (_, answers) in &rows {
                    let answers: Vec<Option<&Value>> = answers.iter().map(Option::as_ref).collect();
                    if answers.iter().all(Option::is_some) {
                        compared += 1;
                    }
                    tally.add(&answers);
                }
                if rows.len() < CHUNK as usize {
                    break;
                }
            }
            Ok(ComparisonView {
                id,
                runs,
                rows_compared: compared,
                tolerance,
                fields: tally.finish(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_sample_is_the_same_every_time_and_grows_by_adding_rows() {
        let rows: Vec<i64> = (0..1_000).collect();
        let ten = sample_rows(&rows, 10, 7);
        assert_eq!(ten.len(), 10);
        assert_eq!(ten, sample_rows(&rows, 10, 7));
        assert!(ten.windows(2).all(|w| w[0] < w[1]), "in row order");
        let twenty = sample_rows(&rows, 20, 7);
        assert!(
            ten.iter().all(|r| twenty.contains(r)),
            "{ten:?} within {twenty:?}"
        );
        assert_ne!(ten, sample_rows(&rows, 10, 8), "another seed, other rows");
        // The order the rows come in does not matter.
        let reversed: Vec<i64> = rows.iter().rev().copied().collect();
        assert_eq!(sample_rows(&reversed, 10, 7), ten);
        // Asking for more than there is gives every row.
        assert_eq!(sample_rows(&rows[..5], 10, 7), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn the_rows_of_a_comparison_are_all_a_count_or_a_seeded_sample() {
        let parse = |text: &str| serde_json::from_str::<CompareRows>(text).ok();
        assert_eq!(parse(r#""all""#), Some(CompareRows::Every(AllRows::All)));
        assert_eq!(
            parse(r#"{"first": 50}"#),
            Some(CompareRows::First { first: 50 })
        );
        assert_eq!(
            parse(r#"{"sample": 200, "seed": 3}"#),
            Some(CompareRows::Sample {
                sample: 200,
                seed: 3
            })
        );
        assert_eq!(parse(r#""some""#), None);
    }
}
