//! The worker loop: claims rows while under its in-flight cap, runs each in its own task, wakes on
//! a nudge, a finished row or the idle poll, and drains its rows when told to stop.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rowbench_providers::{BackoffPolicy, Catalog};
use rowbench_store::Database;
use rowbench_store::queue;
use tokio::sync::{Notify, oneshot};
use tokio::task::{JoinError, JoinHandle, JoinSet};

use crate::batch::{FewShotSets, Runtimes};
use crate::finish::Finisher;
use crate::limiter::RateLimiters;

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claimed row stays the worker's without a heartbeat; after that another worker
    /// (or this one, restarted) claims it again.
    pub lease: Duration,
    /// How often a running row's lease is extended; well under `lease`.
    pub heartbeat: Duration,
    /// How often to look for work when nothing wakes the worker.
    pub poll: Duration,
    /// The most rows in flight at once over all batches (each batch also has its own limit).
    pub max_in_flight: usize,
    /// The most provider calls for one claim of a row, the repair call included.
    pub max_calls_per_row: u32,
    /// Waits between retries of a failed call.
    pub backoff: BackoffPolicy,
    /// How long rows in flight may take to finish once the worker is told to stop; the rest
    /// are abandoned and put back in the queue.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease: Duration::from_secs(15),
            heartbeat: Duration::from_secs(5),
            poll: Duration::from_millis(500),
            max_in_flight: 256,
            max_calls_per_row: 6,
            backoff: BackoffPolicy::default(),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// What the worker and its row tasks share.
pub(crate) struct Shared {
    pub(crate) db: Database,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) config: WorkerConfig,
    pub(crate) limiters: RateLimiters,
    pub(crate) runtimes: Runtimes,
    pub(crate) few_shots: FewShotSets,
    pub(crate) finisher: Finisher,
}

/// Runs the rows of every running batch. One per process: the rate limits it keeps are shared
/// by all of its rows, not between processes.
pub struct Worker {
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

/// A spawned worker.
pub struct WorkerHandle {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    /// Stops claiming, lets the rows in flight finish (up to the shutdown grace), and waits.
    pub async fn shutdown(self) {
        // An error means the worker has ended already.
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the queue worker failed");
        }
    }
}

/// The row a task holds: batch, row index, claim.
type Held = (i64, i64, i64);

impl Worker {
    /// A worker over `db`, calling the providers of `catalog`. `wake.notify_one()` makes it
    /// look for work at once (after a batch starts or resumes) instead of at the next poll.
    pub fn new(
        db: Database,
        catalog: Arc<Catalog>,
        wake: Arc<Notify>,
        config: WorkerConfig,
    ) -> Self {
        Worker {
            shared: Arc::new(Shared {
                limiters: RateLimiters::for_database(&db),
                db,
                catalog,
                config,
                runtimes: Runtimes::default(),
                few_shots: FewShotSets::default(),
                finisher: Finisher::new(Arc::clone(&wake)),
            }),
            wake,
        }
    }

