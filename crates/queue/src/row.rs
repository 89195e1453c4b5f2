//! One claimed row, start to finish: render the prompt, call the provider under the rate limit,
//! validate, repair once, retry what may pass later, record every call, then write the verdict
//! fenced on the claim while a heartbeat holds the lease.

use std::sync::Arc;

use rowbench_providers::{
    CallError, CallFailure, ChatOutcome, ChatRequest, Exchange, Repair, backoff, estimate,
};
use rowbench_store::queue::{
    self, AttemptOutcome, AttemptRecord, ClaimedRow, RowOutcome, RowResult,
};
use rowbench_store::{Database, Timestamp};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};

use crate::batch::BatchRuntime;
use crate::finish::Slot;
use crate::worker::Shared;

/// How working on a row ended.
enum Verdict {
    /// A result to write, with the call that settled it (recorded in the same transaction);
    /// `failure_limit` is the batch's error policy.
    Finish {
        outcome: RowOutcome,
        last_call: Option<Box<AttemptRecord>>,
        failure_limit: Option<u64>,
    },
    /// The provider refused the key: the batch pauses and the row goes back to the queue.
    Refused { reason: String },
    /// The store failed before anything was decided; the lease runs out and the row is
    /// claimed again.
    Abandon,
}

/// Runs one claimed row to its end, or until its claim is lost. True if the worker should look
/// for work when the task ends: false when a group write has woken it for this row already.
#[tracing::instrument(skip_all, fields(batch_id = row.batch_id, row_index = row.row_index, claim = row.claim))]
pub(crate) async fn run(shared: Arc<Shared>, row: ClaimedRow) -> bool {
    let verdict = tokio::select! {
        verdict = work(&shared, &row) => verdict,
        () = keep_lease(&shared, &row) => {
            tracing::info!("the claim was lost (lease expired or batch cancelled); dropping the row");
            return true;
        }
    };
    let db = &shared.db;
    match verdict {
        Verdict::Finish {
            outcome,
            last_call,
            failure_limit,
        } => {
            let failed = matches!(outcome, RowOutcome::Failed { .. });
            let result = RowResult {
                batch_id: row.batch_id,
                row_index: row.row_index,
                claim: row.claim,
                outcome,
                last_call: last_call.map(|call| *call),
            };
            let slot = match failure_limit {
                Some(_) if failed => Slot::FreeOnEnd,
                _ => Slot::FreeOnWrite,
            };
            let (written, ending) = shared.finisher.finish(db, result, slot).await;
            match written {
                Ok(true) => {
                    if failed && let Some(limit) = failure_limit {
                        match queue::pause_after_failures(db, row.batch_id, limit).await {
                            Ok(true) => tracing::info!(limit, "paused by the error policy"),
                            Ok(false) => {}
                            Err(error) => tracing::warn!(%error, "cannot apply the error policy"),
                        }
                    }
                }
                Ok(false) => tracing::info!("a newer claim owns the row; result dropped"),
                Err(error) => tracing::warn!(%error, "cannot write the row's result"),
            }
            // The worker was woken for a freed slot already; for any other, it looks now.
            let woken = ending.is_some();
            drop(ending);
            return !woken;
        }
        Verdict::Refused { reason } => {
            // Pause first: released into a running batch, the row would be claimed at once.
            if let Err(error) = queue::pause_for(db, row.batch_id, &reason, row.claimed_at).await {
                tracing::warn!(%error, "cannot pause the batch");
            }
            if let Err(error) = queue::release_row(db, row.batch_id, row.row_index, row.claim).await
            {
                tracing::warn!(%error, "cannot put the row back in the queue");
            }
        }
        Verdict::Abandon => {}
    }
    true
}

/// Extends the lease every `heartbeat`; returns once the claim is no longer the row's.
async fn keep_lease(shared: &Shared, row: &ClaimedRow) {
    let every = shared
        .config
        .heartbeat
        .max(std::time::Duration::from_millis(1));
    let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match queue::heartbeat(
            &shared.db,
            row.batch_id,
            row.row_index,
            row.claim,
            shared.config.lease,
        )
        .await
        {
            Ok(true) => {}
            Ok(false) => return,
            // A missed beat is not fatal: the lease has room for two more.
            Err(error) => tracing::warn!(%error, "heartbeat failed"),
        }
    }
}

