//! Opening the database and applying the migrations in `migrations/`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, SqlitePool};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::StoreError;

/// The migrations of the top-level `migrations/` folder, embedded at compile time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Rowbench's database, cheap to clone: a pool of connections for pages and the API, and one
/// connection of its own for the queue's writes.
#[derive(Debug, Clone)]
pub struct Database {
    pool: SqlitePool,
    /// `None` once closed.
    writer: Arc<Mutex<Option<SqliteConnection>>>,
}

impl Database {
    /// Opens (creating it if needed) the SQLite database at `url`, e.g. `sqlite://data/rowbench.db`.
    ///
    /// WAL mode lets the web pages read while the queue writes; the busy timeout turns a brief
    /// writer collision into a short wait instead of an error. Connections are not pinged when
    /// taken from a pool: a SQLite connection does not go stale, and the ping is a round trip
    /// (measured: a `SELECT 1` through the pool took 69 µs with it, 44 to 50 µs without).
    ///
    /// Incremental auto-vacuum lets [`Database::give_space_back`] return the pages of deleted
    /// rows to the file system. SQLite only takes the setting before the first table is
    /// created, so it is set on every connection, ahead of everything else; a database made
    /// without it is converted once by [`Database::migrate`].
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Connect)?
            .create_if_missing(true)
            .auto_vacuum(SqliteAutoVacuum::Incremental)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(StoreError::Connect)?;
        let writer = options.connect().await.map_err(StoreError::Connect)?;
        Ok(Self {
            pool,
            writer: Arc::new(Mutex::new(Some(writer))),
        })
    }

    /// Applies every migration not yet applied; fails if one fails or an applied one was edited.
    /// A database created before Rowbench used incremental auto-vacuum is converted first (once:
    /// a `VACUUM`, which rewrites the file and so also returns what it had lost to deletions).
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.use_incremental_vacuum().await?;
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Switches a database without incremental auto-vacuum to it (`PRAGMA auto_vacuum` only
    /// changes an existing database through a `VACUUM`). A new database has it already.
    async fn use_incremental_vacuum(&self) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
            .fetch_one(&mut *connection)
            .await?;
        // 0 none, 1 full, 2 incremental.
        if mode == 2 {
            return Ok(());
        }
        let bytes = file_bytes(&mut connection).await?;
        tracing::info!(
            bytes,
            "converting the database to incremental auto-vacuum (once; this rewrites the file)"
        );
        sqlx::query("PRAGMA auto_vacuum = INCREMENTAL")
            .execute(&mut *connection)
            .await?;
        sqlx::query("VACUUM").execute(&mut *connection).await?;
        tracing::info!(
            bytes = file_bytes(&mut connection).await?,
            "the database now uses incremental auto-vacuum"
        );
        Ok(())
    }

    /// Returns the pages that deletions freed to the file system, and empties the write-ahead
    /// log: after a large upload is thrown away, neither the database file nor its `-wal` file
    /// keeps the space the rows took. Freed pages are otherwise only reused, never returned.
    ///
    /// Emptying the log waits (up to the busy timeout) for readers of older snapshots; if one
    /// is still reading then, the log keeps its size until the next time and this says so in
    /// the log, not as an error.
    #[tracing::instrument(skip_all)]
    pub async fn give_space_back(&self) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        sqlx::query("PRAGMA incremental_vacuum")
            .execute(&mut *connection)
            .await?;
        let (busy, _log_frames, _checkpointed): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *connection)
                .await?;
        if busy != 0 {
            tracing::info!("a reader kept the write-ahead log from being emptied");
        }
        Ok(())
    }

    /// Answers if the database can run a query right now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The underlying pool, for libraries that keep their own tables (the session store).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The queue's one connection for its claims, heartbeats and results, held until the
    /// guard drops. One connection keeps its page cache (SQLite empties a connection's cache
    /// whenever another connection wrote), and its writes queue up in the process instead of in
    /// SQLite's busy handler, which sleeps a millisecond or more per collision. It is behind a
    /// lock, not in a pool of one: a pool hands a connection back from a task of its own, and
    /// the next query waited for that (131 µs for a `SELECT 1`, against 31 µs on a held
    /// connection).
    pub async fn writer(&self) -> Result<MappedMutexGuard<'_, SqliteConnection>, StoreError> {
        MutexGuard::try_map(self.writer.lock().await, Option::as_mut)
            .map_err(|_closed| StoreError::Query(sqlx::Error::PoolClosed))
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        if let Some(writer) = self.writer.lock().await.take()
            && let Err(error) = writer.close().await
        {
            tracing::warn!(%error, "closing the queue's connection failed");
        }
        self.pool.close().await;
    }
}

/// The size of the database's pages in use and free, in bytes.
async fn file_bytes(connection: &mut SqliteConnection) -> Result<i64, StoreError> {
    let (pages, page_size): (i64, i64) =
        sqlx::query_as("SELECT * FROM pragma_page_count(), pragma_page_size()")
            .fetch_one(&mut *connection)
            .await?;
    Ok(pages.saturating_mul(page_size))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A migrated database in a fresh temporary directory, removed when the guard drops.
    pub(crate) async fn fresh_database() -> (Database, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Database::connect(&url).await.expect("database opens");
        db.migrate().await.expect("migrations apply");
        (db, dir)
    }

    #[tokio::test]
    async fn migrating_twice_is_harmless() {
        let (db, _dir) = fresh_database().await;
        db.migrate().await.expect("second migration run is a no-op");
    }

    async fn auto_vacuum(db: &Database) -> i64 {
        sqlx::query_scalar("PRAGMA auto_vacuum")
            .fetch_one(db.pool())
            .await
            .expect("pragma")
    }

    #[tokio::test]
    async fn a_new_database_uses_incremental_auto_vacuum() {
        let (db, _dir) = fresh_database().await;
        assert_eq!(auto_vacuum(&db).await, 2, "2 is INCREMENTAL");
    }

    #[tokio::test]
    async fn a_database_made_without_auto_vacuum_is_converted_when_migrated() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("old.db");
        let old = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let mut connection = old.connect().await.expect("old database");
        sqlx::query("CREATE TABLE kept (x TEXT); INSERT INTO kept VALUES ('still here')")
            .execute(&mut connection)
            .await
            .expect("old table");
        connection.close().await.expect("close");

        let db = Database::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("opens");
        assert_eq!(
            auto_vacuum(&db).await,
            0,
            "not converted by connecting alone"
        );
        db.migrate().await.expect("migrates");
        assert_eq!(auto_vacuum(&db).await, 2);
        let kept: String = sqlx::query_scalar("SELECT x FROM kept")
            .fetch_one(db.pool())
            .await
            .expect("data survives the conversion");
        assert_eq!(kept, "still here");
    }

    #[tokio::test]
    async fn connecting_to_an_unreachable_path_fails_with_a_connect_error() {
        let err = Database::connect("sqlite:///nonexistent-dir/deeper/x.db")
            .await
            .expect_err("a directory that does not exist cannot hold the database");
        assert!(matches!(err, StoreError::Connect(_)), "{err:?}");
    }

    #[tokio::test]
    async fn an_edited_migration_is_refused() {
        let (db, _dir) = fresh_database().await;
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00'")
            .execute(db.pool())
            .await
            .expect("tamper with the checksum");
        let err = db.migrate().await.expect_err("checksum mismatch must fail");
        assert!(matches!(err, StoreError::Migrate(_)), "{err:?}");
    }
}
