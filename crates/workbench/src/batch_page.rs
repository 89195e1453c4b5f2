//! A batch's page and its JSON twins: the facts above the table, the queue table (filtered,
//! searched, keyset-paged), one row's drill-down, and the answer charts.

use serde::{Deserialize, Serialize};

use crate::batches::BatchView;
use crate::limits::CELL_CHARS;

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
    /// What a reviewer's editor needs of each field, in the same order.
    pub editors: Vec<FieldEditor>,
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

/// One answer field as the review editor edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEditor {
    pub name: String,
    /// `string`, `number`, `integer`, `boolean`, `enum` or `string_list`.
    pub kind: String,
    /// An enum's options, in order (the digits pick them).
    pub options: Vec<String>,
    pub required: bool,
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
    /// Every answer field, as text, cut like the cells: the reviewed answer where a person
    /// fixed or accepted it, else the model's.
    pub answers: Vec<String>,
    /// Per field, the model's answer where a fix changed it (for the cell's tooltip).
    pub model_answers: Vec<Option<String>>,
    /// The whole answer the editor starts from (reviewed, else the model's).
    pub answer: Option<serde_json::Value>,
    /// `accepted`, `fixed` or `rejected`, once someone reviewed the row.
    pub review: Option<String>,
    /// The model answered the row again after it was reviewed.
    pub model_changed: bool,
    pub error: Option<String>,
}

/// The review filters of the queue table, as the address names them (`all` for none).
pub const REVIEW_FILTERS: [&str; 5] = ["all", "unreviewed", "accepted", "fixed", "rejected"];

/// What a review decision is called in the table, the export and the filters.
pub fn review_label(decision: &str) -> &'static str {
    match decision {
        "accept" => "accepted",
        "fix" => "fixed",
        _ => "rejected",
    }
}

/// A page of the queue table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub lines: Vec<QueueLine>,
    pub has_more: bool,
}

