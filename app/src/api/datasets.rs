//! The uploaded dataset of the wizard's draft: what the Upload step shows, and the same shape the
//! JSON API answers (`GET /api/datasets/{id}`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Rows in the preview of a dataset.
pub const PREVIEW_ROWS: u32 = 20;

/// A dataset with its column statistics and first rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetView {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub encoding: String,
    pub delimiter: String,
    pub row_count: i64,
    pub fixed_rows: i64,
    pub columns: Vec<ColumnView>,
    pub renames: Vec<RenameView>,
    pub preview: Vec<RowView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnView {
    pub name: String,
    pub filled: u64,
    pub fill_rate: f64,
    pub samples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameView {
    /// 1-based, as people count columns.
    pub position: usize,
    pub original: String,
    pub renamed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowView {
    pub index: i64,
    pub line: i64,
    pub cells: Vec<String>,
}

impl DatasetView {
    /// The delimiter as people name it.
    pub fn delimiter_label(&self) -> &'static str {
        match self.delimiter.as_str() {
            "comma" => "Comma",
            "semicolon" => "Semicolon",
            "tab" => "Tab",
            "pipe" => "Pipe",
            _ => "Unknown",
        }
    }
}

/// The dataset of this session's draft, if one was uploaded.
#[server(prefix = "/rpc", endpoint = "draft_dataset")]
pub async fn draft_dataset() -> Result<Option<DatasetView>, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    match draft.dataset_id() {
        Some(id) => Ok(ssr::load(&state.db, state.user(), id).await?),
        None => Ok(None),
    }
}

/// Makes the uploaded dataset `id` the one this session's draft works on.
#[server(prefix = "/rpc", endpoint = "use_dataset")]
pub async fn use_dataset(id: i64) -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    if rowbench_store::datasets::find(&state.db, state.user(), id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound("The dataset".into()));
    }
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    let draft = super::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
    rowbench_store::drafts::set_dataset(&state.db, state.user(), draft.id, id).await?;
    Ok(())
}

/// The longest display name of a dataset, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Renames the dataset (display only) and answers the name as saved.
#[server(prefix = "/rpc", endpoint = "rename_dataset")]
pub async fn rename_dataset(id: i64, name: String) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::Invalid(format!(
            "The name must be 1 to {MAX_NAME_CHARS} characters long."
        )));
    }
    let state = crate::server::ServerState::from_context()?;
    if !rowbench_store::datasets::rename(&state.db, state.user(), id, name).await? {
        return Err(AppError::NotFound("The dataset".into()));
    }
    Ok(name.to_string())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Loading a dataset's view from the store, for the pages and the JSON API alike.

    use rowbench_store::{Database, StoreError, datasets};

    use super::{DatasetView, PREVIEW_ROWS, RowView};

    fn parse<T: serde::de::DeserializeOwned>(
        what: &'static str,
        value: serde_json::Value,
    ) -> Result<T, StoreError> {
        serde_json::from_value(value).map_err(|e| StoreError::Corrupt {
            what,
            reason: e.to_string(),
        })
    }

    /// The `owner`'s dataset `id` with its first rows, if it exists and finished loading.
    pub async fn load(
        db: &Database,
        owner: &str,
        id: i64,
    ) -> Result<Option<DatasetView>, StoreError> {
        let Some(dataset) = datasets::find(db, owner, id).await? else {
            return Ok(None);
        };
        let preview = datasets::rows(db, id, None, PREVIEW_ROWS)
            .await?
            .into_iter()
            .map(|r| RowView {
                index: r.index,
                line: r.line,
                cells: r.cells,
            })
            .collect();
        Ok(Some(DatasetView {
            id: dataset.id,
            name: dataset.name,
            file_name: dataset.file_name,
            encoding: dataset.encoding,
            delimiter: dataset.delimiter,
            row_count: dataset.row_count,
            fixed_rows: dataset.fixed_rows,
            columns: parse("dataset columns", dataset.columns)?,
            renames: parse("dataset renames", dataset.renames)?,
            preview,
        }))
    }
}
