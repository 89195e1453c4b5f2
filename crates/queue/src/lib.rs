//! The durable row queue's worker: claims rows, calls the provider, validates, retries, records attempts.
//!
//! The queue itself is the `batch_rows` table ([`rowbench_store::queue`]); this crate is what
//! works it off. One [`Worker`] per process claims rows of running batches (each batch's
//! concurrency is enforced by the claim, the worker's own cap by [`WorkerConfig::max_in_flight`]),
//! and runs each row in its own task:
//!
//! 1. render the prompt from the row's cells (a template error fails the row);
//! 2. wait for the provider's rate limit (requests and tokens per minute, shared by all batches);
//! 3. call; record the call in `row_attempts`;
//! 4. a schema-valid answer succeeds the row; an unreadable or invalid one gets one repair call
//!    quoting the problems; a retryable failure waits ([`rowbench_providers::backoff`]) and
//!    tries again, up to [`WorkerConfig::max_calls_per_row`] calls; a refused key (401/403)
//!    pauses the batch and puts the row back; anything else fails the row;
//! 5. write the verdict fenced on the claim, with the call that settled it and together with
//!    the other rows finishing at the same time ([`finish`]), then apply the batch's error
//!    policy.
//!
//! A heartbeat extends the row's lease meanwhile; if the claim is lost (the lease expired and the
//! row was claimed again, or the batch was cancelled) the task drops the row. No transaction or
//! lock is held across a provider call.

mod batch;
mod finish;
mod limiter;
mod row;
mod worker;

pub use worker::{Worker, WorkerConfig, WorkerHandle};