    /// Runs on the current runtime until [`WorkerHandle::shutdown`]. Dropping the handle
    /// leaves the worker running.
    pub fn spawn(self) -> WorkerHandle {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run(async move {
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
        }));
        WorkerHandle { stop, task }
    }

    /// Claims and runs rows until `stop` resolves, then stops claiming, gives the rows in
    /// flight the shutdown grace to finish, and puts the rest back in the queue.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let shared = self.shared;
        let config = shared.config.clone();
        let mut tasks: JoinSet<bool> = JoinSet::new();
        let mut held: HashMap<tokio::task::Id, Held> = HashMap::new();
        let mut stop = std::pin::pin!(stop);
        tracing::info!(max_in_flight = config.max_in_flight, "queue worker started");
        let mut look = true;
        loop {
            // Rows finished at once free their slots at once: count them all before claiming.
            while let Some(done) = tasks.try_join_next_with_id() {
                look |= forget(&mut held, done);
            }
            if look {
                fill(&shared, &mut tasks, &mut held).await;
            }
            look = tokio::select! {
                () = &mut stop => break,
                () = self.wake.notified() => true,
                Some(done) = tasks.join_next_with_id() => forget(&mut held, done),
                () = tokio::time::sleep(jittered(config.poll)) => true,
            };
        }
        tracing::info!(in_flight = tasks.len(), "queue worker stopping");
        // Nobody here claims the slots the last rows free: other instances must hear of them.
        shared.finisher.announce_from_now();
        let grace = tokio::time::sleep(config.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                done = tasks.join_next_with_id() => match done {
                    Some(done) => {
                        forget(&mut held, done);
                    }
                    None => break,
                },
                () = &mut grace => {
                    tasks.abort_all();
                    while let Some(done) = tasks.join_next_with_id().await {
                        forget(&mut held, done);
                    }
                    break;
                }
            }
        }
        // What is left was aborted mid-row: hand it straight back rather than after its lease.
        for (batch_id, row_index, claim) in held.into_values() {
            if let Err(error) = queue::release_row(&shared.db, batch_id, row_index, claim).await {
                tracing::warn!(%error, batch_id, row_index, "cannot put an abandoned row back");
            }
        }
        tracing::info!("queue worker stopped");
    }
}

/// Claims rows for the free slots and starts a task for each. A claim takes rows from one batch
/// only, so it claims again while the store says another batch could run a row; otherwise it
/// waits for the next group of results written, finished row, nudge or poll (at concurrency 1
/// that is one claim a row).
///
/// The slots a group write frees are not announced to other instances (see [`crate::finish`]):
/// this worker takes them. When it fills every slot of its own, some may be left, and it
/// announces them.
async fn fill(
    shared: &Arc<Shared>,
    tasks: &mut JoinSet<bool>,
    held: &mut HashMap<tokio::task::Id, Held>,
) {
    let config = &shared.config;
    loop {
        // Tasks of rows already written hold no slot, though they have not ended yet.
        let busy = tasks.len().saturating_sub(shared.finisher.ending());
        let free = config.max_in_flight.max(1).saturating_sub(busy);
        if free == 0 {
            return;
        }
        let claim = match queue::claim(&shared.db, config.lease, free).await {
            Ok(claim) => claim,
            Err(error) => {
                tracing::warn!(%error, "cannot claim rows");
                return;
            }
        };
        let more = claim.more;
        if claim.rows.len() == free {
            announce(shared).await;
        }
        for row in claim.rows {
            let key = (row.batch_id, row.row_index, row.claim);
            let task = tasks.spawn(crate::row::run(Arc::clone(shared), row));
            held.insert(task.id(), key);
        }
        if !more {
            return;
        }
    }
}

/// Tells other instances that rows may be claimable which this worker will not claim.
async fn announce(shared: &Shared) {
    if let Err(error) = rowbench_store::wakeups::announce(&shared.db).await {
        tracing::warn!(%error, "cannot tell other instances of free slots");
    }
}

/// Drops a finished task's row from `held`; an aborted task's row stays there, to be released.
/// True if the worker should look for work now.
fn forget(
    held: &mut HashMap<tokio::task::Id, Held>,
    done: Result<(tokio::task::Id, bool), JoinError>,
) -> bool {
    match done {
        Ok((id, look)) => {
            held.remove(&id);
            look
        }
        Err(error) if error.is_cancelled() => false,
        Err(error) => {
            // The row stays running until its lease expires, so a row that panics every time
            // is retried at the lease's pace, not in a tight loop.
            tracing::error!(%error, "a row task panicked");
            held.remove(&error.id());
            true
        }
    }
}

/// `poll` give or take a fifth, so that workers started together do not poll in step.
fn jittered(poll: Duration) -> Duration {
    let millis = u64::try_from(poll.as_millis()).unwrap_or(u64::MAX).max(1);
    let spread = millis / 5;
    Duration::from_millis(millis - spread + fastrand::u64(0..=spread * 2))
}
