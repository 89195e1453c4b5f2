//! The one error type of the store.

/// Everything that can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not open the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A PostgreSQL server that cannot be used, said in words that name it (never the password).
    #[error("{reason}")]
    Server { reason: String },
    #[error("could not apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("the stored configuration of batch {batch_id} is unreadable: {reason}")]
    CorruptBatch { batch_id: i64, reason: String },
}

impl StoreError {
    /// A stored value of kind `what` that does not read back.
    pub(crate) fn corrupt(what: &'static str, error: impl ToString) -> Self {
        StoreError::Corrupt {
            what,
            reason: error.to_string(),
        }
    }
}