/// `text` cut to [`CELL_CHARS`] characters, with an ellipsis when something was cut.
pub fn cut(text: &str) -> String {
    match text.char_indices().nth(CELL_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
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
    /// A person's review of the answer, if any.
    pub review: Option<crate::reviews::ReviewView>,
    /// The worked examples a re-run shows the row (they are in `system`), if any.
    pub examples: Option<crate::reruns::RowExamples>,
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
/// resource, so its server rendering never has two in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchScreenData {
    pub view: BatchView,
    pub facts: BatchFacts,
    pub charts: Vec<Chart>,
    /// The table's first page, every state.
    pub queue: QueuePage,
    /// Whether the reader may act on the batch (pause, cancel, retry, delete, clone); a
    /// viewer sees no such buttons.
    pub can_edit: bool,
}

#[cfg(feature = "server")]
pub use rowbench_store::batch_view::ReviewFilter;
#[cfg(feature = "server")]
pub use rowbench_store::queue::RowStatus;
#[cfg(feature = "server")]
pub(crate) use server::key_columns;
#[cfg(feature = "server")]
pub use server::{AnswerCount, Bin, ChartData, FieldChart, QueueQuery, RowAnswer, RowsPage};

#[cfg(feature = "server")]
mod server {
    use rowbench_recipe::{BatchConfig, RenderedPrompt};
    use rowbench_schema::{FieldType, ResponseSchema};
    use rowbench_store::batch_view::{
        Chart as Data, ChartKind, QueueFilter, QueueRow, ReviewFilter, queue_page,
    };
    use rowbench_store::queue::{self, RowDetail, RowStatus};
    use serde::Serialize;

    use super::{
        AttemptLine, BatchFacts, BatchScreenData, Chart, EarlierLine, FieldEditor, QueueLine,
        QueuePage, RowDrill, Trial, answer_text, cut, review_label,
    };
    use crate::error::{Error, Result};
    use crate::limits::QUEUE_PAGE;
    use crate::{Actor, Workbench, display_time};

    /// Which rows of a batch's queue to read.
    #[derive(Debug, Clone, Default)]
    pub struct QueueQuery {
        pub status: Option<RowStatus>,
        pub review: Option<ReviewFilter>,
        /// Only the rows of the batch's review sample.
        pub sample: bool,
        /// Text looked for (case-insensitively) in the batch's key columns.
        pub search: String,
        pub after: Option<i64>,
        pub before: Option<i64>,
        pub limit: u32,
    }

    /// A page of `GET /api/batches/{id}/rows`.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct RowsPage {
        pub rows: Vec<QueueRow>,
        /// Where the next page starts; `None` on the last one.
        pub next_after: Option<i64>,
    }

    /// One row as `GET /api/batches/{id}/rows/{row}` answers it: its record, and the prompt it
    /// was sent (or why it could not be made) when its dataset row still exists.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct RowAnswer {
        #[serde(flatten)]
        pub detail: RowDetail,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub columns: Option<Vec<String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub messages: Option<RenderedPrompt>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub messages_error: Option<String>,
        /// A person's review of the answer, beside the model's `result` (`null` if none).
        pub review: Option<crate::reviews::ReviewView>,
        /// The worked examples a re-run shows the row, if it had any.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub examples: Option<crate::reruns::RowExamples>,
    }

    /// One field's chart as `GET /api/batches/{id}/charts` answers it.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct FieldChart {
        pub field: String,
        #[serde(flatten)]
        pub data: ChartData,
    }

    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum ChartData {
        /// How many succeeded rows gave each answer, most first.
        Counts { counts: Vec<AnswerCount> },
        /// Equal bins over the answers' range.
        Histogram { bins: Vec<Bin> },
    }

    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct AnswerCount {
        pub answer: String,
        pub rows: i64,
    }

    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Bin {
        pub from: f64,
        pub to: f64,
        pub rows: i64,
    }

    /// Positions of the key columns, which the queue's search looks in.
    pub(crate) fn key_columns(config: &BatchConfig) -> Vec<usize> {
        config
            .recipe
            .mapping
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_key)
            .map(|(i, _)| i)
            .collect()
    }

    /// Positions of the columns the queue table shows: key columns and the ones the model reads
    /// (in the prompt or as a parameter), in column order.
    fn shown_columns(config: &BatchConfig) -> Vec<usize> {
        config
            .recipe
            .mapping
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_key || c.role != rowbench_mapping::Role::Ignore)
            .map(|(i, _)| i)
            .collect()
    }

    /// One line of the queue table from its stored row.
    fn queue_line(r: QueueRow, fields: &[&str], shown: &[usize]) -> QueueLine {
        let text = |answer: Option<&serde_json::Value>, field: &str| {
            answer
                .and_then(|v| v.get(field))
                .map(|v| cut(&answer_text(v)))
                .unwrap_or_default()
        };
        // A rejected row shows the model's answer it rejected; the others what was vouched for.
        let vouched = r
            .review
            .as_ref()
            .and_then(|v| v.answer.as_ref())
            .or(r.result.as_ref());
        let fixed = r.review.as_ref().is_some_and(|v| v.decision == "fix");
        QueueLine {
            row_index: r.row_index,
            status: r.status.as_str().to_string(),
            cells: shown
                .iter()
                .map(|&i| r.cells.get(i).map(|c| cut(c)).unwrap_or_default())
                .collect(),
            started: r.started_at.map(display_time),
            finished: r.finished_at.map(display_time),
            latency_ms: r.latency_ms,
            answers: fields.iter().map(|f| text(vouched, f)).collect(),
            model_answers: fields
                .iter()
                .map(|f| {
                    let model = r.result.as_ref().and_then(|v| v.get(*f));
                    let mine = vouched.and_then(|v| v.get(*f));
                    (fixed && model != mine).then(|| text(r.result.as_ref(), f))
                })
                .collect(),
            answer: vouched.cloned(),
            review: r
                .review
                .as_ref()
                .map(|v| review_label(&v.decision).to_string()),
            model_changed: r.review.as_ref().is_some_and(|v| r.attempt > v.attempt),
            error: r.error,
        }
    }

    fn short_number(x: f64) -> String {
        if x.fract().abs() < 1e-9 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    }

    impl Workbench {
        /// The batch page's first screen as one answer.
        pub async fn batch_screen(&self, actor: &Actor, id: i64) -> Result<BatchScreenData> {
            let view = self.batch_view(actor, id).await?;
            let facts = self.batch_facts(actor, id).await?;
            let charts = self.page_charts(actor, id).await?;
            let queue = self
                .queue_page(
                    actor,
                    id,
                    QueueQuery {
                        limit: QUEUE_PAGE,
                        ..QueueQuery::default()
                    },
                )
                .await?;
            Ok(BatchScreenData {
                view,
                facts,
                charts,
                queue,
                can_edit: actor.can_edit(),
            })
        }

        /// What the page shows above the queue table.
        pub async fn batch_facts(&self, actor: &Actor, id: i64) -> Result<BatchFacts> {
            let batch = self.stored_batch(actor, id).await?;
            let totals = queue::totals(&self.db, id).await?;
            let ran_for_ms = rowbench_store::progress::progress_stamp(&self.db, id)
                .await?
                .and_then(|stamp| stamp.ran_for_ms);
            let trial = self.trial(actor, &batch).await?;
            let config = &batch.config;
            Ok(BatchFacts {
                trial,
                key_columns: key_columns(config),
                shown_columns: shown_columns(config),
                columns: config.columns.clone(),
                fields: config
                    .recipe
                    .schema
                    .fields
                    .iter()
                    .map(|f| (f.name.clone(), f.kind.kind_id().to_string()))
                    .collect(),
                editors: config
                    .recipe
                    .schema
                    .fields
                    .iter()
                    .map(|f| FieldEditor {
                        name: f.name.clone(),
                        kind: f.kind.kind_id().to_string(),
                        options: match &f.kind {
                            FieldType::Enum { options } => options.clone(),
                            _ => Vec::new(),
                        },
                        required: f.required,
                    })
                    .collect(),
                input_tokens: totals.input_tokens,
                output_tokens: totals.output_tokens,
                cost_usd: totals.cost_usd,
                pause_reason: totals.pause_reason,
                started_at_ms: batch.summary.created_at.as_millis(),
                ran_for_ms,
            })
        }

        /// The trial the batch is, if it runs only the first rows of its dataset (a batch whose
        /// remaining rows were added is no longer one: its settings' `first_rows` was lifted).
        async fn trial(
            &self,
            actor: &Actor,
            batch: &rowbench_store::batches::Batch,
        ) -> Result<Option<Trial>> {
            if batch.config.recipe.settings.first_rows.is_none() {
                return Ok(None);
            }
            let Some(dataset_id) = batch.dataset_id else {
                return Ok(None);
            };
            let dataset =
                rowbench_store::datasets::find(&self.db, actor.owner(), dataset_id).await?;
            Ok(dataset
                .filter(|d| batch.summary.total_rows < d.row_count)
                .map(|d| Trial {
                    rows: batch.summary.total_rows,
                    dataset_rows: d.row_count,
                }))
        }

        /// Rows of batch `id`'s queue as stored, `query.limit` of them at most, with the batch's
        /// configuration they are read with.
        async fn queue_rows(
            &self,
            actor: &Actor,
            id: i64,
            query: &QueueQuery,
        ) -> Result<(Vec<QueueRow>, BatchConfig)> {
            let batch = self.stored_batch(actor, id).await?;
            let keys = key_columns(&batch.config);
            let filter = QueueFilter {
                status: query.status,
                review: query.review,
                sample: query.sample,
                search: Some((&keys, query.search.as_str())),
                after: query.after,
                before: query.before,
                limit: query.limit,
            };
            let Some(rows) = queue_page(&self.db, actor.owner(), id, filter).await? else {
                return Err(Error::not_found(format!("Batch {id}")));
            };
            Ok((rows, batch.config))
        }

        /// A page of the queue as the JSON API answers it.
        pub async fn rows_page(
            &self,
            actor: &Actor,
            id: i64,
            query: QueueQuery,
        ) -> Result<RowsPage> {
            let (rows, _) = self.queue_rows(actor, id, &query).await?;
            let next_after = (rows.len() == query.limit as usize)
                .then(|| rows.last().map(|r| r.row_index))
                .flatten();
            Ok(RowsPage { rows, next_after })
        }

        /// A page of the queue table (`query.limit` lines; one more is read to know whether
        /// there are more).
        pub async fn queue_page(
            &self,
            actor: &Actor,
            id: i64,
            query: QueueQuery,
        ) -> Result<QueuePage> {
            let limit = query.limit;
            let backwards = query.before.is_some();
            let read = QueueQuery {
                limit: limit + 1,
                ..query
            };
            let (mut rows, config) = self.queue_rows(actor, id, &read).await?;
            let has_more = rows.len() > limit as usize;
            if has_more {
                if backwards {
                    rows.remove(0);
                } else {
                    rows.truncate(limit as usize);
                }
            }
            let fields: Vec<&str> = config.recipe.schema.field_names().collect();
            let shown = shown_columns(&config);
            let lines = rows
                .into_iter()
                .map(|r| queue_line(r, &fields, &shown))
                .collect();
            Ok(QueuePage { lines, has_more })
        }

        /// Row `row` (0-based) of batch `id` as one line of the queue table.
        pub async fn queue_line(&self, actor: &Actor, id: i64, row: i64) -> Result<QueueLine> {
            let query = QueueQuery {
                after: Some(row.saturating_sub(1)),
                limit: 1,
                ..QueueQuery::default()
            };
            self.queue_page(actor, id, query)
                .await?
                .lines
                .into_iter()
                .find(|l| l.row_index == row)
                .ok_or_else(|| {
                    Error::not_found(format!("Row {} of batch {id}", row.saturating_add(1)))
                })
        }

        /// Row `row` (0-based) of batch `id`: its record, cells, calls and earlier answers, and
        /// the prompt it is sent.
        pub async fn row(
            &self,
            actor: &Actor,
            id: i64,
            row: i64,
        ) -> Result<(RowAnswer, BatchConfig)> {
            let batch = self.stored_batch(actor, id).await?;
            let Some(detail) = queue::row_detail(&self.db, actor.owner(), id, row).await? else {
                return Err(Error::not_found(format!(
                    "Row {} of batch {id}",
                    row.saturating_add(1)
                )));
            };
            let config = batch.config;
            let few_shots = match detail.few_shot {
                Some(generation) => Some((generation, self.few_shots(id, generation).await?)),
                None => None,
            };
            let examples = match (&few_shots, detail.cells.as_ref()) {
                (Some((generation, shots)), Some(cells)) => {
                    let set = shots.set();
                    Some(crate::reruns::RowExamples {
                        generation: *generation,
                        choose: set.choose,
                        by: set.by.clone(),
                        rows: shots
                            .pick(&config.recipe.mapping, row, cells)
                            .iter()
                            .map(|e| e.row_index)
                            .collect(),
                    })
                }
                _ => None,
            };
            let (columns, messages, messages_error) = match detail.cells.as_ref() {
                None => (None, None, None),
                Some(cells) => match config.recipe.render_with_examples(
                    row,
                    cells,
                    few_shots.as_ref().map(|(_, shots)| shots),
                ) {
                    Ok(messages) => (Some(config.columns.clone()), Some(messages), None),
                    Err((part, issue)) => (
                        Some(config.columns.clone()),
                        None,
                        Some(format!("{}: {}", part.label(), issue.message)),
                    ),
                },
            };
            let review = self.review_of(id, row, detail.attempt).await?;
            Ok((
                RowAnswer {
                    detail,
                    columns,
                    messages,
                    messages_error,
                    review,
                    examples,
                },
                config,
            ))
        }

        /// Row `row` of batch `id` as the drill-down shows it.
        pub async fn row_drill(&self, actor: &Actor, id: i64, row: i64) -> Result<RowDrill> {
            let (answer, config) = self.row(actor, id, row).await?;
            let RowAnswer {
                detail,
                messages,
                review,
                examples,
                ..
            } = answer;
            let pretty =
                |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
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
                    finished: e.finished_at.map(display_time),
                    replaced: display_time(e.replaced_at),
                    cost_usd: e.cost_usd,
                })
                .collect();
            let cells = detail.cells.clone().unwrap_or_default();
            Ok(RowDrill {
                review,
                examples,
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
                        started: display_time(a.started_at),
                        request: a.request.as_ref().map(pretty),
                        raw_response: a.raw_response,
                    })
                    .collect(),
            })
        }

        /// The charts of batch `id`'s answers: for each enum and boolean field the 12 most
        /// frequent answers, for each number field 10 bins.
        pub async fn charts(&self, actor: &Actor, id: i64) -> Result<Vec<FieldChart>> {
            let batch = self.stored_batch(actor, id).await?;
            let charts = self.answer_charts(id, &batch.config.recipe.schema).await?;
            Ok(charts
                .into_iter()
                .map(|(field, data)| FieldChart {
                    field,
                    data: match data {
                        Data::Counts(counts) => ChartData::Counts {
                            counts: counts
                                .into_iter()
                                .map(|(answer, rows)| AnswerCount { answer, rows })
                                .collect(),
                        },
                        Data::Histogram(bins) => ChartData::Histogram {
                            bins: bins
                                .into_iter()
                                .map(|(from, to, rows)| Bin { from, to, rows })
                                .collect(),
                        },
                    },
                })
                .collect())
        }

        /// The same charts as the page draws them: bars with their labels.
        pub async fn page_charts(&self, actor: &Actor, id: i64) -> Result<Vec<Chart>> {
            Ok(self
                .charts(actor, id)
                .await?
                .into_iter()
                .map(|chart| match chart.data {
                    ChartData::Counts { counts } => Chart {
                        field: chart.field,
                        bars: counts.into_iter().map(|c| (c.answer, c.rows)).collect(),
                        is_histogram: false,
                    },
                    ChartData::Histogram { bins } => Chart {
                        field: chart.field,
                        bars: bins
                            .into_iter()
                            .map(|b| {
                                (
                                    format!("{} – {}", short_number(b.from), short_number(b.to)),
                                    b.rows,
                                )
                            })
                            .collect(),
                        is_histogram: true,
                    },
                })
                .collect())
        }

        async fn answer_charts(
            &self,
            id: i64,
            schema: &ResponseSchema,
        ) -> Result<Vec<(String, Data)>> {
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
            let charts = self
                .charts
                .answer_charts(&self.db, id, &fields, 12, 10)
                .await?;
            Ok(fields
                .into_iter()
                .map(|(name, _)| name.to_owned())
                .zip(charts)
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_cell_is_cut_with_an_ellipsis_and_a_short_one_is_kept() {
        let long = "é".repeat(CELL_CHARS + 5);
        let cut_text = cut(&long);
        assert_eq!(cut_text.chars().count(), CELL_CHARS + 1);
        assert!(cut_text.ends_with('…'));
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn answers_read_as_text_strings_bare_and_lists_joined() {
        assert_eq!(answer_text(&serde_json::json!("yes")), "yes");
        assert_eq!(answer_text(&serde_json::json!(["a", 2])), "a; 2");
        assert_eq!(answer_text(&serde_json::json!(null)), "");
        assert_eq!(answer_text(&serde_json::json!(true)), "true");
    }
}
