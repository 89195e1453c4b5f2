//! What an export needs from a batch: its columns, answer fields and names. The use-case layer
//! fills it from the batch's frozen configuration.

use crate::Layout;

/// A batch's export columns and names, as its configuration records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPlan {
    /// The dataset's header names, in order.
    pub columns: Vec<String>,
    /// The response schema's field names, in order.
    pub fields: Vec<String>,
    pub model: String,
    /// Names the download.
    pub dataset_name: String,
}

impl ExportPlan {
    /// The export's columns, with or without the metadata columns.
    pub fn layout(&self, metadata: bool) -> Layout {
        Layout::new(
            self.columns.clone(),
            self.fields.clone(),
            self.model.clone(),
            metadata,
        )
    }
}
