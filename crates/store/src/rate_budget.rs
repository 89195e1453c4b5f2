//! One rate budget per provider shared by every instance on a PostgreSQL database: each call
//! books the earliest moment both of the provider's limits allow, in one statement on one row,
//! so three instances together keep to the provider's requests and tokens per minute, and a
//! provider's Retry-After holds them all back. On SQLite one process makes every call and keeps
//! the schedule in memory (`rowbench-queue`'s limiter); these answer `None` there.

use crate::database::Backend;
use crate::{Database, StoreError};

/// Books a call to `provider`: the moment it may go (microseconds since the Unix epoch), the
/// first free moment at or after `now_us` by both schedules. The call then moves the requests
/// schedule on by `request_us` and the tokens schedule by `token_us` (0 for a limit not set).
/// `None` on SQLite.
pub async fn reserve(
    db: &Database,
    provider: &str,
    now_us: i64,
    request_us: i64,
    token_us: i64,
) -> Result<Option<i64>, StoreError> {
    let Backend::Postgres(pool) = db.backend() else {
        return Ok(None);
    };
    // Every SET expression reads the row as it was: `booked_at` is the moment this call got.
    let at: i64 = sqlx::query_scalar(
        "INSERT INTO rate_budgets AS b (provider, booked_at, next_request, next_token) \
         VALUES ($1, $2, $2 + $3, $2 + $4) \
         ON CONFLICT (provider) DO UPDATE SET \
             booked_at = GREATEST($2, b.next_request, b.next_token), \
             next_request = GREATEST($2, b.next_request, b.next_token) + $3, \
             next_token = GREATEST($2, b.next_request, b.next_token) + $4 \
         RETURNING booked_at",
    )
    .bind(provider)
    .bind(now_us)
    .bind(request_us)
    .bind(token_us)
    .fetch_one(pool)
    .await?;
    Ok(Some(at))
}

/// When a call to a provider without limits may go: `now_us`, or later while a Retry-After holds
/// it back. A read, not a booking: such calls need not queue behind each other on the row's
/// lock. `None` on SQLite.
pub async fn held_until(
    db: &Database,
    provider: &str,
    now_us: i64,
) -> Result<Option<i64>, StoreError> {
    let Backend::Postgres(pool) = db.backend() else {
        return Ok(None);
    };
    let held: Option<i64> =
        sqlx::query_scalar("SELECT next_request FROM rate_budgets WHERE provider = $1")
            .bind(provider)
            .fetch_optional(pool)
            .await?;
    Ok(Some(held.map_or(now_us, |held| held.max(now_us))))
}

/// Holds every instance's calls to `provider` back until `until_us` (a 429's Retry-After speaks
/// for the whole account). Nothing on SQLite.
pub async fn hold_off(db: &Database, provider: &str, until_us: i64) -> Result<(), StoreError> {
    let Backend::Postgres(pool) = db.backend() else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO rate_budgets AS b (provider, booked_at, next_request, next_token) \
         VALUES ($1, $2, $2, $2) \
         ON CONFLICT (provider) DO UPDATE SET next_request = GREATEST(b.next_request, $2)",
    )
    .bind(provider)
    .bind(until_us)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;
    use crate::{Engine, testing};

    #[tokio::test]
    async fn calls_are_booked_one_interval_apart_and_a_hold_off_pushes_the_next_back() {
        let (db, _place) = fresh_database().await;
        if db.engine() == Engine::Sqlite {
            assert_eq!(reserve(&db, "p", 0, 1, 0).await.expect("reserve"), None);
            return; // SQLite's schedule lives in the queue's memory.
        }
        let now = 1_000_000_000;
        let mut booked = Vec::new();
        for _ in 0..3 {
            booked.push(reserve(&db, "p", now, 100_000, 0).await.expect("reserve"));
        }
        assert_eq!(
            booked,
            [Some(now), Some(now + 100_000), Some(now + 200_000)]
        );
        // Another provider has its own budget.
        assert_eq!(
            reserve(&db, "q", now, 100_000, 0).await.expect("q"),
            Some(now)
        );
        hold_off(&db, "p", now + 5_000_000).await.expect("hold off");
        assert_eq!(
            reserve(&db, "p", now, 100_000, 0).await.expect("after"),
            Some(now + 5_000_000)
        );
        // Tokens: a large call pushes the next one back by its size.
        assert_eq!(
            reserve(&db, "t", now, 0, 2_000_000).await.expect("t"),
            Some(now)
        );
        assert_eq!(
            reserve(&db, "t", now, 0, 10).await.expect("t"),
            Some(now + 2_000_000)
        );
        assert_eq!(
            testing::scalar_i64(&db, "SELECT COUNT(*) FROM rate_budgets", &[]).await,
            3
        );
        // A provider without limits books nothing, but a hold-off holds it back too.
        assert_eq!(held_until(&db, "free", now).await.expect("free"), Some(now));
        hold_off(&db, "free", now + 7).await.expect("hold off");
        assert_eq!(
            held_until(&db, "free", now).await.expect("held"),
            Some(now + 7)
        );
        assert_eq!(
            held_until(&db, "free", now + 9).await.expect("after"),
            Some(now + 9)
        );
    }
}
