//! Batch configurations for the store's own tests: real ones, since the store reads a batch's
//! configuration back as a `BatchConfig` and refuses anything else.

use rowbench_mapping::ColumnMapping;
use rowbench_recipe::estimate::ModelRates;
use rowbench_recipe::{BatchConfig, PromptDraft, Recipe, RunSettings};
use rowbench_schema::ResponseSchema;

use crate::Database;

/// A configuration over a one-column dataset, changed by `edit`.
pub(crate) fn config_with(edit: impl FnOnce(&mut BatchConfig)) -> BatchConfig {
    let mapping = ColumnMapping::from_headers(&["text"]);
    let mut config = BatchConfig {
        recipe: Recipe {
            prompt: PromptDraft::default_for(&mapping),
            mapping,
            schema: ResponseSchema::default(),
            settings: RunSettings::new("demo", "demo"),
        },
        dataset_name: "rows.csv".into(),
        columns: vec!["text".into()],
        json_schema: serde_json::json!({}),
        provider_label: "Demo".into(),
        model_label: "Demo".into(),
        rates: ModelRates::default(),
    };
    edit(&mut config);
    config
}

/// The same, as the JSON a batch is stored with.
pub(crate) fn config_json(edit: impl FnOnce(&mut BatchConfig)) -> serde_json::Value {
    serde_json::to_value(config_with(edit)).expect("a configuration serialises")
}

/// The configuration as stored, keys the type does not have included.
pub(crate) async fn stored_config(db: &Database, batch_id: i64) -> serde_json::Value {
    let texts =
        crate::testing::texts(db, "SELECT config FROM batches WHERE id = $1", &[batch_id]).await;
    let Some(Some(text)) = texts.first() else {
        panic!("batch {batch_id} exists and has a configuration");
    };
    serde_json::from_str(text).expect("stored as JSON")
}
