//! The wizard's draft, step by step: what each step shows, saving each step's part with the
//! limits every face keeps, what still blocks the start, the estimate, and starting the batch.
//! A draft keeps what the user typed, problems included; only the start refuses a bad recipe.

use rowbench_mapping::ColumnMapping;
use rowbench_recipe::estimate::{ModelRates, RowCost};
use rowbench_recipe::{Blocker, PromptDraft, RunSettings};
use serde::{Deserialize, Serialize};

use crate::datasets::{DatasetView, RowView};

/// What the Map columns step works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingPage {
    pub dataset: DatasetView,
    pub mapping: ColumnMapping,
    /// Per column, the input tokens a row costs when it is sent (`name: value` on a line of
    /// the prompt), averaged over the preview rows.
    pub tokens: Vec<f64>,
    /// The draft schema's field names so far, offered for a gold column.
    pub fields: Vec<String>,
}

/// What the Prompt step works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptPage {
    pub mapping: ColumnMapping,
    pub prompt: PromptDraft,
    /// True when nothing was saved yet and `prompt` is the generated default.
    pub generated: bool,
    pub row_count: i64,
    /// The first rows, to preview on without asking the server.
    pub sample: Vec<RowView>,
}

/// A model the server is configured for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelChoice {
    pub id: String,
    pub label: String,
    pub rates: ModelRates,
}

/// A provider the server is configured for, with its models. Keys never leave the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderChoice {
    pub id: String,
    pub label: String,
    /// The built-in offline provider: synthetic answers, no key, no network.
    pub is_demo: bool,
    pub models: Vec<ModelChoice>,
}

/// Everything the Review step shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewPage {
    pub dataset_name: String,
    pub row_count: u64,
    pub field_count: usize,
    pub providers: Vec<ProviderChoice>,
    pub settings: RunSettings,
    /// Per-row averages measured on the first rows with the current prompt and schema.
    pub per_row: RowCost,
    pub sampled_rows: usize,
    /// What must be fixed first, with the step to fix it on; empty when the batch can start.
    pub blockers: Vec<Blocker>,
}

#[cfg(feature = "server")]
pub use server::{DraftPart, LoadedDraft};

#[cfg(feature = "server")]
mod server {
    use rowbench_mapping::ColumnMapping;
    use rowbench_recipe::estimate::RowCost;
    use rowbench_recipe::{Blocker, BlockerStep, PromptDraft, Recipe, RunSettings};
    use rowbench_schema::ResponseSchema;
    use rowbench_store::drafts::{self as stored, Draft, DraftPart as StoredPart};

    use super::{MappingPage, ModelChoice, PromptPage, ProviderChoice, ReviewPage};
    use crate::batches::StartBatch;
    use crate::datasets::DatasetView;
    use crate::error::{Error, Result};
    use crate::limits::{MAX_FIELDS, MAX_TEMPLATE_BYTES};
    use crate::{Actor, Workbench, model_rates};

    /// Rows rendered to measure the average prompt size.
    const SAMPLE_ROWS: usize = 20;

    /// A part of the draft a step saves.
    #[derive(Debug, Clone)]
    pub enum DraftPart {
        Prompt(PromptDraft),
        Schema(ResponseSchema),
        Settings(RunSettings),
    }

    /// A draft with a dataset, and every part the steps saved so far.
    pub struct LoadedDraft {
        pub draft: Draft,
        pub dataset: DatasetView,
        pub mapping: ColumnMapping,
        pub saved_prompt: Option<PromptDraft>,
        pub schema: Option<ResponseSchema>,
        pub settings: Option<RunSettings>,
    }

    impl LoadedDraft {
        /// The saved prompt, or the default one for the mapping.
        pub fn prompt(&self) -> PromptDraft {
            self.saved_prompt
                .clone()
                .unwrap_or_else(|| PromptDraft::default_for(&self.mapping))
        }
    }

