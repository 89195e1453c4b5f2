//! A batch's page: its state and header facts, the queue table, one row's drill-down, the
//! answer charts, what the CSV export's formula guard will change, and the buttons (pause,
//! resume, cancel, retry, run the rows a trial left out, clone, delete).
//! Every one of these but the clones has a JSON twin under `/api/batches`; both answer from
//! the same use case of `rowbench_workbench`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
pub use rowbench_workbench::accuracy::{BatchAccuracy, FieldAccuracy};
pub use rowbench_workbench::batch_page::{
    AttemptLine, BatchFacts, BatchScreenData, Chart, EarlierLine, FieldEditor, QueueLine,
    QueuePage, REVIEW_FILTERS, RowDrill, Trial, answer_text, cut,
};
pub use rowbench_workbench::batches::BatchView;
pub use rowbench_workbench::comparisons::{
    AllRows, CompareRequest, CompareRows, CompareScreen, CompareStarted, ComparisonView,
    PromptOverride,
};
pub use rowbench_workbench::costs::{CostsElsewhere, ModelCost};
pub use rowbench_workbench::export::FormulaCount;
pub use rowbench_workbench::limits::{CELL_CHARS, QUEUE_PAGE, QUEUE_WINDOW};
pub use rowbench_workbench::reruns::{
    ExamplesRequest, MAX_EXAMPLES, RerunReport, RerunRequest, RerunScope, RowExamples,
};
pub use rowbench_workbench::samples::{MAX_SAMPLE, SampleReport};

use crate::error::AppError;

/// The batch `id` with its row counts.
#[server(prefix = "/rpc", endpoint = "load_batch")]
pub async fn load_batch(id: i64) -> Result<BatchView, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench.batch_view(&crate::server::actor()?, id).await?)
}

#[server(prefix = "/rpc", endpoint = "batch_screen")]
pub async fn load_batch_screen(id: i64) -> Result<BatchScreenData, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench.batch_screen(&crate::server::actor()?, id).await?)
}

#[server(prefix = "/rpc", endpoint = "batch_facts")]
pub async fn fetch_batch_facts(id: i64) -> Result<BatchFacts, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench.batch_facts(&crate::server::actor()?, id).await?)
}

#[server(prefix = "/rpc", endpoint = "queue_page")]
pub async fn fetch_queue_page(
    id: i64,
    status: Option<String>,
    review: Option<String>,
    sample: bool,
    search: String,
    after: Option<i64>,
    before: Option<i64>,
) -> Result<QueuePage, AppError> {
    let status = match status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(
            rowbench_workbench::batch_page::RowStatus::parse(s)
                .ok_or_else(|| AppError::Invalid(format!("\"{s}\" is not a row state.")))?,
        ),
    };
    let review = match review.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(
            rowbench_workbench::batch_page::ReviewFilter::parse(s)
                .ok_or_else(|| AppError::Invalid(format!("\"{s}\" is not a review filter.")))?,
        ),
    };
    let query = rowbench_workbench::batch_page::QueueQuery {
        status,
        review,
        sample,
        search,
        after,
        before,
        limit: QUEUE_WINDOW,
    };
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .queue_page(&crate::server::actor()?, id, query)
        .await?)
}

/// A reviewer's verdict on row `row` of batch `id`: `accept`, `reject` (with an optional
/// reason) or `fix` with the whole answer as JSON text; answers the row's new table line.
#[server(prefix = "/rpc", endpoint = "review_row")]
pub async fn review_batch_row(
    id: i64,
    row: i64,
    decision: String,
    answer: Option<String>,
    reason: Option<String>,
) -> Result<QueueLine, AppError> {
    use rowbench_workbench::reviews::{Decision, ReviewInput};
    let decision = Decision::parse(&decision)
        .ok_or_else(|| AppError::Invalid(format!("\"{decision}\" is not a review decision.")))?;
    let answer = answer
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| AppError::Invalid(format!("The fixed answer is not JSON: {e}")))
        })
        .transpose()?;
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    let input = ReviewInput {
        decision,
        answer,
        reason,
    };
    workbench.review_row(&actor, id, row, input).await?;
    Ok(workbench.queue_line(&actor, id, row).await?)
}

#[server(prefix = "/rpc", endpoint = "row_drill")]
pub async fn fetch_row_drill(id: i64, row: i64) -> Result<RowDrill, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .row_drill(&crate::server::actor()?, id, row)
        .await?)
}

/// Bars of each enum and boolean field, histograms of number fields.
#[server(prefix = "/rpc", endpoint = "batch_charts")]
pub async fn batch_charts(id: i64) -> Result<Vec<Chart>, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench.page_charts(&crate::server::actor()?, id).await?)
}

