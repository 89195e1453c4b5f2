//! A batch's page: its header facts, the queue table, one row's drill-down, the answer charts,
//! and the buttons (pause, resume, cancel, retry, run the rows a trial left out, clone, delete).
//! Every one of these but the clones has a JSON twin under `/api/batches`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the page shows above the table; the live figures then arrive as progress events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchFacts {
    pub columns: Vec<String>,
    /// Positions of the key columns, searched.
    pub key_columns: Vec<usize>,
    /// Positions of the columns the table shows: the key columns and those sent to the model.
    pub shown_columns: Vec<usize>,
    /// Schema field names and their kind (`string`, `enum`, `boolean`…), in schema order.
    pub fields: Vec<(String, String)>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub pause_reason: Option<String>,
    pub started_at_ms: i64,
    /// How long the batch ran, once it has ended.
    pub ran_for_ms: Option<i64>,
    /// Set while the batch is a trial over the first rows of its dataset.
    pub trial: Option<Trial>,
}

/// A batch that runs only the first rows of its dataset ("Test on the first N rows").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trial {
    /// The rows the trial covers.
    pub rows: i64,
    /// The rows of its dataset.
    pub dataset_rows: i64,
}

/// One line of the queue table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueLine {
    pub row_index: i64,
    pub status: String,
    /// The shown columns' cells, each cut to [`CELL_CHARS`] (the drill-down has them whole).
    pub cells: Vec<String>,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub latency_ms: Option<i64>,
    /// Every answer field, as text, cut like the cells.
    pub answers: Vec<String>,
    pub error: Option<String>,
}

/// A page of the queue table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub lines: Vec<QueueLine>,
    pub has_more: bool,
}

/// Rows per page of the queue table.
pub const QUEUE_PAGE: u32 = 50;

/// The most characters of a cell or answer the queue table gets: a page of 1 MB cells would be
/// 50 MB, and the table shows a line of each anyway.
pub const CELL_CHARS: usize = 300;

/// `text` cut to [`CELL_CHARS`] characters, with an ellipsis when something was cut.
pub fn cut(text: &str) -> String {
    match text.char_indices().nth(CELL_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Positions of the columns the queue table shows: key columns and the ones the model reads
/// (in the prompt or as a parameter), in column order.
#[cfg(feature = "ssr")]
fn shown_columns(mapping: &rowbench_mapping::ColumnMapping) -> Vec<usize> {
    mapping
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_key || c.role != rowbench_mapping::Role::Ignore)
        .map(|(i, _)| i)
        .collect()
}

/// One provider call, as the attempts timeline shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptLine {
    pub claim: i64,
    pub call_no: i64,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub error: Option<String>,
    pub started: String,
    pub request: Option<String>,
    pub raw_response: Option<String>,
}

/// Everything about one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowDrill {
    pub row_index: i64,
    pub status: String,
    pub cells: Vec<(String, String)>,
    pub answers: Vec<(String, String)>,
    pub system: Option<String>,
    pub user: Option<String>,
    pub error: Option<String>,
    pub attempts: Vec<AttemptLine>,
    /// The answers retries replaced, oldest first.
    pub earlier: Vec<EarlierLine>,
}

/// An answer (or error) a row had before it was retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierLine {
    pub claim: i64,
    pub status: String,
    pub answers: Vec<(String, String)>,
    pub error: Option<String>,
    pub finished: Option<String>,
    pub replaced: String,
    pub cost_usd: Option<f64>,
}

/// One chart: answer counts for an enum or boolean field, a histogram for a number field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub field: String,
    pub bars: Vec<(String, i64)>,
    pub is_histogram: bool,
}

/// Text for an answer value in a table cell: strings bare, lists joined, the rest as JSON.
pub fn answer_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Everything the batch page's first screen shows, loaded as one: the page awaits this one
/// resource, so its server rendering never has two in flight (see `components::refresh`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchScreenData {
    pub view: crate::api::batches::BatchView,
    pub facts: BatchFacts,
    pub charts: Vec<Chart>,
    /// The table's first page, every state.
    pub queue: QueuePage,
}

#[server(prefix = "/rpc", endpoint = "batch_screen")]
pub async fn load_batch_screen(id: i64) -> Result<BatchScreenData, AppError> {
    let view = crate::api::batches::load_batch(id).await?;
    let facts = fetch_batch_facts(id).await?;
    let charts = batch_charts(id).await?;
    let queue = fetch_queue_page(id, None, String::new(), None, None).await?;
    Ok(BatchScreenData {
        view,
        facts,
        charts,
        queue,
    })
}

