//! The Review step: the models to choose from, the run settings, what the run will take, what
//! still blocks it, the connection check, and the Start and Reset buttons.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_recipe::estimate::{ModelRates, RowCost};
use rowbench_recipe::{Blocker, RunSettings};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

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

/// What "Check the connection" found: the page shows it, `POST /api/providers/check` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    pub provider: String,
    pub model: String,
    /// The address, key and model work.
    pub ok: bool,
    /// `ok`, `key_refused`, `unknown_model`, `not_an_api`, `unreachable`, `timed_out`,
    /// `rate_limited` or `failed`.
    pub code: String,
    /// What happened and what to do, for a person. Never holds the key.
    pub message: String,
    /// How long the check call took, when it worked.
    pub latency_ms: Option<u64>,
    /// The provider's HTTP status, when it answered with an error.
    pub http_status: Option<u16>,
}

/// Makes one small call to `model` of `provider` with the server's key for it and says whether
/// it works, and if not what to fix. The offline demo answers at once.
#[server(prefix = "/rpc", endpoint = "check_connection", input = Json)]
pub async fn check_connection(
    provider: String,
    model: String,
) -> Result<ConnectionReport, AppError> {
    let state = crate::server::ServerState::from_context()?;
    ssr::check_connection(&state.catalog, &provider, &model).await
}

/// The Review step's data; `None` until a file was uploaded.
#[server(prefix = "/rpc", endpoint = "draft_review")]
pub async fn draft_review() -> Result<Option<ReviewPage>, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let Some(loaded) = super::drafts::ssr::load_parts(&state.db, state.user(), &session).await?
    else {
        return Ok(None);
    };
    Ok(Some(ssr::review(&state, &loaded).await?))
}

/// Saves the run settings as chosen (the page shows what is wrong with them).
#[server(prefix = "/rpc", endpoint = "save_settings", input = Json)]
pub async fn save_settings(settings: RunSettings) -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    let json = serde_json::to_value(&settings).map_err(|_| AppError::Internal)?;
    rowbench_store::drafts::set_part(
        &state.db,
        state.user(),
        draft.id,
        rowbench_store::drafts::DraftPart::Settings,
        &json,
    )
    .await?;
    Ok(())
}

/// Starts a batch from the draft as it is now, with the settings on the page (saved first, so a
/// change made just before the click is never lost), and answers its id. The batch keeps its own
/// copy of the recipe: editing the draft later never changes it.
#[server(prefix = "/rpc", endpoint = "start_batch", input = Json)]
pub async fn start_batch(settings: RunSettings) -> Result<i64, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    let json = serde_json::to_value(&settings).map_err(|_| AppError::Internal)?;
    rowbench_store::drafts::set_part(
        &state.db,
        state.user(),
        draft.id,
        rowbench_store::drafts::DraftPart::Settings,
        &json,
    )
    .await?;
    let Some(loaded) = super::drafts::ssr::load_parts(&state.db, state.user(), &session).await?
    else {
        return Err(AppError::Invalid(
            "Upload a file before starting a batch.".into(),
        ));
    };
    ssr::start(&state, &loaded).await
}