/// `pause`, `resume`, `cancel` or `retry-failed`.
#[server(prefix = "/rpc", endpoint = "control_batch")]
pub async fn control_batch(id: i64, action: String) -> Result<(), AppError> {
    use rowbench_workbench::batches::BatchAction;
    let Some(action) = BatchAction::parse(&action) else {
        return Err(AppError::Invalid(format!(
            "\"{action}\" is not a batch action."
        )));
    };
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .control(&crate::server::actor()?, id, action)
        .await?)
}

/// Runs batch `id`'s failed, rejected or finished rows again, with worked examples from its
/// reviewed rows when asked.
#[server(prefix = "/rpc", endpoint = "rerun_rows", input = Json)]
pub async fn rerun_batch_rows(id: i64, request: RerunRequest) -> Result<RerunReport, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .rerun(&crate::server::actor()?, id, request)
        .await?)
}

/// The models batch `id` can be compared with, and its comparison so far.
#[server(prefix = "/rpc", endpoint = "compare_screen")]
pub async fn load_compare_screen(id: i64) -> Result<CompareScreen, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .compare_screen(&crate::server::actor()?, id)
        .await?)
}

/// Starts a run of batch `id`'s rows with `request`'s changes, linked to it as a comparison.
#[server(prefix = "/rpc", endpoint = "compare", input = Json)]
pub async fn start_comparison(
    id: i64,
    request: CompareRequest,
) -> Result<CompareStarted, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .compare(&crate::server::actor()?, id, request)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "retry_batch_row")]
pub async fn retry_batch_row(id: i64, row: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .retry_row(&crate::server::actor()?, id, row)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "delete_batch")]
pub async fn delete_batch(id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench.delete_batch(&crate::server::actor()?, id).await?)
}

/// Makes this session's draft a copy of the batch's recipe and dataset ("run again with
/// changes"); the wizard opens on Review.
#[server(prefix = "/rpc", endpoint = "clone_batch")]
pub async fn clone_batch(id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    Ok(workbench
        .copy_batch_into_draft(&crate::server::actor()?, id, &draft)
        .await?)
}

/// "Change the prompt and try again" after a trial: the session's draft becomes a copy of the
/// batch's recipe, its trial setting included, and the wizard opens on the Prompt step.
#[server(prefix = "/rpc", endpoint = "retry_trial_with_changes")]
pub async fn retry_trial_with_changes(id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    let draft = super::wizard::ssr::session_draft(&workbench).await?;
    workbench.copy_batch_into_draft(&actor, id, &draft).await?;
    let step = crate::wizard_step::WizardStep::Prompt.slug();
    Ok(workbench.save_step(&actor, &draft, step).await?)
}

/// "Run the remaining rows" of a trial: the same batch goes on over every row of its dataset,
/// the trial's answers kept.
#[server(prefix = "/rpc", endpoint = "run_remaining_rows")]
pub async fn run_remaining_rows(id: i64) -> Result<(), AppError> {
    use rowbench_workbench::batches::BatchAction;
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .control(&crate::server::actor()?, id, BatchAction::RunRemaining)
        .await?)
}

/// Counts what the formula guard would change in batch `id`'s CSV export (with or without the
/// metadata columns), reading the batch the way the download does.
#[server(prefix = "/rpc", endpoint = "formula_cells")]
pub async fn formula_cells(id: i64, metadata: bool) -> Result<FormulaCount, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .formula_cells(&crate::server::actor()?, id, metadata)
        .await?)
}

/// Batch `id`'s accuracy per field on its reviewed and gold rows; numbers within `tolerance`
/// count as right.
#[server(prefix = "/rpc", endpoint = "batch_accuracy")]
pub async fn measure_accuracy(id: i64, tolerance: f64) -> Result<BatchAccuracy, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .accuracy(&crate::server::actor()?, id, tolerance)
        .await?)
}

/// Batch `id`'s review sample with the whole batch's accuracy its reviews estimate; `None`
/// when none was drawn.
#[server(prefix = "/rpc", endpoint = "batch_sample")]
pub async fn load_sample(id: i64) -> Result<Option<SampleReport>, AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench.sample(&crate::server::actor()?, id, 0.0).await?)
}

/// Draws a review sample of `size` rows of batch `id`, stratified by the model's answer to
/// `stratify_by` when it names a field, in place of the one it had.
#[server(prefix = "/rpc", endpoint = "draw_sample")]
pub async fn draw_review_sample(
    id: i64,
    size: u64,
    stratify_by: Option<String>,
) -> Result<SampleReport, AppError> {
    let workbench = crate::server::workbench()?;
    let request = rowbench_workbench::samples::SampleRequest { size, stratify_by };
    Ok(workbench
        .draw_sample(&crate::server::actor()?, id, request)
        .await?)
}

/// Forgets batch `id`'s review sample; its reviews stay.
#[server(prefix = "/rpc", endpoint = "discard_sample")]
pub async fn discard_review_sample(id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    Ok(workbench
        .discard_sample(&crate::server::actor()?, id)
        .await?)
}
