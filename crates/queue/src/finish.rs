//! Group commit of row results: rows that finish while another group is being written are
//! written together, in one transaction, by whichever of them gets the write next.
//!
//! A transaction costs a few round trips to SQLite's connection thread whatever it holds, and
//! the queue has one connection for its writes; written one by one, 64 rows finishing together
//! would wait on each other for longer than a fast model takes to answer.
//!
//! Whoever writes a group wakes the worker as soon as the write returns, before the group's
//! tasks have ended: the worker claims the freed slots in one claim at once, instead of one
//! claim per task as each ends (the first of which would take every slot and leave the others
//! claiming nothing). The slots are not announced to other instances; the worker announces them
//! when it cannot fill them itself (see [`crate::worker`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rowbench_store::queue::{self, RowResult};
use rowbench_store::{Database, StoreError};
use tokio::sync::Notify;
use tokio::sync::oneshot;

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

/// Whether the worker may claim a row's slot as soon as its result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Yes: the task has nothing left to do that a new row could race.
    FreeOnWrite,
    /// No: the task still has work that must land before its slot is claimed again (the error
    /// policy's pause after a failed row, which a new claim would overtake).
    FreeOnEnd,
}

/// Results waiting to be written, the turn to write them, and what the worker is told.
pub(crate) struct Finisher {
    pending: Mutex<Vec<(RowResult, Slot, Reply)>>,
    turn: tokio::sync::Mutex<()>,
    /// Woken after each group's write: the worker's own wake-up.
    wake: Arc<Notify>,
    /// Rows whose results were written (or refused) and whose tasks have not ended yet: their
    /// slots are free for the worker's next claim although their tasks still count.
    ending: AtomicUsize,
    /// Whether other instances are told of the slots a group frees (once the worker stops
    /// claiming, they must be).
    announce: AtomicBool,
}

/// A row whose result went through a group write: its task ends without holding a slot, and the
/// worker has been woken for it already. Dropped as the task ends.
pub(crate) struct Ending<'a>(&'a Finisher);

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        // Never below zero: every Ending was counted in before it was made.
        let _ = self
            .0
            .ending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

impl Finisher {
    /// A finisher that wakes `wake` after each write.
    pub(crate) fn new(wake: Arc<Notify>) -> Self {
        Finisher {
            pending: Mutex::default(),
            turn: tokio::sync::Mutex::default(),
            wake,
            ending: AtomicUsize::new(0),
            announce: AtomicBool::new(false),
        }
    }

    /// Rows written whose tasks are still ending; see [`Finisher::ending`].
    pub(crate) fn ending(&self) -> usize {
        self.ending.load(Ordering::Acquire)
    }

    /// From now on, freed slots are announced to other instances at once.
    pub(crate) fn announce_from_now(&self) {
        self.announce.store(true, Ordering::Release);
    }

    /// Writes `result` with whatever else is waiting; see [`queue::finish_rows`]. True if it
    /// was written, false if its claim was no longer the row's; beside it, for a
    /// [`Slot::FreeOnWrite`], the [`Ending`] the task holds until it ends, unless the write
    /// was interrupted.
    pub(crate) async fn finish(
        &self,
        db: &Database,
        result: RowResult,
        slot: Slot,
    ) -> (Result<bool, FinishError>, Option<Ending<'_>>) {
        let (reply, mut answer) = oneshot::channel();
        self.lock().push((result, slot, reply));
        loop {
            // The lock is fair: whoever waited longest writes next, everything pending. A result
            // another task wrote wakes its task at once, not after its turn comes.
            let _turn = tokio::select! {
                biased;
                written = &mut answer => return self.answered(written.ok(), slot),
                turn = self.turn.lock() => turn,
            };
            if let Ok(written) = answer.try_recv() {
                return self.answered(Some(written), slot);
            }
            let group: Vec<(RowResult, Slot, Reply)> = {
                let mut pending = self.lock();
                let take = pending.len().min(MAX_GROUP);
                pending.drain(..take).collect()
            };
            let mut results = Vec::with_capacity(group.len());
            let mut replies = Vec::with_capacity(group.len());
            for (result, slot, reply) in group {
                results.push(result);
                replies.push((slot, reply));
            }
            // A closed reply is a row task that was stopped; its result is written all the same.
            let first = if self.announce.load(Ordering::Acquire) {
                queue::finish_rows(db, &results).await
            } else {
                queue::finish_rows_quietly(db, &results).await
            };
            // Counted before any reply goes, so that no task ends (and uncounts itself) first.
            let freed = replies
                .iter()
                .filter(|(slot, _)| *slot == Slot::FreeOnWrite)
                .count();
            if freed > 0 {
                self.ending.fetch_add(freed, Ordering::AcqRel);
                self.wake.notify_one();
            }
            match first {
                Ok(written) => {
                    for (reply, written) in replies.into_iter().zip(written) {
                        self.reply(reply, Ok(written));
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
                        self.reply(reply, written);
                    }
                }
                Err(error) => {
                    let error = FinishError::Store(Arc::new(error));
                    for reply in replies {
                        self.reply(reply, Err(error.clone()));
                    }
                }
            }
        }
    }

    /// What a task gets for its answer: an interruption if its group's writer was stopped.
    fn answered(
        &self,
        written: Option<Result<bool, FinishError>>,
        slot: Slot,
    ) -> (Result<bool, FinishError>, Option<Ending<'_>>) {
        match written {
            Some(written) => (written, (slot == Slot::FreeOnWrite).then_some(Ending(self))),
            None => (Err(FinishError::Interrupted), None),
        }
    }

    /// Sends an answer; a counted task that is gone will not uncount itself, so it is done here.
    fn reply(&self, (slot, reply): (Slot, Reply), written: Result<bool, FinishError>) {
        if reply.send(written).is_err() && slot == Slot::FreeOnWrite {
            drop(Ending(self));
        }
    }

    /// The list holds plain values, still valid after a panic elsewhere.
    fn lock(&self) -> MutexGuard<'_, Vec<(RowResult, Slot, Reply)>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
