//! Start-up clean-up of what the previous run of the server left half done.

use rowbench_store::{Database, StoreError, datasets, queue};

/// Removes the datasets whose upload the previous run did not finish, and puts the rows it was
/// working on back in the queue at once instead of after their leases run out.
///
/// On SQLite one process serves the database, so whatever is loading or leased at start-up
/// belongs to a run that is gone. On PostgreSQL other instances may be uploading and running
/// rows right now: uploads and leases name their instance (`ROWBENCH_INSTANCE`), and only this
/// instance's are cleaned up.
pub async fn after_restart(db: &Database) -> Result<(), StoreError> {
    let removed = datasets::remove_unfinished(db).await?;
    if removed > 0 {
        tracing::info!(
            datasets = removed,
            "removed the datasets whose upload the previous run did not finish"
        );
    }
    let reclaimed = queue::reclaim_leases_at_startup(db).await?;
    if reclaimed > 0 {
        tracing::info!(
            rows = reclaimed,
            "the rows the previous run was working on are back in the queue"
        );
    }
    Ok(())
}
