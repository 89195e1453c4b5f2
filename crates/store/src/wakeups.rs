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

/// Wakes the other instances' workers as the triggers do: for slots this instance freed quietly
/// (see [`crate::queue::finish_rows_quietly`]) and cannot fill. Nothing to do on SQLite.
pub async fn announce(db: &Database) -> Result<(), crate::StoreError> {
    let Backend::Postgres(pool) = db.backend() else {
        return Ok(());
    };
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(QUEUE_CHANNEL)
        .bind(db.signature())
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;
    use crate::queue::test_support::{batch, claim, succeeded};
    use crate::queue::{RowResult, finish_rows, finish_rows_quietly};
    use crate::testing;

    /// Long enough for a notification sent at commit to have arrived.
    const HEARD_WITHIN: Duration = Duration::from_millis(500);

    async fn heard(wake: &Notify) -> bool {
        tokio::time::timeout(HEARD_WITHIN, wake.notified())
            .await
            .is_ok()
    }

    fn done(row: &crate::queue::ClaimedRow) -> RowResult {
        RowResult {
            batch_id: row.batch_id,
            row_index: row.row_index,
            claim: row.claim,
            outcome: succeeded(row.row_index),
            last_call: None,
        }
    }

    #[tokio::test]
    async fn a_quiet_write_of_results_wakes_no_other_instance_until_it_announces_the_slots() {
        if testing::engine() != Engine::Postgres {
            return;
        }
        let (writer, place) = testing::fresh_database().await;
        let other = Database::connect_as(&place.url, Some("other"))
            .await
            .expect("connects");
        let wake = Arc::new(Notify::new());
        let listening = listen(&other, Arc::clone(&wake))
            .await
            .expect("listens")
            .expect("a listener on PostgreSQL");
        batch(&writer, "alice", 3, 3).await;
        // The batch starting is news to the other instance.
        assert!(heard(&wake).await, "rows added wake the other instance");
        let rows = [
            claim(&writer).await,
            claim(&writer).await,
            claim(&writer).await,
        ];

        finish_rows_quietly(&writer, &[done(&rows[0])])
            .await
            .expect("written");
        assert!(!heard(&wake).await, "a quiet write wakes nobody");
        announce(&writer).await.expect("announced");
        assert!(
            heard(&wake).await,
            "an announcement wakes the other instance"
        );
        // The quiet write's setting ended with its transaction: the connection is loud again.
        finish_rows(&writer, &[done(&rows[1])])
            .await
            .expect("written");
        assert!(heard(&wake).await, "a plain write wakes the other instance");
        announce(&other).await.expect("announced");
        assert!(
            !heard(&wake).await,
            "an instance passes over its own announcement"
        );
        listening.abort();
    }
}
