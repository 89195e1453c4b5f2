//! What a batch's rows share, built once per batch: the frozen configuration, the compiled answer
//! validator and the provider client; and the worked examples each re-run froze.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rowbench_providers::{Catalog, Provider, RateLimit, StructuredOutput, estimate};
use rowbench_recipe::BatchConfig;
use rowbench_recipe::few_shot::FewShots;
use rowbench_schema::{AnswerValidator, SchemaCompileError};
use rowbench_store::{Database, StoreError, few_shots, queue};

/// Why none of a batch's rows can run; the message is what each row records as its error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SetupError {
    #[error("The batch no longer exists.")]
    Missing,
    #[error("The batch configuration cannot be read: {0}")]
    Config(String),
    #[error(
        "The provider `{0}` is not configured on this server: add it to the server configuration, then retry the failed rows."
    )]
    UnknownProvider(String),
    #[error("The client for the provider `{0}` could not be set up (the server log says why).")]
    Connect(String),
    #[error(transparent)]
    Schema(#[from] SchemaCompileError),
}

/// A batch's run-time half: everything a row needs besides its cells.
pub(crate) struct BatchRuntime {
    pub(crate) config: BatchConfig,
    pub(crate) validator: AnswerValidator,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) provider_id: String,
    pub(crate) rate_limit: RateLimit,
    pub(crate) structured: StructuredOutput,
    /// Expected output tokens of one answer, for the tokens-per-minute limit; counted only
    /// when the provider has one.
    pub(crate) output_estimate: u64,
}

type Loaded = Arc<Result<BatchRuntime, SetupError>>;

/// Built batches by id. A batch's configuration is frozen when it starts, so an entry never goes
/// stale; the map is emptied when it grows past [`MAX_CACHED`], which costs a rebuild at most.
#[derive(Default)]
pub(crate) struct Runtimes {
    built: Mutex<HashMap<i64, Loaded>>,
}

const MAX_CACHED: usize = 64;

impl Runtimes {
    /// The runtime of batch `batch_id`, built on first use. A store error is not cached: the
    /// next row tries again.
    pub(crate) async fn get(
        &self,
        db: &Database,
        catalog: &Catalog,
        batch_id: i64,
    ) -> Result<Loaded, StoreError> {
        if let Some(loaded) = self.lock().get(&batch_id) {
            return Ok(Arc::clone(loaded));
        }
        let config = match queue::batch_config(db, batch_id).await {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(SetupError::Missing),
            // It will not parse next time either: every row records why, as for any setup error.
            Err(StoreError::CorruptBatch { reason, .. }) => Err(SetupError::Config(reason)),
            Err(other) => return Err(other),
        };
        let loaded = Arc::new(config.and_then(|config| build(catalog, config)));
        let mut built = self.lock();
        if built.len() >= MAX_CACHED {
            built.clear();
        }
        // Two rows may have built it at once; either copy is as good.
        Ok(Arc::clone(built.entry(batch_id).or_insert(loaded)))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Loaded>> {
        self.built.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn build(catalog: &Catalog, config: BatchConfig) -> Result<BatchRuntime, SetupError> {
    let settings = &config.recipe.settings;
    let provider_config = catalog
        .provider(&settings.provider)
        .ok_or_else(|| SetupError::UnknownProvider(settings.provider.clone()))?;
    let provider = provider_config
        .connect()
        .ok_or_else(|| SetupError::Connect(settings.provider.clone()))?;
    // A model dropped from the catalog since the batch started still runs, natively structured.
    let structured = catalog
        .model(&settings.provider, &settings.model)
        .map(|model| model.structured)
        .unwrap_or_default();
    let validator = AnswerValidator::new(&config.json_schema)?;
    let rate_limit = provider_config.rate_limit;
    let output_estimate = match rate_limit.tokens_per_minute {
        Some(_) => estimate::estimate_output_tokens(&config.json_schema),
        None => 0,
    };
    Ok(BatchRuntime {
        provider_id: provider_config.id.clone(),
        rate_limit,
        structured,
        validator,
        provider,
        output_estimate,
        config,
    })
}

/// A re-run's worked examples, or why its rows cannot have them (what each records as its
/// error).
pub(crate) type LoadedFewShots = Arc<Result<FewShots, String>>;

/// Few-shot sets by batch and generation. A set never changes once its re-run starts, so an
/// entry never goes stale; emptied as [`Runtimes`] is.
#[derive(Default)]
pub(crate) struct FewShotSets {
    loaded: Mutex<HashMap<(i64, i64), LoadedFewShots>>,
}

impl FewShotSets {
    /// Generation `generation` of batch `batch_id`, read on first use. A store error is not
    /// kept: the next row tries again.
    pub(crate) async fn get(
        &self,
        db: &Database,
        batch_id: i64,
        generation: i64,
    ) -> Result<LoadedFewShots, StoreError> {
        let key = (batch_id, generation);
        if let Some(loaded) = self.lock().get(&key) {
            return Ok(Arc::clone(loaded));
        }
        let set = match few_shots::few_shot_set(db, batch_id, generation).await {
            Ok(Some(set)) => Ok(FewShots::new(set)),
            Ok(None) => Err(format!(
                "The worked examples of re-run {generation} of this batch are gone."
            )),
            Err(StoreError::Corrupt { reason, .. }) => Err(format!(
                "The worked examples of re-run {generation} of this batch cannot be read: {reason}"
            )),
            Err(other) => return Err(other),
        };
        let mut loaded = self.lock();
        if loaded.len() >= MAX_CACHED {
            loaded.clear();
        }
        Ok(Arc::clone(loaded.entry(key).or_insert(Arc::new(set))))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(i64, i64), LoadedFewShots>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