/// What a row's calls used, added up.
#[derive(Debug, Default)]
struct Usage {
    latency_ms: i64,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<f64>,
}

impl Usage {
    fn add(&mut self, call: &AttemptRecord) {
        fn plus<T: std::ops::Add<Output = T>>(total: Option<T>, more: Option<T>) -> Option<T> {
            match (total, more) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            }
        }
        self.latency_ms = self.latency_ms.saturating_add(call.latency_ms.unwrap_or(0));
        self.input_tokens = plus(self.input_tokens, call.input_tokens);
        self.output_tokens = plus(self.output_tokens, call.output_tokens);
        self.cost_usd = plus(self.cost_usd, call.cost_usd);
    }

    fn succeeded(self, result: Value) -> RowOutcome {
        RowOutcome::Succeeded {
            result,
            latency_ms: self.latency_ms,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cost_usd: self.cost_usd,
        }
    }

    fn failed(self, error: String) -> RowOutcome {
        RowOutcome::Failed {
            error,
            latency_ms: self.latency_ms,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cost_usd: self.cost_usd,
        }
    }
}

/// The calls for one row, up to a verdict. Holds no transaction or lock while it waits.
async fn work(shared: &Shared, row: &ClaimedRow) -> Verdict {
    let loaded = match shared
        .runtimes
        .get(&shared.db, &shared.catalog, row.batch_id)
        .await
    {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::warn!(%error, "cannot load the batch");
            return Verdict::Abandon;
        }
    };
    let batch = match loaded.as_ref() {
        Ok(batch) => batch,
        Err(error) => {
            return Verdict::Finish {
                outcome: Usage::default().failed(error.to_string()),
                last_call: None,
                failure_limit: None,
            };
        }
    };
    let failure_limit = batch.config.recipe.settings.error_policy.limit();
    let finish = |outcome| Verdict::Finish {
        outcome,
        last_call: None,
        failure_limit,
    };
    // Ends the row with `call`, the last one made, which the caller has added to `usage`.
    let finish_after = |call: AttemptRecord, outcome| Verdict::Finish {
        outcome,
        last_call: Some(Box::new(call)),
        failure_limit,
    };
    let examples = match row.few_shot {
        None => None,
        Some(generation) => match shared
            .few_shots
            .get(&shared.db, row.batch_id, generation)
            .await
        {
            Ok(loaded) => Some(loaded),
            Err(error) => {
                tracing::warn!(%error, "cannot load the re-run's worked examples");
                return Verdict::Abandon;
            }
        },
    };
    let examples = match examples.as_deref() {
        None => None,
        Some(Ok(examples)) => Some(examples),
        Some(Err(problem)) => return finish(Usage::default().failed(problem.clone())),
    };
    let prompt = match batch
        .config
        .recipe
        .render_with_examples(row.row_index, &row.cells, examples)
    {
        Ok(prompt) => prompt,
        Err((part, issue)) => {
            return finish(Usage::default().failed(format!(
                "The {} could not be filled in for this row (line {}): {}",
                part.label(),
                issue.line,
                issue.message
            )));
        }
    };
    let settings = &batch.config.recipe.settings;
    let mut request = ChatRequest {
        model: settings.model.clone(),
        system: prompt.system,
        user: prompt.user,
        schema: batch.config.json_schema.clone(),
        schema_name: "answer".to_owned(),
        temperature: settings.temperature,
        max_tokens: settings.max_tokens,
        structured: batch.structured,
        repair: None,
    };

    let mut usage = Usage::default();
    let mut retries = 0u32;
    let max_calls = shared.config.max_calls_per_row.max(1);
    let mut call_no = 0u32;
    loop {
        call_no += 1;
        shared
            .limiters
            .acquire(&batch.provider_id, batch.rate_limit, || {
                estimate::estimate_input_tokens(&request)
                    + request.max_tokens.map_or(batch.output_estimate, u64::from)
            })
            .await;
        let started_at = Timestamp::now();
        let reply = batch.provider.chat(&request).await;
        let mut call = AttemptRecord {
            batch_id: row.batch_id,
            row_index: row.row_index,
            claim: row.claim,
            call_no: i64::from(call_no),
            started_at,
            latency_ms: None,
            http_status: None,
            request: None,
            raw_response: None,
            outcome: AttemptOutcome::Ok,
            error: None,
            input_tokens: None,
            output_tokens: None,
            cost_usd: None,
        };
        let last_call = call_no >= max_calls;
        match reply {
            Ok(ChatOutcome {
                exchange,
                answer,
                input_tokens,
                output_tokens,
            }) => {
                call.input_tokens = input_tokens.and_then(|n| i64::try_from(n).ok());
                call.output_tokens = output_tokens.and_then(|n| i64::try_from(n).ok());
                call.cost_usd = cost(batch, input_tokens, output_tokens);
                take_exchange(&mut call, exchange);
                let problem = match answer {
                    Ok(answer) => match batch.validator.validate(&answer) {
                        Ok(()) => {
                            usage.add(&call);
                            return finish_after(call, usage.succeeded(answer));
                        }
                        Err(issues) => Problem {
                            previous_answer: answer.to_string(),
                            errors: issues.iter().map(ToString::to_string).collect(),
                            unreadable: false,
                        },
                    },
                    Err(message) => Problem {
                        previous_answer: call
                            .raw_response
                            .as_deref()
                            .and_then(answer_text)
                            .unwrap_or_default(),
                        errors: vec![message],
                        unreadable: true,
                    },
                };
                call.outcome = AttemptOutcome::Invalid;
                call.error = Some(problem.errors.join("; "));
                usage.add(&call);
                if request.repair.is_some() || last_call {
                    return finish_after(call, usage.failed(problem.message()));
                }
                record(&shared.db, &call).await;
                request.repair = Some(Repair {
                    previous_answer: problem.previous_answer,
                    errors: problem.errors,
                });
            }
            Err(CallFailure { error, exchange }) => {
                if let Some(exchange) = exchange {
                    take_exchange(&mut call, exchange);
                }
                call.error = Some(error.to_string());
                call.outcome = if error.is_auth() {
                    AttemptOutcome::Auth
                } else if error.is_retryable() {
                    AttemptOutcome::Retryable
                } else {
                    AttemptOutcome::Failed
                };
                usage.add(&call);
                if let CallError::Auth { status, message } = &error {
                    record(&shared.db, &call).await;
                    return Verdict::Refused {
                        reason: refused_reason(*status, message),
                    };
                }
                if !error.is_retryable() {
                    return finish_after(call, usage.failed(sentence(&error.to_string())));
                }
                if last_call {
                    return finish_after(
                        call,
                        usage.failed(format!(
                            "Gave up after {call_no} calls; the last one failed: {error}."
                        )),
                    );
                }
                // Everyone held back first, then the call recorded: under load the record can
                // take a while, and every instance would be calling into the refusal meanwhile.
                if let CallError::RateLimited {
                    retry_after: Some(wait),
                } = &error
                {
                    shared
                        .limiters
                        .hold_off(&batch.provider_id, Instant::now() + *wait)
                        .await;
                }
                record(&shared.db, &call).await;
                retries += 1;
                let wait = backoff::delay(retries, error.retry_after(), &shared.config.backoff);
                tracing::debug!(call_no, ?wait, %error, "retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// An answer that could not be used.
struct Problem {
    previous_answer: String,
    errors: Vec<String>,
    /// No JSON could be read at all (rather than JSON that breaks the schema).
    unreadable: bool,
}

impl Problem {
    fn message(&self) -> String {
        let errors = self.errors.join("; ");
        if self.unreadable {
            format!("The answer could not be read as JSON: {errors}")
        } else {
            format!("The answer does not match the schema: {errors}")
        }
    }
}

/// A call's cost at the batch's frozen prices; `None` when the provider reported no usage.
fn cost(batch: &BatchRuntime, input: Option<u64>, output: Option<u64>) -> Option<f64> {
    if input.is_none() && output.is_none() {
        return None;
    }
    let rates = &batch.config.rates;
    Some(
        (input.unwrap_or(0) as f64 * rates.input_usd_per_mtok
            + output.unwrap_or(0) as f64 * rates.output_usd_per_mtok)
            / 1_000_000.0,
    )
}

fn take_exchange(call: &mut AttemptRecord, exchange: Exchange) {
    call.latency_ms = Some(i64::try_from(exchange.latency_ms).unwrap_or(i64::MAX));
    call.http_status = exchange.http_status.map(i64::from);
    call.request = Some(exchange.request);
    call.raw_response = Some(exchange.raw_response);
}

/// The model's own text in a raw response body, to quote back in a repair: OpenAI's
/// `choices[0].message.content`, Anthropic's text blocks, Gemini's parts.
fn answer_text(raw: &str) -> Option<String> {
    let body: Value = serde_json::from_str(raw).ok()?;
    let join = |parts: &Value| -> Option<String> {
        let text: String = parts
            .as_array()?
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect();
        (!text.is_empty()).then_some(text)
    };
    if let Some(content) = body.pointer("/choices/0/message/content") {
        return content
            .as_str()
            .map(str::to_owned)
            .or_else(|| join(content));
    }
    if let Some(content) = body.get("content") {
        return join(content);
    }
    body.pointer("/candidates/0/content/parts").and_then(join)
}

/// The pause reason the batch page shows after a 401/403.
fn refused_reason(status: u16, message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    format!(
        "The provider refused the API key (HTTP {status}){detail}. Fix the key in the server configuration, then resume."
    )
}

/// An error as a row records it: a sentence, as every message on the pages reads.
fn sentence(text: &str) -> String {
    rowbench_recipe::text::sentence(text.trim())
}

/// Records a call; a failure to record is logged, never the row's failure.
async fn record(db: &Database, call: &AttemptRecord) {
    if let Err(error) = queue::record_attempt(db, call).await {
        tracing::warn!(%error, call_no = call.call_no, "cannot record the call");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_reason_quotes_the_provider_and_says_what_to_do() {
        assert_eq!(
            refused_reason(401, "Incorrect API key provided."),
            "The provider refused the API key (HTTP 401): Incorrect API key provided. \
             Fix the key in the server configuration, then resume."
        );
        assert!(
            refused_reason(403, " ")
                .starts_with("The provider refused the API key (HTTP 403). Fix")
        );
    }

    #[test]
    fn the_answer_text_is_found_in_each_wire_format() {
        let openai = r#"{"choices":[{"message":{"content":"Sure: {oops"}}]}"#;
        let anthropic = r#"{"content":[{"type":"text","text":"{oops"}]}"#;
        let gemini = r#"{"candidates":[{"content":{"parts":[{"text":"{oo"},{"text":"ps"}]}}]}"#;
        assert_eq!(answer_text(openai).as_deref(), Some("Sure: {oops"));
        assert_eq!(answer_text(anthropic).as_deref(), Some("{oops"));
        assert_eq!(answer_text(gemini).as_deref(), Some("{oops"));
        assert_eq!(answer_text("not json"), None);
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            sentence("the provider rejected the request (HTTP 400): bad"),
            "The provider rejected the request (HTTP 400): bad."
        );
        assert_eq!(sentence("Done."), "Done.");
    }

    #[test]
    fn usage_adds_what_is_known() {
        let mut usage = Usage::default();
        let call = |tokens: Option<i64>| AttemptRecord {
            batch_id: 1,
            row_index: 0,
            claim: 1,
            call_no: 1,
            started_at: Timestamp(0),
            latency_ms: Some(10),
            http_status: None,
            request: None,
            raw_response: None,
            outcome: AttemptOutcome::Ok,
            error: None,
            input_tokens: tokens,
            output_tokens: None,
            cost_usd: None,
        };
        usage.add(&call(None));
        usage.add(&call(Some(5)));
        usage.add(&call(Some(7)));
        assert_eq!(usage.latency_ms, 30);
        assert_eq!(usage.input_tokens, Some(12));
        assert_eq!(usage.output_tokens, None);
    }
}
