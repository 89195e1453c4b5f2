//! Opening the database and applying the migrations in `migrations/`: SQLite in a file by
//! default, or a PostgreSQL server that several Rowbench instances share.
//!
//! The store's queries are written once. [`on_pool!`] and [`on_writer!`] compile a query's body
//! once per backend, so the same SQL text binds and reads the same Rust types on both; where the
//! dialects must differ (the claim, upserts, the bulk load, JSON paths), the body asks its
//! [`Dialect`].

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, SqlitePool};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::StoreError;

/// The SQLite migrations, embedded at compile time.
/// How many times [`Database::give_space_back`] tries to empty SQLite's log before leaving it
/// for the next time.
const TRUNCATE_TRIES: usize = 10;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
/// The PostgreSQL migrations: the same schema, in that dialect.
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The oldest PostgreSQL Rowbench runs on (`server_version_num`), and the same in words.
const MIN_POSTGRES: (i64, &str) = (150_000, "15");

/// Connections one instance keeps to a PostgreSQL server: the pages' reads and the queue's writes
/// share them (PostgreSQL has no single writer to queue behind).
const POSTGRES_CONNECTIONS: u32 = 24;

/// Which database engine a [`Database`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Which SQL dialect a query body is being compiled for; see [`on_pool!`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `sqlite` on SQLite, `postgres` on PostgreSQL.
    pub(crate) const fn pick<T: Copy>(self, sqlite: T, postgres: T) -> T {
        match self {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }

    /// The statement that opens a transaction which will write: SQLite's `BEGIN IMMEDIATE` takes
    /// the write lock up front, so a read-then-write cannot fail half-way with SQLITE_BUSY;
    /// PostgreSQL locks rows as it goes.
    pub(crate) const fn begin_write(self) -> &'static str {
        self.pick("BEGIN IMMEDIATE", "BEGIN")
    }
}

/// Runs `$body` with `$pool` bound to the database's pool and `$dialect` to its [`Dialect`]. The
/// body is written once and compiled once per backend, so `sqlx::query(..).fetch_all($pool)` in
/// it is an SQLite query in one arm and a PostgreSQL query in the other.
macro_rules! on_pool {
    ($db:expr, |$pool:ident, $dialect:ident| $body:expr) => {
        match $db.backend() {
            $crate::database::Backend::Sqlite(parts) => {
                let $pool = &parts.pool;
                #[allow(unused_variables)]
                let $dialect = $crate::database::Dialect::Sqlite;
                $body
            }
            $crate::database::Backend::Postgres($pool) => {
                #[allow(unused_variables)]
                let $dialect = $crate::database::Dialect::Postgres;
                $body
            }
        }
    };
}

/// As [`on_pool!`], with `$conn` a connection for the queue's writes: on SQLite the one
/// connection they queue behind (see [`Database::writer`]), on PostgreSQL one from the pool.
macro_rules! on_writer {
    ($db:expr, |$conn:ident, $dialect:ident| $body:expr) => {
        match $db.backend() {
            $crate::database::Backend::Sqlite(parts) => {
                let mut held = parts.writer().await?;
                let $conn: &mut sqlx::SqliteConnection = &mut held;
                #[allow(unused_variables)]
                let $dialect = $crate::database::Dialect::Sqlite;
                $body
            }
            $crate::database::Backend::Postgres(pool) => {
                let mut held = pool.acquire().await?;
                let $conn: &mut sqlx::PgConnection = &mut held;
                #[allow(unused_variables)]
                let $dialect = $crate::database::Dialect::Postgres;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_writer};

/// Rowbench's database, cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    backend: Backend,
    /// The name leases are taken under (see [`Database::with_instance`]).
    instance: Arc<str>,
    /// What this instance's PostgreSQL connections sign their queue notifications with, so its
    /// own listener can pass over what it did itself (see [`crate::wakeups`]).
    signature: Arc<str>,
}

/// The connections of each engine.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite(SqliteParts),
    Postgres(PgPool),
}

/// SQLite: a pool of connections for pages and the API, and one connection of its own for the
/// queue's writes.
#[derive(Debug, Clone)]
pub(crate) struct SqliteParts {
    pub(crate) pool: SqlitePool,
    /// `None` once closed.
    writer: Arc<Mutex<Option<SqliteConnection>>>,
}

impl SqliteParts {
    /// The queue's one connection for its claims, heartbeats and results, held until the
    /// guard drops. One connection keeps its page cache (SQLite empties a connection's cache
    /// whenever another connection wrote), and its writes queue up in the process instead of in
    /// SQLite's busy handler, which sleeps a millisecond or more per collision. It is behind a
    /// lock, not in a pool of one: a pool hands a connection back from a task of its own, and
    /// the next query waited for that (131 µs for a `SELECT 1`, against 31 µs on a held
    /// connection).
    pub(crate) async fn writer(
        &self,
    ) -> Result<MappedMutexGuard<'_, SqliteConnection>, StoreError> {
        MutexGuard::try_map(self.writer.lock().await, Option::as_mut)
            .map_err(|_closed| StoreError::Query(sqlx::Error::PoolClosed))
    }
}

