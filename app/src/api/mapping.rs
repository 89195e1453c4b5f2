//! The Map columns step's data: the draft's dataset columns with sample rows, and its mapping.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use rowbench_mapping::ColumnMapping;
use serde::{Deserialize, Serialize};

use crate::api::datasets::DatasetView;
use crate::error::AppError;

/// What the Map columns step works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingPage {
    pub dataset: DatasetView,
    pub mapping: ColumnMapping,
    /// Per column, the input tokens a row costs when it is sent (`name: value` on a line of
    /// the prompt), averaged over the preview rows.
    pub tokens: Vec<f64>,
}

/// The draft's dataset and mapping; `None` until a file was uploaded. A mapping saved for other
/// columns (the file was replaced) starts over from the new headers.
#[server(prefix = "/rpc", endpoint = "draft_mapping")]
pub async fn draft_mapping() -> Result<Option<MappingPage>, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    let Some(id) = draft.dataset_id() else {
        return Ok(None);
    };
    let Some(dataset) = super::datasets::ssr::load(&state.db, state.user(), id).await? else {
        return Ok(None);
    };
    let mapping = ssr::mapping_for(&draft, &dataset);
    let tokens = ssr::column_tokens(&dataset);
    Ok(Some(MappingPage {
        dataset,
        mapping,
        tokens,
    }))
}

/// Saves the mapping after checking it again and that it fits the draft's dataset.
#[server(prefix = "/rpc", endpoint = "save_mapping", input = Json)]
pub async fn save_mapping(mapping: ColumnMapping) -> Result<(), AppError> {
    if let Err(errors) = mapping.validate() {
        let first = errors
            .columns
            .first()
            .map(|(position, problem)| format!("column {}: {problem}", position + 1))
            .or_else(|| errors.mapping.first().map(ToString::to_string))
            .unwrap_or_default();
        return Err(AppError::Invalid(format!(
            "The mapping was not saved: {first}."
        )));
    }
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    let Some(id) = draft.dataset_id() else {
        return Err(AppError::Invalid(
            "Upload a file before mapping its columns.".into(),
        ));
    };
    let Some(dataset) = rowbench_store::datasets::find(&state.db, state.user(), id).await? else {
        return Err(AppError::NotFound("The dataset".into()));
    };
    let headers: Vec<String> = dataset
        .columns
        .as_array()
        .map(|cols| {
            cols.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !mapping.columns.iter().map(|c| &c.name).eq(headers.iter()) {
        return Err(AppError::Invalid(
            "The mapping does not match the dataset's columns; reload the page.".into(),
        ));
    }
    let json = serde_json::to_value(&mapping).map_err(|_| AppError::Internal)?;
    rowbench_store::drafts::set_mapping(&state.db, state.user(), draft.id, &json).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The draft's mapping as the later steps read it.

    use rowbench_mapping::ColumnMapping;
    use rowbench_store::drafts::Draft;

    use crate::api::datasets::DatasetView;

    /// What each column costs a row in input tokens when sent, `name: value` and a line break
    /// as the generated prompt writes it, averaged over the preview rows (0 without rows).
    pub fn column_tokens(dataset: &DatasetView) -> Vec<f64> {
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
    pub fn mapping_for(draft: &Draft, dataset: &DatasetView) -> ColumnMapping {
        let headers: Vec<&str> = dataset.columns.iter().map(|c| c.name.as_str()).collect();
        draft
            .mapping()
            .and_then(|m| serde_json::from_value::<ColumnMapping>(m.clone()).ok())
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
}
