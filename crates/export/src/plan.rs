//! What an export needs from a batch's frozen configuration, read field by field rather than as
//! a whole `BatchConfig`, so exports keep working for batches an older or newer version wrote.

use serde_json::Value;

use crate::Layout;

/// A batch's export columns and names, as its configuration records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPlan {
    /// The dataset's header names, in order.
    pub columns: Vec<String>,
    /// The response schema's field names, in order.
    pub fields: Vec<String>,
    pub model: String,
    /// Names the download; the batch's own name when the configuration has none.
    pub dataset_name: String,
}

impl ExportPlan {
    /// The plan of a batch whose configuration is `config` and whose name is `batch_name`.
    /// Missing or mistyped parts read as empty.
    pub fn from_config(config: &Value, batch_name: &str) -> Self {
        let names = |items: &Value, name: fn(&Value) -> Option<&str>| -> Vec<String> {
            items
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| name(item).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        ExportPlan {
            columns: names(&config["columns"], Value::as_str),
            fields: names(&config["recipe"]["schema"]["fields"], |field| {
                field["name"].as_str()
            }),
            model: config["recipe"]["settings"]["model"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            dataset_name: config["dataset_name"]
                .as_str()
                .unwrap_or(batch_name)
                .to_string(),
        }
    }

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_plan_reads_columns_fields_and_model_from_the_configuration() {
        let config = json!({
            "columns": ["id", "text"],
            "dataset_name": "tweets.csv",
            "recipe": {
                "schema": {"fields": [{"name": "sentiment"}, {"name": "reason"}]},
                "settings": {"model": "demo-small"}
            }
        });
        let plan = ExportPlan::from_config(&config, "Batch 3");
        assert_eq!(plan.columns, ["id", "text"]);
        assert_eq!(plan.fields, ["sentiment", "reason"]);
        assert_eq!(plan.model, "demo-small");
        assert_eq!(plan.dataset_name, "tweets.csv");
    }

    #[test]
    fn a_configuration_missing_parts_reads_as_empty_and_keeps_the_batch_name() {
        let plan = ExportPlan::from_config(&json!({"columns": "not a list"}), "Batch 3");
        assert!(plan.columns.is_empty() && plan.fields.is_empty() && plan.model.is_empty());
        assert_eq!(plan.dataset_name, "Batch 3");
    }
}
