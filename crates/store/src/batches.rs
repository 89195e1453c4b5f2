//! Batches: a started run of a prompt over a dataset, listed on the home page.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::{Database, StoreError, Timestamp};

/// Where a batch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    Queued,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

/// What the batches list shows of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct BatchSummary {
    pub id: i64,
    pub name: String,
    pub status: BatchStatus,
    pub total_rows: i64,
    pub done_rows: i64,
    pub failed_rows: i64,
    pub created_at: Timestamp,
}

/// What it takes to record a new batch.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub total_rows: i64,
    /// The frozen configuration (mapping, prompt, schema, settings) the batch runs with.
    pub config: &'a serde_json::Value,
}

/// Records a new queued batch and returns its id.
#[tracing::instrument(skip_all)]
pub async fn create(db: &Database, batch: NewBatch<'_>) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO batches (owner, name, total_rows, config, created_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(batch.owner)
    .bind(batch.name)
    .bind(batch.total_rows)
    .bind(batch.config.to_string())
    .bind(Timestamp::now())
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// The `owner`'s batches, newest first, at most `limit` of them.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Database, owner: &str, limit: u32) -> Result<Vec<BatchSummary>, StoreError> {
    let rows = sqlx::query_as(
        "SELECT id, name, status, total_rows, done_rows, failed_rows, created_at FROM batches \
         WHERE owner = ? ORDER BY created_at DESC, id DESC LIMIT ?",
    )
    .bind(owner)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;

    fn batch<'a>(owner: &'a str, name: &'a str, config: &'a serde_json::Value) -> NewBatch<'a> {
        NewBatch {
            owner,
            name,
            total_rows: 10,
            config,
        }
    }

    #[tokio::test]
    async fn a_fresh_database_lists_no_batches() {
        let (db, _dir) = fresh_database().await;
        assert!(list(&db, "local", 50).await.expect("query").is_empty());
    }

    #[tokio::test]
    async fn batches_are_listed_newest_first_and_only_to_their_owner() {
        let (db, _dir) = fresh_database().await;
        let config = serde_json::json!({});
        let first = create(&db, batch("alice", "first", &config))
            .await
            .expect("insert");
        let second = create(&db, batch("alice", "second", &config))
            .await
            .expect("insert");
        create(&db, batch("bob", "bob's", &config))
            .await
            .expect("insert");

        let listed = list(&db, "alice", 50).await.expect("query");
        let ids: Vec<i64> = listed.iter().map(|b| b.id).collect();
        assert_eq!(ids, vec![second, first]);
        assert_eq!(listed[0].status, BatchStatus::Queued);
        assert_eq!(listed[0].total_rows, 10);
    }

    #[tokio::test]
    async fn the_list_is_capped_at_the_limit() {
        let (db, _dir) = fresh_database().await;
        let config = serde_json::json!({});
        for i in 0..5 {
            create(&db, batch("local", &format!("b{i}"), &config))
                .await
                .expect("insert");
        }
        assert_eq!(list(&db, "local", 3).await.expect("query").len(), 3);
    }
}