/// Empties the draft: dataset link, mapping, prompt, schema and settings. The uploaded file stays
/// stored; batches already started are not touched.
#[server(prefix = "/rpc", endpoint = "reset_draft")]
pub async fn reset_draft() -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    rowbench_store::drafts::reset(&state.db, state.user(), draft.id).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Building the review from the draft, and starting a batch from it.

    use rowbench_recipe::estimate::RowCost;
    use rowbench_recipe::{Blocker, BlockerStep, Recipe, RunSettings};

    use super::{ModelChoice, ProviderChoice, ReviewPage};
    use crate::api::drafts::ssr::LoadedDraft;
    use crate::error::AppError;
    use crate::server::ServerState;

    /// Checks the connection to a configured model (see [`super::check_connection`]).
    pub async fn check_connection(
        catalog: &rowbench_providers::Catalog,
        provider: &str,
        model: &str,
    ) -> Result<super::ConnectionReport, AppError> {
        use rowbench_providers::CheckVerdict;

        let Some(config) = catalog.provider(provider) else {
            return Err(AppError::NotFound(format!(
                "The provider \"{provider}\" (this server has: {})",
                catalog
                    .providers
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if catalog.model(provider, model).is_none() {
            return Err(AppError::Invalid(format!(
                "The model \"{model}\" is not configured for provider \"{provider}\" on this server; it has: {}.",
                config
                    .models
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let check = rowbench_providers::check_connection(config, model).await;
        let (latency_ms, http_status) = match &check.verdict {
            CheckVerdict::Ok { latency_ms } => (Some(*latency_ms), None),
            CheckVerdict::KeyRefused { status, .. } | CheckVerdict::UnknownModel { status, .. } => {
                (None, Some(*status).filter(|s| *s != 0))
            }
            CheckVerdict::NotAnApi { status, .. } | CheckVerdict::Failed { status, .. } => {
                (None, *status)
            }
            CheckVerdict::RateLimited { .. } => (None, Some(429)),
            CheckVerdict::Unreachable { .. } | CheckVerdict::TimedOut { .. } => (None, None),
        };
        Ok(super::ConnectionReport {
            provider: provider.to_string(),
            model: model.to_string(),
            ok: check.is_ok(),
            code: check.verdict.code().to_string(),
            message: check.message,
            latency_ms,
            http_status,
        })
    }

    /// Rows rendered to measure the average prompt size.
    const SAMPLE_ROWS: usize = 20;

    /// The providers and models a user may pick from.
    pub fn choices(state: &ServerState) -> Vec<ProviderChoice> {
        state
            .catalog
            .providers
            .iter()
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
                        rates: crate::server::model_rates(p, m),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The draft's settings, or the first configured model run sequentially.
    pub fn settings_or_default(state: &ServerState, loaded: &LoadedDraft) -> RunSettings {
        loaded.settings.clone().unwrap_or_else(|| {
            let provider = state.catalog.providers.first();
            RunSettings::new(
                provider.map_or("", |p| p.id.as_str()),
                provider
                    .and_then(|p| p.models.first())
                    .map_or("", |m| m.id.as_str()),
            )
        })
    }

    /// The recipe the draft makes now.
    pub fn recipe(state: &ServerState, loaded: &LoadedDraft) -> Recipe {
        Recipe {
            mapping: loaded.mapping.clone(),
            prompt: loaded.prompt(),
            schema: loaded.schema.clone().unwrap_or_default(),
            settings: settings_or_default(state, loaded),
        }
    }

    /// Everything that blocks the recipe, including a provider or model the server does not
    /// know (any more).
    pub fn blockers(state: &ServerState, recipe: &Recipe) -> Vec<Blocker> {
        let mut blockers = recipe.blockers();
        let settings = &recipe.settings;
        if !settings.provider.is_empty()
            && state
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

    /// Average tokens of one request and one answer, measured on the first rows.
    pub fn per_row_cost(recipe: &Recipe, loaded: &LoadedDraft) -> (RowCost, usize) {
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

    pub async fn review(state: &ServerState, loaded: &LoadedDraft) -> Result<ReviewPage, AppError> {
        let recipe = recipe(state, loaded);
        let (per_row, sampled_rows) = per_row_cost(&recipe, loaded);
        Ok(ReviewPage {
            dataset_name: loaded.dataset.name.clone(),
            row_count: u64::try_from(loaded.dataset.row_count).unwrap_or(0),
            field_count: recipe.schema.fields.len(),
            providers: choices(state),
            blockers: blockers(state, &recipe),
            settings: recipe.settings,
            per_row,
            sampled_rows,
        })
    }

    /// Checks the recipe and starts the batch over the draft's dataset.
    pub async fn start(state: &ServerState, loaded: &LoadedDraft) -> Result<i64, AppError> {
        let recipe = recipe(state, loaded);
        let blockers = blockers(state, &recipe);
        if let Some(first) = blockers.first() {
            return Err(AppError::Invalid(format!(
                "The batch was not started: {}",
                first.message
            )));
        }
        let columns: Vec<String> = loaded
            .dataset
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        state
            .start_batch(loaded.dataset.id, &loaded.dataset.name, columns, recipe)
            .await
    }
}