/// Whether `url` names a PostgreSQL server rather than an SQLite file.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Database {
    /// Opens the database at `url`: a PostgreSQL server for `postgres://…` (see
    /// [`Database::connect_postgres`]), otherwise an SQLite file such as
    /// `sqlite://data/rowbench.db`, created if needed.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_as(url, None).await
    }

    /// As [`Database::connect`], taking leases under `instance` (`ROWBENCH_INSTANCE`) when given,
    /// else under a name no other process has.
    pub async fn connect_as(url: &str, instance: Option<&str>) -> Result<Self, StoreError> {
        let instance = instance.map_or_else(default_instance, Arc::from);
        if is_postgres_url(url) {
            Self::connect_postgres(url, instance).await
        } else {
            Self::connect_sqlite(url, instance).await
        }
    }

    /// Opens (creating it if needed) the SQLite database at `url`.
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
    async fn connect_sqlite(url: &str, instance: Arc<str>) -> Result<Self, StoreError> {
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
            backend: Backend::Sqlite(SqliteParts {
                pool,
                writer: Arc::new(Mutex::new(Some(writer))),
            }),
            signature: instance.clone(),
            instance,
        })
    }

    /// Connects to the PostgreSQL server at `url` and checks that it is one Rowbench runs on.
    /// What went wrong is said in words that name the server (never the password): unreachable,
    /// a refused password, a database that does not exist, a version older than 15.
    #[tracing::instrument(skip_all)]
    async fn connect_postgres(url: &str, instance: Arc<str>) -> Result<Self, StoreError> {
        let signature: Arc<str> = Arc::from(signature_of(&instance));
        let options = PgConnectOptions::from_str(url)
            .map_err(|error| StoreError::Server {
                reason: format!(
                    "DATABASE_URL is not a PostgreSQL address Rowbench can read: {error}"
                ),
            })?
            .application_name("rowbench")
            .options([("rowbench.instance", &*signature)]);
        let place = Place::of(&options);
        // One connection first: the pool would retry a refused connection until its timeout and
        // then only say that it timed out, where this says why.
        let first = options
            .connect()
            .await
            .map_err(|error| place.explain(&error))?;
        if let Err(error) = first.close().await {
            tracing::debug!(%error, "closing the first PostgreSQL connection failed");
        }
        // Not pinged when taken from the pool: the ping is a round trip before every query, and
        // a connection the server dropped fails its query, which the pool then replaces.
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|error| place.explain(&error))?;
        let (number, text): (i64, String) = sqlx::query_as(
            "SELECT current_setting('server_version_num')::BIGINT, current_setting('server_version')",
        )
        .fetch_one(&pool)
        .await?;
        if number < MIN_POSTGRES.0 {
            pool.close().await;
            return Err(StoreError::Server {
                reason: format!(
                    "the PostgreSQL server at {place} runs version {text}; Rowbench needs PostgreSQL {} or newer",
                    MIN_POSTGRES.1
                ),
            });
        }
        Ok(Self {
            backend: Backend::Postgres(pool),
            instance,
            signature,
        })
    }

    /// The same database, taking its leases under `name`: one name per instance, kept across its
    /// restarts, so that a restarted instance takes back the rows it held at once (see
    /// [`crate::queue::reclaim_leases_at_startup`]). Two instances must not share a name.
    pub fn with_instance(mut self, name: &str) -> Self {
        self.instance = Arc::from(name);
        self
    }

    /// The name this instance takes its leases under.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// What this instance's connections sign their queue notifications with.
    pub(crate) fn signature(&self) -> &str {
        &self.signature
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Which engine this database runs on.
    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite pool, for libraries that keep their own tables (the session store).
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.backend {
            Backend::Sqlite(parts) => Some(&parts.pool),
            Backend::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for libraries that keep their own tables (the session store).
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(pool) => Some(pool),
        }
    }

    /// Applies every migration not yet applied; fails if one fails or an applied one was edited.
    /// On SQLite, a database created before Rowbench used incremental auto-vacuum is converted
    /// first (once: a `VACUUM`, which rewrites the file and so also returns what it had lost to
    /// deletions). On PostgreSQL the migrator holds an advisory lock, so instances starting
    /// together apply each migration once.
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(parts) => {
                use_incremental_vacuum(&parts.pool).await?;
                SQLITE_MIGRATIONS.run(&parts.pool).await?;
            }
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Returns the pages that deletions freed to the file system, and empties the write-ahead
    /// log: after a large upload is thrown away, neither the database file nor its `-wal` file
    /// keeps the space the rows took. Freed pages are otherwise only reused, never returned.
    /// PostgreSQL's autovacuum does this on its own, so there it does nothing.
    ///
    /// Emptying the log waits (up to the busy timeout) for readers of older snapshots, and is
    /// tried again for about a second; if one is still reading then, the log keeps its size
    /// until the next time and this says so in the log, not as an error.
    #[tracing::instrument(skip_all)]
    pub async fn give_space_back(&self) -> Result<(), StoreError> {
        let Backend::Sqlite(parts) = &self.backend else {
            return Ok(());
        };
        let mut connection = parts.pool.acquire().await?;
        sqlx::query("PRAGMA incremental_vacuum")
            .execute(&mut *connection)
            .await?;
        // A reader of an older snapshot (a page, a progress poll) keeps the log from being
        // emptied while it reads; those reads are short, so a few more tries usually get it.
        for _ in 0..TRUNCATE_TRIES {
            let (busy, _log_frames, _checkpointed): (i64, i64, i64) =
                sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_one(&mut *connection)
                    .await?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        tracing::info!("a reader kept the write-ahead log from being emptied");
        Ok(())
    }

    /// Answers if the database can run a query right now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool, _dialect| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(parts) => {
                if let Some(writer) = parts.writer.lock().await.take()
                    && let Err(error) = writer.close().await
                {
                    tracing::warn!(%error, "closing the queue's connection failed");
                }
                parts.pool.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// `instance` as a connection may carry it in a setting (`-c rowbench.instance=...` takes no
/// quoting): letters, digits, `.`, `_` and `-`, anything else as `_`.
fn signature_of(instance: &str) -> String {
    instance
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A name no other process has: the host, the process id and the start time. Without a name of
/// its own, an instance's rows left by a crash come back when their leases run out.
fn default_instance() -> Arc<str> {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "rowbench".to_owned());
    Arc::from(format!(
        "{host}-{}-{}",
        std::process::id(),
        crate::Timestamp::now().as_millis()
    ))
}

/// Where a PostgreSQL server is, as said in errors: host, port, database and user, never the
/// password.
struct Place {
    host: String,
    port: u16,
    database: String,
    user: String,
}

impl Place {
    fn of(options: &PgConnectOptions) -> Self {
        let user = options.get_username().to_owned();
        Self {
            host: options.get_host().to_owned(),
            port: options.get_port(),
            database: options.get_database().unwrap_or(&user).to_owned(),
            user,
        }
    }

    /// The connection error, in words for whoever set `DATABASE_URL`.
    fn explain(&self, error: &sqlx::Error) -> StoreError {
        let code = error
            .as_database_error()
            .and_then(|e| e.code())
            .map(|code| code.into_owned());
        let reason = match code.as_deref() {
            // invalid_password, invalid_authorization_specification
            Some("28P01") | Some("28000") => format!(
                "the PostgreSQL server at {self} refused the password or user \"{}\": check DATABASE_URL",
                self.user
            ),
            // invalid_catalog_name
            Some("3D000") => format!(
                "the database \"{}\" does not exist on the PostgreSQL server at {self}: create it \
                 (createdb {}) or name another in DATABASE_URL",
                self.database, self.database
            ),
            _ => match error {
                sqlx::Error::Io(io) => format!(
                    "cannot reach the PostgreSQL server at {self} ({io}): is it running, and are \
                     DATABASE_URL's host and port right?"
                ),
                sqlx::Error::PoolTimedOut => {
                    format!("the PostgreSQL server at {self} did not answer within 10 seconds")
                }
                other => format!("cannot use the PostgreSQL server at {self}: {other}"),
            },
        };
        StoreError::Server { reason }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} (database \"{}\")",
            self.host, self.port, self.database
        )
    }
}