    /// A part as saved, or `None` when never saved or written by a version that stored it in
    /// another shape (the step then starts over rather than failing the page).
    fn part<T: serde::de::DeserializeOwned>(draft: &Draft, part: StoredPart) -> Option<T> {
        parsed(draft, &format!("{part:?}"), draft.part(part)?)
    }

    /// The one rule for a draft's stored parts, the mapping included.
    fn parsed<T: serde::de::DeserializeOwned>(
        draft: &Draft,
        what: &str,
        value: &serde_json::Value,
    ) -> Option<T> {
        match serde_json::from_value(value.clone()) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                tracing::warn!(draft_id = draft.id, part = what, %error, "ignoring an unreadable draft part");
                None
            }
        }
    }

    fn json(value: &impl serde::Serialize) -> Result<serde_json::Value> {
        serde_json::to_value(value).map_err(|e| Error::internal("saving a draft part", &e))
    }

    /// What each column costs a row in input tokens when sent, `name: value` and a line break
    /// as the generated prompt writes it, averaged over the preview rows (0 without rows).
    pub(crate) fn column_tokens(dataset: &DatasetView) -> Vec<f64> {
        let rows = dataset.preview.len().max(1) as f64;
        dataset
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let total: u64 = dataset
                    .preview
                    .iter()
                    .map(|row| {
                        let cell = row.cells.get(i).map_or("", String::as_str);
                        rowbench_providers::estimate::count_tokens(&format!(
                            "{}: {cell}\n",
                            column.name
                        ))
                    })
                    .sum();
                total as f64 / rows
            })
            .collect()
    }

    /// The draft's saved mapping if it fits the dataset's columns; otherwise the suggested
    /// one (text-like columns sent, an id as the key, labels and the rest ignored), as the Map
    /// columns step starts.
    pub(crate) fn mapping_for(draft: &Draft, dataset: &DatasetView) -> ColumnMapping {
        let headers: Vec<&str> = dataset.columns.iter().map(|c| c.name.as_str()).collect();
        draft
            .mapping()
            .and_then(|m| parsed::<ColumnMapping>(draft, "Mapping", m))
            .filter(|m| {
                m.columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .eq(headers.iter().copied())
            })
            .unwrap_or_else(|| {
                let rows: Vec<&[String]> = dataset.preview.iter().map(|r| &r.cells[..]).collect();
                ColumnMapping::suggested(&headers, &rows)
            })
    }

    /// Average tokens of one request and one answer, measured on the first rows.
    fn per_row_cost(recipe: &Recipe, loaded: &LoadedDraft) -> (RowCost, usize) {
        let schema = recipe.schema.to_json_schema();
        let schema_tokens = if recipe.schema.fields.is_empty() {
            0
        } else {
            rowbench_providers::estimate::count_tokens(&schema.to_string())
        };
        let mut total = 0u64;
        let mut sampled = 0usize;
        for row in loaded.dataset.preview.iter().take(SAMPLE_ROWS) {
            if let Ok(messages) = recipe.render(&row.cells) {
                total += rowbench_providers::estimate::count_tokens(&messages.system)
                    + rowbench_providers::estimate::count_tokens(&messages.user)
                    + schema_tokens;
                sampled += 1;
            }
        }
        let input_tokens = if sampled == 0 {
            0.0
        } else {
            total as f64 / sampled as f64
        };
        let output_tokens = if recipe.schema.fields.is_empty() {
            0.0
        } else {
            rowbench_providers::estimate::estimate_output_tokens(&schema) as f64
        };
        (
            RowCost {
                input_tokens,
                output_tokens,
            },
            sampled,
        )
    }

    impl Workbench {
        /// The actor's draft `id`, if it still exists.
        pub async fn find_draft(&self, actor: &Actor, id: i64) -> Result<Option<Draft>> {
            Ok(stored::find(&self.db, actor.owner(), id).await?)
        }

        /// A new empty draft for the actor.
        pub async fn new_draft(&self, actor: &Actor) -> Result<Draft> {
            actor.must_edit("start new batches")?;
            Ok(stored::create(&self.db, actor.owner()).await?)
        }

        /// Remembers the wizard step the user is on.
        pub async fn save_step(&self, actor: &Actor, draft: &Draft, step: &str) -> Result<()> {
            actor.must_edit("change drafts")?;
            stored::set_step(&self.db, actor.owner(), draft.id, step).await?;
            Ok(())
        }

        /// Makes the actor's dataset `dataset_id` the one the draft works on.
        pub async fn use_dataset(
            &self,
            actor: &Actor,
            draft: &Draft,
            dataset_id: i64,
        ) -> Result<()> {
            actor.must_edit("change drafts")?;
            self.stored_dataset(actor, dataset_id).await?;
            stored::set_dataset(&self.db, actor.owner(), draft.id, dataset_id).await?;
            Ok(())
        }

        /// The draft's dataset with its first rows; `None` until a file was uploaded.
        pub async fn draft_dataset(
            &self,
            actor: &Actor,
            draft: &Draft,
        ) -> Result<Option<DatasetView>> {
            let Some(id) = draft.dataset_id() else {
                return Ok(None);
            };
            match self.dataset(actor, id).await {
                Ok(dataset) => Ok(Some(dataset)),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(other) => Err(other),
            }
        }

        /// The draft with its dataset and every part saved; `None` until a file was uploaded.
        pub async fn load_draft(&self, actor: &Actor, draft: Draft) -> Result<Option<LoadedDraft>> {
            let Some(dataset) = self.draft_dataset(actor, &draft).await? else {
                return Ok(None);
            };
            let mapping = mapping_for(&draft, &dataset);
            Ok(Some(LoadedDraft {
                saved_prompt: part(&draft, StoredPart::Prompt),
                schema: part(&draft, StoredPart::Schema),
                settings: part(&draft, StoredPart::Settings),
                draft,
                dataset,
                mapping,
            }))
        }

        /// The Map columns step: the dataset and the mapping (a mapping saved for other
        /// columns starts over from the new headers).
        pub async fn mapping_page(
            &self,
            actor: &Actor,
            draft: &Draft,
        ) -> Result<Option<MappingPage>> {
            let Some(dataset) = self.draft_dataset(actor, draft).await? else {
                return Ok(None);
            };
            let mapping = mapping_for(draft, &dataset);
            let tokens = column_tokens(&dataset);
            let fields = part::<ResponseSchema>(draft, StoredPart::Schema)
                .map(|s| s.fields.into_iter().map(|f| f.name).collect())
                .unwrap_or_default();
            Ok(Some(MappingPage {
                dataset,
                mapping,
                tokens,
                fields,
            }))
        }

        /// Saves the mapping after checking it, and that it fits the draft's dataset.
        pub async fn save_mapping(
            &self,
            actor: &Actor,
            draft: &Draft,
            mapping: &ColumnMapping,
        ) -> Result<()> {
            actor.must_edit("change drafts")?;
            if let Err(errors) = mapping.validate() {
                let first = errors
                    .columns
                    .first()
                    .map(|(position, problem)| format!("column {}: {problem}", position + 1))
                    .or_else(|| errors.mapping.first().map(ToString::to_string))
                    .unwrap_or_default();
                return Err(Error::invalid(
                    "invalid_mapping",
                    format!("The mapping was not saved: {first}."),
                ));
            }
            let Some(id) = draft.dataset_id() else {
                return Err(Error::invalid(
                    "no_dataset",
                    "Upload a file before mapping its columns.",
                ));
            };
            let dataset = self.stored_dataset(actor, id).await?;
            if !mapping
                .columns
                .iter()
                .map(|c| &c.name)
                .eq(dataset.columns.iter().map(|c| &c.name))
            {
                return Err(Error::invalid(
                    "mapping_mismatch",
                    "The mapping does not match the dataset's columns; reload the page.",
                ));
            }
            stored::set_mapping(&self.db, actor.owner(), draft.id, &json(mapping)?).await?;
            Ok(())
        }

        /// The Prompt step; `None` until a file was uploaded.
        pub async fn prompt_page(&self, actor: &Actor, draft: Draft) -> Result<Option<PromptPage>> {
            let Some(loaded) = self.load_draft(actor, draft).await? else {
                return Ok(None);
            };
            Ok(Some(PromptPage {
                generated: loaded.saved_prompt.is_none(),
                prompt: loaded.prompt(),
                row_count: loaded.dataset.row_count,
                sample: loaded.dataset.preview.clone(),
                mapping: loaded.mapping,
            }))
        }

        /// The draft's response schema; empty until the user adds a field.
        pub fn draft_schema(&self, _actor: &Actor, draft: &Draft) -> ResponseSchema {
            part(draft, StoredPart::Schema).unwrap_or_default()
        }

        /// Saves a step's part as it is, unfinished included (the Review step says what blocks
        /// the start); only a part too large to be a real one is refused.
        pub async fn save_part(&self, actor: &Actor, draft: &Draft, part: DraftPart) -> Result<()> {
            actor.must_edit("change drafts")?;
            let (which, value) = match &part {
                DraftPart::Prompt(prompt) => {
                    if prompt.system.len() + prompt.user.len() > MAX_TEMPLATE_BYTES {
                        return Err(Error::invalid(
                            "template_too_large",
                            format!(
                                "The prompt was not saved: together the two templates may be at most {} KB.",
                                MAX_TEMPLATE_BYTES / 1000
                            ),
                        ));
                    }
                    (StoredPart::Prompt, json(prompt)?)
                }
                DraftPart::Schema(schema) => {
                    if schema.fields.len() > MAX_FIELDS {
                        return Err(Error::invalid(
                            "too_many_fields",
                            format!(
                                "The schema was not saved: it may have at most {MAX_FIELDS} fields."
                            ),
                        ));
                    }
                    (StoredPart::Schema, json(schema)?)
                }
                DraftPart::Settings(settings) => (StoredPart::Settings, json(settings)?),
            };
            stored::set_part(&self.db, actor.owner(), draft.id, which, &value).await?;
            Ok(())
        }

        /// Empties the draft: dataset link, mapping, prompt, schema and settings. The uploaded
        /// file stays stored; batches already started are not touched.
        pub async fn reset_draft(&self, actor: &Actor, draft: &Draft) -> Result<()> {
            actor.must_edit("change drafts")?;
            stored::reset(&self.db, actor.owner(), draft.id).await?;
            Ok(())
        }

        /// The providers and models the actor may pick from: every configured one the workspace
        /// may run.
        pub fn choices(&self, actor: &Actor) -> Vec<ProviderChoice> {
            self.catalog
                .providers
                .iter()
                .filter(|p| actor.may_use(&p.id))
                .map(|p| ProviderChoice {
                    id: p.id.clone(),
                    label: p.label.clone(),
                    is_demo: p.id == rowbench_providers::DEMO_PROVIDER_ID,
                    models: p
                        .models
                        .iter()
                        .map(|m| ModelChoice {
                            id: m.id.clone(),
                            label: m.label.clone(),
                            rates: model_rates(p, m),
                        })
                        .collect(),
                })
                .collect()
        }

        /// The draft's settings, or the first model the actor may run, run sequentially.
        fn settings_or_default(&self, actor: &Actor, loaded: &LoadedDraft) -> RunSettings {
            loaded.settings.clone().unwrap_or_else(|| {
                let provider = self.catalog.providers.iter().find(|p| actor.may_use(&p.id));
                RunSettings::new(
                    provider.map_or("", |p| p.id.as_str()),
                    provider
                        .and_then(|p| p.models.first())
                        .map_or("", |m| m.id.as_str()),
                )
            })
        }

        /// The recipe the draft makes now.
        fn recipe(&self, actor: &Actor, loaded: &LoadedDraft) -> Recipe {
            Recipe {
                mapping: loaded.mapping.clone(),
                prompt: loaded.prompt(),
                schema: loaded.schema.clone().unwrap_or_default(),
                settings: self.settings_or_default(actor, loaded),
            }
        }

        /// Everything that blocks the recipe, including a provider or model this server does not
        /// know (any more) or the actor's workspace may not run.
        pub(crate) fn blockers(&self, actor: &Actor, recipe: &Recipe) -> Vec<Blocker> {
            let mut blockers = recipe.blockers();
            let settings = &recipe.settings;
            if !settings.provider.is_empty() && !actor.may_use(&settings.provider) {
                blockers.push(Blocker {
                    step: BlockerStep::Review,
                    message: format!(
                        "This workspace may not run provider \"{}\" (its admins chose: {}); choose another.",
                        settings.provider,
                        actor.allowed_providers().unwrap_or_default().join(", ")
                    ),
                });
            } else if !settings.provider.is_empty()
                && self
                    .catalog
                    .model(&settings.provider, &settings.model)
                    .is_none()
            {
                blockers.push(Blocker {
                    step: BlockerStep::Review,
                    message: format!(
                        "The model \"{}\" of provider \"{}\" is not configured on this server; choose another.",
                        settings.model, settings.provider
                    ),
                });
            }
            blockers
        }

        /// The Review step; `None` until a file was uploaded.
        pub async fn review_page(&self, actor: &Actor, draft: Draft) -> Result<Option<ReviewPage>> {
            let Some(loaded) = self.load_draft(actor, draft).await? else {
                return Ok(None);
            };
            let recipe = self.recipe(actor, &loaded);
            let (per_row, sampled_rows) = per_row_cost(&recipe, &loaded);
            Ok(Some(ReviewPage {
                dataset_name: loaded.dataset.name.clone(),
                row_count: u64::try_from(loaded.dataset.row_count).unwrap_or(0),
                field_count: recipe.schema.fields.len(),
                providers: self.choices(actor),
                blockers: self.blockers(actor, &recipe),
                settings: recipe.settings,
                per_row,
                sampled_rows,
            }))
        }

        /// Starts a batch from the draft as it is now with `settings` (saved first, so a change
        /// made just before the click is never lost), and answers its id. The batch keeps its
        /// own copy of the recipe: editing the draft later never changes it.
        pub async fn start_from_draft(
            &self,
            actor: &Actor,
            draft: Draft,
            settings: RunSettings,
        ) -> Result<i64> {
            actor.must_edit("start batches")?;
            self.save_part(actor, &draft, DraftPart::Settings(settings))
                .await?;
            // Read again: the settings just saved are part of it now.
            let Some(draft) = self.find_draft(actor, draft.id).await? else {
                return Err(Error::not_found("The draft"));
            };
            let Some(loaded) = self.load_draft(actor, draft).await? else {
                return Err(Error::invalid(
                    "no_dataset",
                    "Upload a file before starting a batch.",
                ));
            };
            let recipe = self.recipe(actor, &loaded);
            self.start_batch(
                actor,
                StartBatch {
                    dataset_id: loaded.dataset.id,
                    recipe,
                },
            )
            .await
        }

        /// Makes the draft a copy of batch `id`'s recipe and dataset ("run again with changes").
        pub async fn copy_batch_into_draft(
            &self,
            actor: &Actor,
            id: i64,
            draft: &Draft,
        ) -> Result<()> {
            actor.must_edit("copy batches into a draft")?;
            let (dataset_id, recipe) = self.recipe_of(actor, id).await?;
            let state = serde_json::json!({
                "dataset_id": dataset_id,
                "mapping": recipe.mapping,
                "prompt": recipe.prompt,
                "schema": recipe.schema,
                "settings": recipe.settings,
            });
            stored::replace_state(&self.db, actor.owner(), draft.id, &state).await?;
            Ok(())
        }
    }
}