#[server(prefix = "/rpc", endpoint = "batch_facts")]
pub async fn fetch_batch_facts(id: i64) -> Result<BatchFacts, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let (config, started) = ssr::config(&state, id).await?;
    let totals = rowbench_store::queue::totals(&state.db, id).await?;
    let ran_for_ms = rowbench_store::progress::progress_stamp(&state.db, id)
        .await?
        .and_then(|stamp| stamp.ran_for_ms);
    let trial = ssr::trial(&state, id, &config).await?;
    Ok(BatchFacts {
        trial,
        key_columns: config
            .recipe
            .mapping
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_key)
            .map(|(i, _)| i)
            .collect(),
        shown_columns: shown_columns(&config.recipe.mapping),
        columns: config.columns,
        fields: config
            .recipe
            .schema
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.kind.kind_id().to_string()))
            .collect(),
        input_tokens: totals.input_tokens,
        output_tokens: totals.output_tokens,
        cost_usd: totals.cost_usd,
        pause_reason: totals.pause_reason,
        started_at_ms: started,
        ran_for_ms,
    })
}

#[server(prefix = "/rpc", endpoint = "queue_page")]
pub async fn fetch_queue_page(
    id: i64,
    status: Option<String>,
    search: String,
    after: Option<i64>,
    before: Option<i64>,
) -> Result<QueuePage, AppError> {
    use rowbench_store::batch_view::{QueueFilter, queue_page};
    let state = crate::server::ServerState::from_context()?;
    let (config, _) = ssr::config(&state, id).await?;
    let keys: Vec<usize> = config
        .recipe
        .mapping
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_key)
        .map(|(i, _)| i)
        .collect();
    let status = match status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(
            rowbench_store::queue::RowStatus::parse(s)
                .ok_or_else(|| AppError::Invalid(format!("\"{s}\" is not a row state.")))?,
        ),
    };
    let filter = QueueFilter {
        status,
        search: Some((&keys, search.as_str())),
        after,
        before,
        limit: QUEUE_PAGE + 1,
    };
    let Some(mut rows) = queue_page(&state.db, state.user(), id, filter).await? else {
        return Err(AppError::NotFound(format!("Batch {id}")));
    };
    let has_more = rows.len() > QUEUE_PAGE as usize;
    if has_more {
        if before.is_some() {
            rows.remove(0);
        } else {
            rows.truncate(QUEUE_PAGE as usize);
        }
    }
    let fields: Vec<String> = config
        .recipe
        .schema
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let shown = shown_columns(&config.recipe.mapping);
    let lines = rows
        .into_iter()
        .map(|r| QueueLine {
            row_index: r.row_index,
            status: r.status.as_str().to_string(),
            cells: shown
                .iter()
                .map(|&i| r.cells.get(i).map(|c| cut(c)).unwrap_or_default())
                .collect(),
            started: r.started_at.map(crate::server::display_time),
            finished: r.finished_at.map(crate::server::display_time),
            latency_ms: r.latency_ms,
            answers: fields
                .iter()
                .map(|f| {
                    r.result
                        .as_ref()
                        .and_then(|v| v.get(f))
                        .map(|v| cut(&answer_text(v)))
                        .unwrap_or_default()
                })
                .collect(),
            error: r.error,
        })
        .collect();
    Ok(QueuePage { lines, has_more })
}

