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
        let done = sqlx::query(
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
        .rows_affected();
        if done == 1 {
            sqlx::query("UPDATE batches SET reviews_version = reviews_version + 1 WHERE id = $1")
                .bind(batch_id)
                .execute(&mut *conn)
                .await?;
        }
        done
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

/// One row as a batch's accuracy reads it: the model's answer, the row's review if any, and
/// its expected answers from the gold columns (JSON text and cells, as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedRow {
    pub row_index: i64,
    pub model: Option<String>,
    /// `accept`, `fix` or `reject`.
    pub decision: Option<String>,
    pub answer: Option<String>,
    /// The cells of the gold columns asked for, in that order.
    pub gold: Vec<Option<String>>,
    /// The row's stratum in the batch's review sample (read from [`JudgedSet::Sample`] only).
    pub stratum: Option<String>,
}

/// Which of a batch's rows [`judged_rows`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JudgedSet {
    /// Every row, without reviews.
    Every,
    /// The reviewed rows with their reviews (read from the reviews, so a few reviews on a
    /// million rows cost a few lookups).
    Reviewed,
    /// The rows of the batch's review sample, with their reviews if any and their strata.
    Sample,
}

/// What a batch's accuracy is read from, and the versions that say when it may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgedSource {
    pub dataset_id: Option<i64>,
    pub answers_version: i64,
    pub reviews_version: i64,
}

/// Batch `batch_id`'s dataset and versions, read before its rows (a change meanwhile moves a
/// version past the one read, so what is cached under it is never newer in name than content).
pub async fn judged_source(
    db: &Database,
    batch_id: i64,
) -> Result<Option<JudgedSource>, StoreError> {
    let found: Option<(Option<i64>, i64, i64)> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT dataset_id, answers_version, reviews_version FROM batches WHERE id = $1",
        )
        .bind(batch_id)
        .fetch_optional(pool)
        .await?
    });
    Ok(found.map(
        |(dataset_id, answers_version, reviews_version)| JudgedSource {
            dataset_id,
            answers_version,
            reviews_version,
        },
    ))
}

/// Up to `limit` rows of the `set` of batch `batch_id` after row `after`, in row order, with
/// the cells of its `gold_columns`.
pub async fn judged_rows(
    db: &Database,
    batch_id: i64,
    dataset_id: i64,
    gold_columns: &[usize],
    set: JudgedSet,
    after: i64,
    limit: u32,
) -> Result<Vec<JudgedRow>, StoreError> {
    use crate::database::Dialect;
    use sqlx::Row;
    let rows = on_pool!(db, |pool, dialect| {
        let cells: String = gold_columns
            .iter()
            .map(|i| match dialect {
                Dialect::Sqlite => format!(", json_extract(d.cells, '$[{i}]')"),
                Dialect::Postgres => format!(", d.cells::json ->> {i}"),
            })
            .collect();
        let none = match dialect {
            Dialect::Sqlite => "NULL",
            Dialect::Postgres => "NULL::text",
        };
        let sql = match (set, dialect) {
            (JudgedSet::Reviewed, Dialect::Sqlite) => format!(
                "SELECT v.row_index, r.result, v.decision, v.answer{cells}, {none} \
                 FROM row_reviews v CROSS JOIN batch_rows r CROSS JOIN dataset_rows d \
                 WHERE v.batch_id = $1 AND r.batch_id = v.batch_id AND r.row_index = v.row_index \
                 AND d.dataset_id = $2 AND d.row_index = v.row_index AND v.row_index > $3 \
                 ORDER BY v.row_index LIMIT $4"
            ),
            (JudgedSet::Reviewed, Dialect::Postgres) => format!(
                "SELECT v.row_index, r.result, v.decision, v.answer{cells}, {none} \
                 FROM row_reviews v \
                 JOIN batch_rows r ON r.batch_id = v.batch_id AND r.row_index = v.row_index \
                 JOIN dataset_rows d ON d.dataset_id = $2 AND d.row_index = v.row_index \
                 WHERE v.batch_id = $1 AND v.row_index > $3 ORDER BY v.row_index LIMIT $4"
            ),
            (JudgedSet::Sample, _) => format!(
                "SELECT s.row_index, r.result, v.decision, v.answer{cells}, s.stratum \
                 FROM review_samples s \
                 JOIN batch_rows r ON r.batch_id = s.batch_id AND r.row_index = s.row_index \
                 JOIN dataset_rows d ON d.dataset_id = $2 AND d.row_index = s.row_index \
                 LEFT JOIN row_reviews v ON v.batch_id = s.batch_id AND v.row_index = s.row_index \
                 WHERE s.batch_id = $1 AND s.row_index > $3 ORDER BY s.row_index LIMIT $4"
            ),
            (JudgedSet::Every, _) => format!(
                "SELECT r.row_index, r.result, {none}, {none}{cells}, {none} FROM batch_rows r \
                 JOIN dataset_rows d ON d.dataset_id = $2 AND d.row_index = r.row_index \
                 WHERE r.batch_id = $1 AND r.row_index > $3 ORDER BY r.row_index LIMIT $4"
            ),
        };
        sqlx::query(&sql)
            .bind(batch_id)
            .bind(dataset_id)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(JudgedRow {
                    row_index: row.try_get(0)?,
                    model: row.try_get(1)?,
                    decision: row.try_get(2)?,
                    answer: row.try_get(3)?,
                    gold: (0..gold_columns.len())
                        .map(|i| row.try_get(4 + i))
                        .collect::<Result<_, _>>()?,
                    stratum: row.try_get(4 + gold_columns.len())?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    Ok(rows)
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
        let source = judged_source(&db, id).await.expect("read").expect("there");
        assert_eq!(source.reviews_version, 2, "each review moves the version");
        let dataset = source.dataset_id.expect("a dataset");
        let rows = judged_rows(&db, id, dataset, &[0], JudgedSet::Reviewed, -1, 10)
            .await
            .expect("read");
        assert_eq!(rows.len(), 1, "only the reviewed row");
        assert_eq!(
            (rows[0].row_index, rows[0].decision.as_deref()),
            (0, Some("fix"))
        );
        assert_eq!(rows[0].gold.len(), 1, "with its gold cell");
        let rows = judged_rows(&db, id, dataset, &[0], JudgedSet::Every, -1, 10)
            .await
            .expect("read");
        assert_eq!(
            rows.iter()
                .map(|r| (r.row_index, r.decision.as_deref()))
                .collect::<Vec<_>>(),
            [(0, None), (1, None)],
            "every row, without reviews"
        );
        let after = judged_rows(&db, id, dataset, &[0], JudgedSet::Every, 0, 10)
            .await
            .expect("read");
        assert_eq!(after.iter().map(|r| r.row_index).collect::<Vec<_>>(), [1]);
    }
}
