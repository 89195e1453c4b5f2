//! Datasets as the wizard and the JSON API read them: one with its column statistics and first
//! rows, its rows a page at a time, and renaming it.

use serde::{Deserialize, Serialize};

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

#[cfg(feature = "server")]
pub use server::{RowsAfter, check_name};

#[cfg(feature = "server")]
mod server {
    use rowbench_store::datasets::{self as stored, Dataset, StoredRow};
    use serde::Serialize;
    use serde_json::json;

    use super::{ColumnView, DatasetView, RenameView, RowView};
    use crate::error::{Error, Result};
    use crate::limits::{MAX_NAME_CHARS, PREVIEW_ROWS};
    use crate::{Actor, Workbench};

    /// A page of a dataset's rows as `GET /api/datasets/{id}/rows` answers it.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct RowsAfter {
        pub rows: Vec<StoredRow>,
        /// Where the next page starts; `None` on the last one.
        pub next_after: Option<i64>,
    }

    /// A display name's limits: 1 to [`MAX_NAME_CHARS`] characters once trimmed. Answers the
    /// trimmed name.
    pub fn check_name(name: &str) -> Result<&str> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(Error::invalid(
                "invalid_name",
                format!("The name must be 1 to {MAX_NAME_CHARS} characters long."),
            )
            .with_details(json!({ "field": "name" })));
        }
        Ok(name)
    }

    fn view_of(dataset: Dataset, preview: Vec<RowView>) -> DatasetView {
        DatasetView {
            id: dataset.id,
            name: dataset.name,
            file_name: dataset.file_name,
            encoding: dataset.encoding,
            delimiter: dataset.delimiter,
            row_count: dataset.row_count,
            fixed_rows: dataset.fixed_rows,
            columns: dataset
                .columns
                .into_iter()
                .map(|c| ColumnView {
                    name: c.name,
                    filled: c.filled,
                    fill_rate: c.fill_rate,
                    samples: c.samples,
                })
                .collect(),
            renames: dataset
                .renames
                .into_iter()
                .map(|r| RenameView {
                    position: r.position,
                    original: r.original,
                    renamed: r.renamed,
                })
                .collect(),
            preview,
        }
    }

    fn row_view(r: StoredRow) -> RowView {
        RowView {
            index: r.index,
            line: r.line,
            cells: r.cells,
        }
    }

    impl Workbench {
        /// The actor's dataset `id` as stored, or not found.
        pub(crate) async fn stored_dataset(&self, actor: &Actor, id: i64) -> Result<Dataset> {
            stored::find(&self.db, actor.owner(), id)
                .await?
                .ok_or_else(|| Error::not_found("The dataset"))
        }

        /// The actor's dataset `id` with its column statistics and first rows.
        pub async fn dataset(&self, actor: &Actor, id: i64) -> Result<DatasetView> {
            let dataset = self.stored_dataset(actor, id).await?;
            let preview = stored::rows(&self.db, id, None, PREVIEW_ROWS)
                .await?
                .into_iter()
                .map(row_view)
                .collect();
            Ok(view_of(dataset, preview))
        }

        /// Up to `limit` rows of dataset `id` after row `after` (from the first when `None`).
        pub async fn dataset_rows(
            &self,
            actor: &Actor,
            id: i64,
            after: Option<i64>,
            limit: u32,
        ) -> Result<RowsAfter> {
            self.stored_dataset(actor, id).await?;
            let rows = stored::rows(&self.db, id, after, limit).await?;
            let next_after = if rows.len() == limit as usize {
                rows.last().map(|r| r.index)
            } else {
                None
            };
            Ok(RowsAfter { rows, next_after })
        }

        /// Row `index` (0-based) of dataset `id`.
        pub async fn dataset_row(&self, actor: &Actor, id: i64, index: i64) -> Result<RowView> {
            if index < 0 {
                return Err(Error::invalid("invalid_row", "Rows are numbered from 1."));
            }
            self.stored_dataset(actor, id).await?;
            stored::rows(&self.db, id, Some(index - 1), 1)
                .await?
                .into_iter()
                .next()
                .filter(|r| r.index == index)
                .map(row_view)
                .ok_or_else(|| Error::not_found(format!("Row {}", index + 1)))
        }

        /// Renames dataset `id` (its display name only) and answers the name as saved.
        pub async fn rename_dataset(&self, actor: &Actor, id: i64, name: &str) -> Result<String> {
            actor.must_edit("rename datasets")?;
            let name = check_name(name)?;
            if !stored::rename(&self.db, actor.owner(), id, name).await? {
                return Err(Error::not_found("The dataset"));
            }
            Ok(name.to_string())
        }
    }
}
