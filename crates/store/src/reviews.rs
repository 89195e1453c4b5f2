//! People's reviews of rows' answers: one per row, beside the model's answer (which stays in
//! `batch_rows.result`, never replaced). The rules (who may review, what a fix must be) live in
//! the use cases; this module stores what it is given.

use sqlx::FromRow;

use crate::database::{on_pool, on_writer};
use crate::{Database, StoreError, Timestamp};

/// A row's review as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Review {
    /// `accept`, `reject` or `fix`.
    pub decision: String,
    /// The answer vouched for, as JSON text; `None` for a rejection.
    pub answer: Option<String>,
    pub reason: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: Timestamp,
    /// The row's attempt when it was reviewed.
    pub attempt: i64,
}

/// What a reviewer decided about one row.
#[derive(Debug, Clone, Copy)]
pub struct NewReview<'a> {
    pub decision: &'a str,
    pub answer: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub reviewer_id: Option<i64>,
    pub reviewed_by: &'a str,
    pub attempt: i64,
}

/// Stores `review` for row `row_index` of `owner`'s batch `batch_id`, replacing the row's earlier
/// review. False when the batch is not `owner`'s or has no such row.
pub async fn set_review(
    db: &Database,
    owner: &str,
    batch_id: i64,
    row_index: i64,
    review: NewReview<'_>,
) -> Result<bool, StoreError> {
    let done = on_writer!(db, |conn, _dialect| {
        sqlx::query(
            "INSERT INTO row_reviews (batch_id, row_index, decision, answer, reason, reviewer_id, \
             reviewed_by, reviewed_at, attempt) \
             SELECT r.batch_id, r.row_index, $4, $5, $6, $7, $8, $9, $10 \
             FROM batch_rows r JOIN batches b ON b.id = r.batch_id \
             WHERE r.batch_id = $1 AND r.row_index = $2 AND b.owner = $3 \
             ON CONFLICT (batch_id, row_index) DO UPDATE SET decision = excluded.decision, \
             answer = excluded.answer, reason = excluded.reason, \
             reviewer_id = excluded.reviewer_id, reviewed_by = excluded.reviewed_by, \
             reviewed_at = excluded.reviewed_at, attempt = excluded.attempt",
        )
        .bind(batch_id)
        .bind(row_index)
        .bind(owner)
        .bind(review.decision)
        .bind(review.answer)
        .bind(review.reason)
        .bind(review.reviewer_id)
        .bind(review.reviewed_by)
        .bind(Timestamp::now())
        .bind(review.attempt)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

/// The review of row `row_index` of batch `batch_id`, if it has one.
pub async fn review(
    db: &Database,
    batch_id: i64,
    row_index: i64,
) -> Result<Option<Review>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT decision, answer, reason, reviewed_by, reviewed_at, attempt FROM row_reviews \
             WHERE batch_id = $1 AND row_index = $2",
        )
        .bind(batch_id)
        .bind(row_index)
        .fetch_optional(pool)
        .await?
    }))
}

/// A reviewed row's answers: the model's (JSON text) beside the review's.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ReviewedRow {
    pub row_index: i64,
    pub model: Option<String>,
    pub decision: String,
    pub answer: Option<String>,
}

/// Every reviewed row of batch `batch_id`, in row order.
pub async fn reviewed_rows(db: &Database, batch_id: i64) -> Result<Vec<ReviewedRow>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT v.row_index, r.result AS model, v.decision, v.answer FROM row_reviews v \
             JOIN batch_rows r ON r.batch_id = v.batch_id AND r.row_index = v.row_index \
             WHERE v.batch_id = $1 ORDER BY v.row_index",
        )
        .bind(batch_id)
        .fetch_all(pool)
        .await?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[tokio::test]
    async fn a_review_sits_beside_the_model_answer_and_a_second_one_replaces_the_first() {
        let (db, _place) = testing::fresh_database().await;
        let id = crate::queue::test_support::batch(&db, "local", 2, 1).await;
        let accept = NewReview {
            decision: "accept",
            answer: Some(r#"{"label":"a"}"#),
            reason: None,
            reviewer_id: None,
            reviewed_by: "local",
            attempt: 1,
        };
        assert!(
            !set_review(&db, "someone else", id, 0, accept)
                .await
                .expect("write"),
            "not another owner's batch"
        );
        assert!(
            !set_review(&db, "local", id, 9, accept)
                .await
                .expect("write")
        );
        assert!(
            set_review(&db, "local", id, 0, accept)
                .await
                .expect("write")
        );
        let fix = NewReview {
            decision: "fix",
            answer: Some(r#"{"label":"b"}"#),
            reason: Some("it is b"),
            ..accept
        };
        assert!(set_review(&db, "local", id, 0, fix).await.expect("write"));
        let stored = review(&db, id, 0).await.expect("read").expect("reviewed");
        assert_eq!(stored.decision, "fix");
        assert_eq!(stored.answer.as_deref(), Some(r#"{"label":"b"}"#));
        assert_eq!(stored.reason.as_deref(), Some("it is b"));
        assert_eq!(review(&db, id, 1).await.expect("read"), None);
        let model = testing::texts(
            &db,
            "SELECT result FROM batch_rows WHERE batch_id = $1 AND row_index = 0",
            &[id],
        )
        .await;
        assert_eq!(model, [None], "the model's answer is untouched");
        let rows = reviewed_rows(&db, id).await.expect("read");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].row_index, rows[0].decision.as_str()), (0, "fix"));
    }
}
