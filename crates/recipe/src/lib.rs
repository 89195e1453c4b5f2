//! A batch's recipe: which columns the model sees, what it is asked, the answer it must give, and
//! how the run goes. The wizard builds one step by step; starting a batch freezes a copy of it.
//!
//! Pure rules with no I/O, compiled into the browser as well, so a page can say what still
//! blocks the start while the server checks the same rules again.
//!
//! ```
//! use rowbench_mapping::ColumnMapping;
//! use rowbench_recipe::{PromptDraft, Recipe, RunSettings};
//! use rowbench_schema::{FieldType, ResponseSchema, SchemaField};
//!
//! let mapping = ColumnMapping::from_headers(&["title", "Body Text"]);
//! let recipe = Recipe {
//!     prompt: PromptDraft::default_for(&mapping),
//!     mapping,
//!     schema: ResponseSchema {
//!         fields: vec![SchemaField {
//!             name: "topic".into(),
//!             kind: FieldType::String,
//!             description: String::new(),
//!             required: true,
//!         }],
//!     },
//!     settings: RunSettings::new("demo", "demo"),
//! };
//! assert!(recipe.blockers().is_empty());
//! let messages = recipe.render(&["Hi".to_string(), "<b>there</b>".to_string()]).expect("renders");
//! assert!(messages.user.contains("<b>there</b>"));
//! ```

pub mod estimate;
pub mod few_shot;
mod settings;
pub mod text;

use rowbench_mapping::{ColumnMapping, Role};
use rowbench_schema::ResponseSchema;
use rowbench_template::{AvailableNames, PromptContext, TemplateIssue};
use serde::{Deserialize, Serialize};

use crate::text::{sentence, with_stop};

pub use settings::{ErrorPolicy, MAX_CONCURRENCY, RunSettings, SettingsError};

/// The system prompt and the user-message template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptDraft {
    pub system: String,
    pub user: String,
}

impl PromptDraft {
    /// The starting point for a mapping: the generic system prompt and one line per included
    /// column.
    pub fn default_for(mapping: &ColumnMapping) -> Self {
        let included: Vec<String> = mapping.included().map(str::to_string).collect();
        PromptDraft {
            system: rowbench_template::DEFAULT_SYSTEM_PROMPT.to_string(),
            user: rowbench_template::default_user_template(&included),
        }
    }
}

/// The two messages the model receives for one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedPrompt {
    pub system: String,
    pub user: String,
}

/// Which template a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromptPart {
    System,
    User,
}

impl PromptPart {
    pub fn label(self) -> &'static str {
        match self {
            PromptPart::System => "system prompt",
            PromptPart::User => "user message",
        }
    }
}

/// The wizard step a blocker is fixed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockerStep {
    Columns,
    Prompt,
    Schema,
    Review,
}

/// Something that keeps a recipe from running, said so a user knows where to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    pub step: BlockerStep,
    pub message: String,
}

/// Everything a batch runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub mapping: ColumnMapping,
    pub prompt: PromptDraft,
    pub schema: ResponseSchema,
    pub settings: RunSettings,
}

/// What a started batch keeps: its own copy of the recipe and of the facts it runs on, so later
/// edits of the draft or the price table never change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchConfig {
    pub recipe: Recipe,
    pub dataset_name: String,
    /// The dataset's column names, in order.
    pub columns: Vec<String>,
    /// The JSON Schema every answer is validated against.
    pub json_schema: serde_json::Value,
    pub provider_label: String,
    pub model_label: String,
    pub rates: estimate::ModelRates,
}

impl Recipe {
    /// The names the templates may use under this mapping.
    pub fn available_names(&self) -> AvailableNames {
        available_names(&self.mapping)
    }

    /// One row's values as the templates see them; `cells` are in the dataset's column order.
    pub fn context(&self, cells: &[String]) -> PromptContext {
        prompt_context(&self.mapping, cells)
    }

    /// The messages for one row.
    pub fn render(&self, cells: &[String]) -> Result<RenderedPrompt, (PromptPart, TemplateIssue)> {
        render_prompt(&self.prompt, &self.mapping, cells)
    }

    /// The messages for row `row_index`, with the worked examples a re-run chose for it after
    /// the system prompt.
    pub fn render_with_examples(
        &self,
        row_index: i64,
        cells: &[String],
        examples: Option<&few_shot::FewShots>,
    ) -> Result<RenderedPrompt, (PromptPart, TemplateIssue)> {
        let mut prompt = self.render(cells)?;
        if let Some(examples) = examples {
            let picked = examples.pick(&self.mapping, row_index, cells);
            prompt.system = few_shot::system_with_examples(&prompt.system, &picked);
        }
        Ok(prompt)
    }

