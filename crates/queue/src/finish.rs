//! Group commit of row results: rows that finish while another group is being written are
//! written together, in one transaction, by whichever of them gets the write next.
//!
//! A transaction costs a few round trips to SQLite's connection thread whatever it holds, and
//! the queue has one connection for its writes; written one by one, 64 rows finishing together
//! would wait on each other for longer than a fast model takes to answer.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rowbench_store::queue::{self, RowResult};
use rowbench_store::{Database, StoreError};
use tokio::sync::oneshot::{self, error::TryRecvError};

/// The most results one transaction writes; more wait for the next.
const MAX_GROUP: usize = 256;

/// Why a result was not written.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum FinishError {
    #[error(transparent)]
    Store(Arc<StoreError>),
    /// The task writing its group was stopped (the worker is shutting down).
    #[error("the write of its group was interrupted")]
    Interrupted,
}

type Reply = oneshot::Sender<Result<bool, FinishError>>;

/// Results waiting to be written, and the turn to write them.
#[derive(Default)]
pub(crate) struct Finisher {
    pending: Mutex<Vec<(RowResult, Reply)>>,
    turn: tokio::sync::Mutex<()>,
}

impl Finisher {
    /// Writes `result` with whatever else is waiting; see [`queue::finish_rows`]. True if it
    /// was written, false if its claim was no longer the row's.
    pub(crate) async fn finish(
        &self,
        db: &Database,
        result: RowResult,
    ) -> Result<bool, FinishError> {
        let (reply, mut answer) = oneshot::channel();
        self.lock().push((result, reply));
        loop {
            // The lock is fair: whoever waited longest writes next, everything pending.
            let _turn = self.turn.lock().await;
            match answer.try_recv() {
                Ok(written) => return written,
                Err(TryRecvError::Closed) => return Err(FinishError::Interrupted),
                Err(TryRecvError::Empty) => {}
            }
            let group: Vec<(RowResult, Reply)> = {
                let mut pending = self.lock();
                let take = pending.len().min(MAX_GROUP);
                pending.drain(..take).collect()
            };
            let (results, replies): (Vec<RowResult>, Vec<Reply>) = group.into_iter().unzip();
            // A closed reply is a row task that was stopped; its result is written all the same.
            match queue::finish_rows(db, &results).await {
                Ok(written) => {
                    for (reply, written) in replies.into_iter().zip(written) {
                        let _ = reply.send(Ok(written));
                    }
                }
                // One result the store refuses must not cost the rest of its group their
                // answers (and a second call each once their leases ran out): each alone.
                Err(error) if results.len() > 1 => {
                    tracing::warn!(%error, rows = results.len(), "writing a group of results failed; writing each alone");
                    for (result, reply) in results.iter().zip(replies) {
                        let written = queue::finish_rows(db, std::slice::from_ref(result))
                            .await
                            .map(|written| written.first().copied().unwrap_or(false))
                            .map_err(|error| FinishError::Store(Arc::new(error)));
                        let _ = reply.send(written);
                    }
                }
                Err(error) => {
                    let error = FinishError::Store(Arc::new(error));
                    for reply in replies {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }

    /// The list holds plain values, still valid after a panic elsewhere.
    fn lock(&self) -> MutexGuard<'_, Vec<(RowResult, Reply)>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
