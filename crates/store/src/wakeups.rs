//! Waking the queue worker when another instance made rows claimable: on PostgreSQL the
//! database's triggers NOTIFY `rowbench_queue` (see the PostgreSQL migrations), and each instance
//! LISTENs; on SQLite one process does everything and wakes its worker itself.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::Database;
use crate::database::Backend;

/// The channel the triggers notify.
pub const QUEUE_CHANNEL: &str = "rowbench_queue";

/// On PostgreSQL, starts listening and wakes `wake` at every notification another instance sent
/// (this one wakes its own worker in the process) until the task is aborted; `None` on SQLite. A lost connection is opened again (missed notifications cost at
/// most one poll interval, since the worker also polls).
pub async fn listen(
    db: &Database,
    wake: Arc<Notify>,
) -> Result<Option<JoinHandle<()>>, crate::StoreError> {
    let Backend::Postgres(pool) = db.backend() else {
        return Ok(None);
    };
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(QUEUE_CHANNEL).await?;
    let own = db.signature().to_owned();
    Ok(Some(tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(notification) if notification.payload() == own => {}
                Ok(_) => wake.notify_one(),
                Err(error) => {
                    tracing::warn!(%error, "listening for queue changes failed; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })))
}