    /// Everything that must be fixed before the recipe can run; empty when it can.
    pub fn blockers(&self) -> Vec<Blocker> {
        let mut blockers = Vec::new();
        if let Err(errors) = self.mapping.validate() {
            let first = errors
                .columns
                .first()
                .map(|(position, problem)| {
                    let name = self
                        .mapping
                        .columns
                        .get(*position)
                        .map_or("?", |c| c.name.as_str());
                    with_stop(&format!("Column \"{name}\": {problem}"))
                })
                .or_else(|| errors.mapping.first().map(|p| sentence(&p.to_string())))
                .unwrap_or_default();
            blockers.push(Blocker {
                step: BlockerStep::Columns,
                message: first,
            });
        }
        blockers.extend(prompt_blockers(&self.prompt, &self.mapping));
        let schema_errors = self.schema.problems();
        if !schema_errors.is_empty() {
            let message = schema_errors
                .fields
                .first()
                .map(|(position, problem)| with_stop(&format!("Field {}: {problem}", position + 1)))
                .or_else(|| {
                    schema_errors
                        .schema
                        .first()
                        .map(|p| sentence(&p.to_string()))
                })
                .unwrap_or_default();
            blockers.push(Blocker {
                step: BlockerStep::Schema,
                message,
            });
        }
        if let Some((position, field)) = self
            .mapping
            .gold()
            .find(|(_, field)| !self.schema.fields.iter().any(|f| f.name == *field))
        {
            let name = self
                .mapping
                .columns
                .get(position)
                .map_or("?", |c| c.name.as_str());
            blockers.push(Blocker {
                step: BlockerStep::Columns,
                message: format!(
                    "Column \"{name}\" holds the expected answer for \"{field}\", which the response schema has no field for: rename the field or choose another."
                ),
            });
        }
        if let Err(problem) = self.settings.check() {
            blockers.push(Blocker {
                step: BlockerStep::Review,
                message: problem.to_string(),
            });
        }
        blockers
    }
}

/// The names the templates may use under `mapping`.
pub fn available_names(mapping: &ColumnMapping) -> AvailableNames {
    AvailableNames {
        columns: mapping.included().map(str::to_string).collect(),
        params: mapping.params().map(|(key, _)| key.to_string()).collect(),
    }
}

/// One row's values for the templates; `cells` are in the dataset's column order, which is the
/// mapping's order.
pub fn prompt_context(mapping: &ColumnMapping, cells: &[String]) -> PromptContext {
    let cell = |position: usize| cells.get(position).cloned().unwrap_or_default();
    let mut context = PromptContext {
        columns: Vec::new(),
        params: Vec::new(),
    };
    for (position, column) in mapping.columns.iter().enumerate() {
        match &column.role {
            Role::Ignore => {}
            Role::Include => context.columns.push((column.name.clone(), cell(position))),
            Role::Param { key } => context.params.push((key.clone(), cell(position))),
        }
    }
    context
}

/// Renders both templates of `prompt` on one row.
pub fn render_prompt(
    prompt: &PromptDraft,
    mapping: &ColumnMapping,
    cells: &[String],
) -> Result<RenderedPrompt, (PromptPart, TemplateIssue)> {
    let context = prompt_context(mapping, cells);
    let system = rowbench_template::render(&prompt.system, &context)
        .map_err(|issue| (PromptPart::System, issue))?;
    let user = rowbench_template::render(&prompt.user, &context)
        .map_err(|issue| (PromptPart::User, issue))?;
    Ok(RenderedPrompt { system, user })
}

/// What keeps `prompt` from running under `mapping`: an empty user message, syntax errors and
/// unknown names, each with where it is.
pub fn prompt_blockers(prompt: &PromptDraft, mapping: &ColumnMapping) -> Vec<Blocker> {
    let names = available_names(mapping);
    let mut blockers = Vec::new();
    if prompt.user.trim().is_empty() {
        blockers.push(Blocker {
            step: BlockerStep::Prompt,
            message: "The user message is empty: write what the model is asked for each row."
                .into(),
        });
    }
    for (part, source) in [
        (PromptPart::System, &prompt.system),
        (PromptPart::User, &prompt.user),
    ] {
        if let Some(issue) = rowbench_template::check(source, &names).into_iter().next() {
            blockers.push(Blocker {
                step: BlockerStep::Prompt,
                message: format!(
                    "In the {}, line {}, column {}: {}",
                    part.label(),
                    issue.line,
                    issue.column,
                    issue.message
                ),
            });
        }
    }
    blockers
}

#[cfg(test)]
mod tests {
    use super::*;
    use rowbench_schema::{FieldType, SchemaField};

    fn field(name: &str) -> SchemaField {
        SchemaField {
            name: name.into(),
            kind: FieldType::Boolean,
            description: String::new(),
            required: true,
        }
    }

