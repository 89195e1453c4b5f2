//! Milliseconds since the Unix epoch: how every table stores time, the same on SQLite and PostgreSQL.

use serde::{Deserialize, Serialize};

/// A point in time as stored in the database (Unix milliseconds, UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type,
)]
#[sqlx(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let now = time::OffsetDateTime::now_utc();
        Self((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// Milliseconds since the Unix epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_after_the_day_this_code_was_written() {
        // 2026-01-01T00:00:00Z in milliseconds.
        assert!(Timestamp::now().as_millis() > 1_767_225_600_000);
    }
}