#[server(prefix = "/rpc", endpoint = "row_drill")]
pub async fn fetch_row_drill(id: i64, row: i64) -> Result<RowDrill, AppError> {
    let state = crate::server::ServerState::from_context()?;
    let (config, _) = ssr::config(&state, id).await?;
    let Some(detail) = rowbench_store::queue::row_detail(&state.db, state.user(), id, row).await?
    else {
        return Err(AppError::NotFound(format!("Row {}", row + 1)));
    };
    let cells = detail.cells.clone().unwrap_or_default();
    let messages = config.recipe.render(&cells).ok();
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let answers = |result: Option<&serde_json::Value>| -> Vec<(String, String)> {
        config
            .recipe
            .schema
            .fields
            .iter()
            .map(|f| {
                let value = result.and_then(|v| v.get(&f.name));
                (f.name.clone(), value.map(answer_text).unwrap_or_default())
            })
            .collect()
    };
    let earlier = detail
        .earlier
        .iter()
        .map(|e| EarlierLine {
            claim: e.claim,
            status: e.status.as_str().to_string(),
            answers: e
                .result
                .as_ref()
                .map(|r| answers(Some(r)))
                .unwrap_or_default(),
            error: e.error.clone(),
            finished: e.finished_at.map(crate::server::display_time),
            replaced: crate::server::display_time(e.replaced_at),
            cost_usd: e.cost_usd,
        })
        .collect();
    Ok(RowDrill {
        earlier,
        row_index: detail.row_index,
        status: detail.status.as_str().to_string(),
        cells: config.columns.iter().cloned().zip(cells).collect(),
        answers: answers(detail.result.as_ref()),
        system: messages.as_ref().map(|m| m.system.clone()),
        user: messages.map(|m| m.user),
        error: detail.error,
        attempts: detail
            .attempts
            .into_iter()
            .map(|a| AttemptLine {
                claim: a.claim,
                call_no: a.call_no,
                outcome: serde_json::to_value(a.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                http_status: a.http_status,
                latency_ms: a.latency_ms,
                input_tokens: a.input_tokens,
                output_tokens: a.output_tokens,
                cost_usd: a.cost_usd,
                error: a.error,
                started: crate::server::display_time(a.started_at),
                request: a.request.as_ref().map(pretty),
                raw_response: a.raw_response,
            })
            .collect(),
    })
}

/// Bars of each enum and boolean field, histograms of number fields.
#[server(prefix = "/rpc", endpoint = "batch_charts")]
pub async fn batch_charts(id: i64) -> Result<Vec<Chart>, AppError> {
    use rowbench_store::batch_view::Chart as Data;
    let state = crate::server::ServerState::from_context()?;
    let (config, _) = ssr::config(&state, id).await?;
    let charts = answer_charts(&state, id, &config.recipe.schema).await?;
    Ok(charts
        .into_iter()
        .map(|(field, data)| match data {
            Data::Counts(bars) => Chart {
                field,
                bars,
                is_histogram: false,
            },
            Data::Histogram(bins) => Chart {
                field,
                bars: bins
                    .into_iter()
                    .map(|(lo, hi, n)| (format!("{} – {}", short_number(lo), short_number(hi)), n))
                    .collect(),
                is_histogram: true,
            },
        })
        .collect())
}

/// The charts of a batch's answers, for the page and its JSON twin: for each enum and boolean
/// field of `schema` the 12 most frequent answers, for each number field 10 bins.
#[cfg(feature = "ssr")]
pub async fn answer_charts(
    state: &crate::server::ServerState,
    id: i64,
    schema: &rowbench_schema::ResponseSchema,
) -> Result<Vec<(String, rowbench_store::batch_view::Chart)>, rowbench_store::StoreError> {
    use rowbench_schema::FieldType;
    use rowbench_store::batch_view::ChartKind;
    let fields: Vec<(&str, ChartKind)> = schema
        .fields
        .iter()
        .filter_map(|field| {
            let kind = match field.kind {
                FieldType::Enum { .. } | FieldType::Boolean => ChartKind::Counts,
                FieldType::Number | FieldType::Integer => ChartKind::Histogram,
                FieldType::String | FieldType::StringList => return None,
            };
            Some((field.name.as_str(), kind))
        })
        .collect();
    let charts = state
        .charts
        .answer_charts(&state.db, id, &fields, 12, 10)
        .await?;
    Ok(fields
        .into_iter()
        .map(|(name, _)| name.to_owned())
        .zip(charts)
        .collect())
}

#[cfg(feature = "ssr")]
fn short_number(x: f64) -> String {
    if x.fract().abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// `pause`, `resume`, `cancel` or `retry-failed`.
#[server(prefix = "/rpc", endpoint = "control_batch")]
pub async fn control_batch(id: i64, action: String) -> Result<(), AppError> {
    use rowbench_store::queue;
    let state = crate::server::ServerState::from_context()?;
    let owner = state.user();
    let done = match action.as_str() {
        "pause" => queue::pause(&state.db, owner, id, None).await?,
        "resume" => queue::resume(&state.db, owner, id).await?,
        "cancel" => queue::cancel(&state.db, owner, id).await?,
        "retry-failed" => queue::retry_failed(&state.db, owner, id).await?,
        other => {
            return Err(AppError::Invalid(format!(
                "\"{other}\" is not a batch action."
            )));
        }
    };
    if !done {
        return Err(AppError::Invalid(format!(
            "The batch cannot {} in its current state.",
            action.replace('-', " ")
        )));
    }
    state.wake.notify_one();
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "retry_batch_row")]
pub async fn retry_batch_row(id: i64, row: i64) -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    if !rowbench_store::queue::retry_row(&state.db, state.user(), id, row).await? {
        return Err(AppError::Invalid(format!(
            "Row {} is still waiting or running; it can be retried once it has finished.",
            row + 1
        )));
    }
    state.wake.notify_one();
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "delete_batch")]
pub async fn delete_batch(id: i64) -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    if !rowbench_store::batches::delete_batch(&state.db, state.user(), id).await? {
        return Err(AppError::NotFound(format!("Batch {id}")));
    }
    Ok(())
}

/// Makes this session's draft a copy of the batch's recipe and dataset ("run again with
/// changes"); the wizard opens on Review.
#[server(prefix = "/rpc", endpoint = "clone_batch")]
pub async fn clone_batch(id: i64) -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    ssr::copy_recipe_into_draft(&state, id).await?;
    Ok(())
}

