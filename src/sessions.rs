//! Where browser sessions live: the same database as everything else, SQLite or PostgreSQL, so
//! any instance behind one address can answer any request (no sticky sessions needed).

use async_trait::async_trait;
use rowbench_store::Database;
use tower_sessions::ExpiredDeletion;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session table of whichever engine the database runs on.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// The store for `db`'s engine, its table created if missing.
    pub async fn open(db: &Database) -> anyhow::Result<Self> {
        let sessions = match (db.sqlite_pool(), db.postgres_pool()) {
            (Some(pool), _) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                Sessions::Sqlite(store)
            }
            (None, Some(pool)) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                Sessions::Postgres(store)
            }
            (None, None) => anyhow::bail!("the database has no pool for sessions"),
        };
        Ok(sessions)
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match self {
            Sessions::Sqlite(store) => store.create(record).await,
            Sessions::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self {
            Sessions::Sqlite(store) => store.save(record).await,
            Sessions::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        match self {
            Sessions::Sqlite(store) => store.load(id).await,
            Sessions::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            Sessions::Sqlite(store) => store.delete(id).await,
            Sessions::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> Result<()> {
        match self {
            Sessions::Sqlite(store) => store.delete_expired().await,
            Sessions::Postgres(store) => store.delete_expired().await,
        }
    }
}