/// Switches a database without incremental auto-vacuum to it (`PRAGMA auto_vacuum` only
/// changes an existing database through a `VACUUM`). A new database has it already.
async fn use_incremental_vacuum(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut connection = pool.acquire().await?;
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
    pub(crate) use crate::testing::fresh_database;

    /// A migrated SQLite database, whatever engine the run uses: for what only SQLite has.
    pub(crate) async fn fresh_sqlite() -> (Database, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Database::connect(&url).await.expect("database opens");
        db.migrate().await.expect("migrations apply");
        (db, dir)
    }

    #[tokio::test]
    async fn migrating_twice_is_harmless() {
        let (db, _place) = fresh_database().await;
        db.migrate().await.expect("second migration run is a no-op");
    }

    async fn auto_vacuum(db: &Database) -> i64 {
        sqlx::query_scalar("PRAGMA auto_vacuum")
            .fetch_one(db.sqlite_pool().expect("SQLite"))
            .await
            .expect("pragma")
    }

    #[tokio::test]
    async fn a_new_database_uses_incremental_auto_vacuum() {
        let (db, _dir) = fresh_sqlite().await;
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
            .fetch_one(db.sqlite_pool().expect("SQLite"))
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
        let (db, _place) = fresh_database().await;
        on_pool!(db, |pool, _dialect| {
            sqlx::query("UPDATE _sqlx_migrations SET checksum = $1")
                .bind(vec![0_u8])
                .execute(pool)
                .await
                .expect("tamper with the checksum");
        });
        let err = db.migrate().await.expect_err("checksum mismatch must fail");
        assert!(matches!(err, StoreError::Migrate(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_server_nobody_listens_on_is_named_in_the_error() {
        // Port 9 (discard) on loopback: nothing listens there.
        let err = Database::connect("postgres://rowbench:secret@127.0.0.1:9/rowbench")
            .await
            .expect_err("nothing listens");
        let message = err.to_string();
        assert!(matches!(err, StoreError::Server { .. }), "{err:?}");
        assert!(
            message.contains("cannot reach the PostgreSQL server at 127.0.0.1:9"),
            "{message}"
        );
        assert!(
            !message.contains("secret"),
            "the password never shows: {message}"
        );
    }

    /// The test server's address with `edit` applied, when this run has one.
    fn test_server(edit: impl FnOnce(&mut url::Url)) -> Option<String> {
        let admin = std::env::var(crate::testing::POSTGRES_VARIABLE).ok()?;
        let mut url = url::Url::parse(&admin).expect("the test server's address parses");
        edit(&mut url);
        Some(url.to_string())
    }

    #[tokio::test]
    async fn a_wrong_password_is_said_as_such() {
        let Some(url) = test_server(|url| {
            url.set_password(Some("not-the-password"))
                .expect("password");
        }) else {
            return; // Runs in the PostgreSQL pass of `.ci/test`.
        };
        let err = Database::connect(&url).await.expect_err("refused");
        let message = err.to_string();
        assert!(message.contains("refused the password"), "{message}");
        assert!(!message.contains("not-the-password"), "{message}");
    }

    #[tokio::test]
    async fn a_missing_database_is_named_with_how_to_make_it() {
        let Some(url) = test_server(|url| url.set_path("/no_such_database")) else {
            return; // Runs in the PostgreSQL pass of `.ci/test`.
        };
        let err = Database::connect(&url).await.expect_err("missing");
        let message = err.to_string();
        assert!(
            message.contains("the database \"no_such_database\" does not exist")
                && message.contains("createdb no_such_database"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn the_engine_follows_the_address() {
        let (db, _place) = fresh_database().await;
        assert_eq!(db.engine(), crate::testing::engine());
        assert!(is_postgres_url("postgresql://h/db") && !is_postgres_url("sqlite://x.db"));
    }
}