/// "Change the prompt and try again" after a trial: the session's draft becomes a copy of the
/// batch's recipe, its trial setting included, and the wizard opens on the Prompt step.
#[server(prefix = "/rpc", endpoint = "retry_trial_with_changes")]
pub async fn retry_trial_with_changes(id: i64) -> Result<(), AppError> {
    let state = crate::server::ServerState::from_context()?;
    let draft = ssr::copy_recipe_into_draft(&state, id).await?;
    let step = crate::wizard_step::WizardStep::Prompt.slug();
    rowbench_store::drafts::set_step(&state.db, state.user(), draft, step).await?;
    Ok(())
}

/// "Run the remaining rows" of a trial: the same batch goes on over every row of its dataset,
/// the trial's answers kept.
#[server(prefix = "/rpc", endpoint = "run_remaining_rows")]
pub async fn run_remaining_rows(id: i64) -> Result<(), AppError> {
    use rowbench_store::batches::RunRemaining;
    let state = crate::server::ServerState::from_context()?;
    match rowbench_store::batches::run_remaining(&state.db, state.user(), id).await? {
        RunRemaining::Extended { .. } => {
            state.wake.notify_one();
            Ok(())
        }
        RunRemaining::NotFound => Err(AppError::NotFound(format!("Batch {id}"))),
        RunRemaining::NotLimited => Err(AppError::Invalid(
            "This batch already covers every row of its dataset: there are no remaining rows to run."
                .into(),
        )),
        RunRemaining::Cancelled => Err(AppError::Invalid(
            "This batch was cancelled, so its remaining rows cannot be run. Clone it into a new draft to run it again."
                .into(),
        )),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use rowbench_recipe::BatchConfig;

    use crate::error::AppError;
    use crate::server::ServerState;

    /// Makes the session's draft a copy of the `id` batch's recipe and dataset; the draft's id.
    pub async fn copy_recipe_into_draft(state: &ServerState, id: i64) -> Result<i64, AppError> {
        let Some(batch) = rowbench_store::batches::find(&state.db, state.user(), id).await? else {
            return Err(AppError::NotFound(format!("Batch {id}")));
        };
        let config: BatchConfig = serde_json::from_value(batch.config).map_err(|_| {
            AppError::Invalid("This batch's recipe cannot be read any more.".into())
        })?;
        let Some(dataset_id) = batch.dataset_id else {
            return Err(AppError::Invalid(
                "This batch has no dataset to run again.".into(),
            ));
        };
        let recipe = config.recipe;
        let draft_state = serde_json::json!({
            "dataset_id": dataset_id,
            "mapping": recipe.mapping,
            "prompt": recipe.prompt,
            "schema": recipe.schema,
            "settings": recipe.settings,
        });
        let session = leptos_axum::extract::<tower_sessions::Session>().await?;
        let draft =
            crate::api::drafts::ssr::session_draft(&state.db, state.user(), &session).await?;
        rowbench_store::drafts::replace_state(&state.db, state.user(), draft.id, &draft_state)
            .await?;
        Ok(draft.id)
    }

    /// The trial the batch is, if it runs only the first rows of its dataset (a batch whose
    /// remaining rows were added is no longer one: its settings' `first_rows` was lifted).
    pub async fn trial(
        state: &ServerState,
        id: i64,
        config: &BatchConfig,
    ) -> Result<Option<super::Trial>, AppError> {
        if config.recipe.settings.first_rows.is_none() {
            return Ok(None);
        }
        let Some(batch) = rowbench_store::batches::find(&state.db, state.user(), id).await? else {
            return Err(AppError::NotFound(format!("Batch {id}")));
        };
        let Some(dataset_id) = batch.dataset_id else {
            return Ok(None);
        };
        let dataset = rowbench_store::datasets::find(&state.db, state.user(), dataset_id).await?;
        Ok(dataset
            .filter(|d| batch.summary.total_rows < d.row_count)
            .map(|d| super::Trial {
                rows: batch.summary.total_rows,
                dataset_rows: d.row_count,
            }))
    }

    /// The batch's frozen configuration and start time, if the batch is the user's.
    pub async fn config(state: &ServerState, id: i64) -> Result<(BatchConfig, i64), AppError> {
        let Some(batch) = rowbench_store::batches::find(&state.db, state.user(), id).await? else {
            return Err(AppError::NotFound(format!("Batch {id}")));
        };
        let config = serde_json::from_value(batch.config).map_err(|e| {
            tracing::error!(batch_id = id, error = %e, "unreadable batch configuration");
            AppError::Internal
        })?;
        Ok((config, batch.summary.created_at.as_millis()))
    }
}