    fn recipe() -> Recipe {
        let mut mapping = ColumnMapping::from_headers(&["id", "Review Text", "lang"]);
        mapping.columns[0].role = Role::Ignore;
        mapping.columns[2].role = Role::Param { key: "lang".into() };
        Recipe {
            prompt: PromptDraft {
                system: "Answer in {{ system_params.lang }}.".into(),
                user: "{{ row[\"Review Text\"] }}".into(),
            },
            mapping,
            schema: ResponseSchema {
                fields: vec![field("positive")],
            },
            settings: RunSettings::new("demo", "demo"),
        }
    }

    fn cells(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn a_schema_without_fields_blocks_with_one_full_stop() {
        let mut r = recipe();
        r.schema.fields.clear();
        let blockers = r.blockers();
        let schema = blockers
            .iter()
            .find(|b| b.step == BlockerStep::Schema)
            .expect("a schema blocker");
        assert_eq!(
            schema.message,
            "Add at least one field for the model to fill in."
        );
    }

    #[test]
    fn a_complete_recipe_has_no_blockers_and_renders_a_row() {
        let recipe = recipe();
        assert_eq!(recipe.blockers(), []);
        let messages = recipe
            .render(&cells(&["1", "Great & cheap", "fr"]))
            .expect("renders");
        assert_eq!(messages.system, "Answer in fr.");
        assert_eq!(messages.user, "Great & cheap");
    }

    #[test]
    fn a_gold_column_for_a_field_the_schema_lacks_blocks_the_columns_step() {
        let mut r = recipe();
        r.mapping.columns[0].gold_for = Some("positive".into());
        assert_eq!(r.blockers(), [], "column 0 is ignored and the field exists");
        r.mapping.columns[0].gold_for = Some("sentiment".into());
        let blockers = r.blockers();
        assert_eq!(blockers.len(), 1, "{blockers:?}");
        assert_eq!(blockers[0].step, BlockerStep::Columns);
        assert!(
            blockers[0].message.contains("\"sentiment\""),
            "{blockers:?}"
        );
        // A gold column never reaches the prompt, even when the template names it.
        let context = r.context(&cells(&["secret gold", "text", "de"]));
        assert!(context.columns.iter().all(|(_, v)| v != "secret gold"));
    }

    #[test]
    fn ignored_columns_are_not_in_the_context_and_params_are_under_their_key() {
        let context = recipe().context(&cells(&["1", "text", "de"]));
        assert_eq!(
            context.columns,
            [("Review Text".to_string(), "text".to_string())]
        );
        assert_eq!(context.params, [("lang".to_string(), "de".to_string())]);
    }

    #[test]
    fn an_unknown_name_blocks_the_prompt_step_with_its_position() {
        let mut recipe = recipe();
        recipe.prompt.user = "Text:\n{{ row[\"Review Txt\"] }}".into();
        let blockers = recipe.blockers();
        assert_eq!(blockers.len(), 1, "{blockers:?}");
        assert_eq!(blockers[0].step, BlockerStep::Prompt);
        assert!(
            blockers[0]
                .message
                .starts_with("In the user message, line 2, column"),
            "{}",
            blockers[0].message
        );
    }

    #[test]
    fn an_empty_user_message_and_an_empty_schema_each_block_their_step() {
        let mut recipe = recipe();
        recipe.prompt.user = "  ".into();
        recipe.schema.fields.clear();
        let steps: Vec<BlockerStep> = recipe.blockers().iter().map(|b| b.step).collect();
        assert_eq!(steps, [BlockerStep::Prompt, BlockerStep::Schema]);
    }

    #[test]
    fn a_duplicate_field_name_blocks_the_schema_step() {
        let mut recipe = recipe();
        recipe.schema.fields.push(field("positive"));
        let blockers = recipe.blockers();
        assert_eq!(blockers.len(), 1);
        assert_eq!(blockers[0].step, BlockerStep::Schema);
        assert!(
            blockers[0].message.starts_with("Field 2: "),
            "{}",
            blockers[0].message
        );
    }

    #[test]
    fn an_invalid_mapping_blocks_the_columns_step_naming_the_column() {
        let mut recipe = recipe();
        recipe.mapping.columns[2].role = Role::Param { key: "1x".into() };
        let blockers = recipe.blockers();
        assert_eq!(blockers[0].step, BlockerStep::Columns);
        assert!(
            blockers[0].message.starts_with("Column \"lang\": "),
            "{}",
            blockers[0].message
        );
    }

    #[test]
    fn the_default_prompt_uses_every_included_column_and_passes_its_own_checks() {
        let recipe = recipe();
        let prompt = PromptDraft::default_for(&recipe.mapping);
        assert!(prompt.user.contains("Review Text"));
        assert!(!prompt.user.contains("lang"));
        assert_eq!(prompt_blockers(&prompt, &recipe.mapping), []);
    }

    #[test]
    fn a_row_shorter_than_the_header_renders_its_missing_cells_as_empty() {
        let recipe = recipe();
        let messages = recipe.render(&cells(&["1"])).expect("renders");
        assert_eq!(messages.user, "");
    }
}
