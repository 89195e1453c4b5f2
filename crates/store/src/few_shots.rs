//! The rows a re-run may show as worked examples (answers a person accepted or fixed), and the
//! few-shot sets re-runs froze, by generation. What an example holds is the recipe's business;
//! this module reads and keeps its JSON.

use rowbench_recipe::few_shot::FewShotSet;
use serde_json::Value;

use crate::database::on_pool;
use crate::{Database, StoreError};

/// A row whose current answer a person vouched for.
#[derive(Debug, Clone, PartialEq)]
pub struct VouchedRow {
    pub row_index: i64,
    /// The dataset row's cells, in column order.
    pub cells: Vec<String>,
    /// The model's answer they accepted, or their fix.
    pub answer: Value,
}

/// Up to `limit` rows of batch `batch_id` whose current answer was accepted or fixed: fixes
/// first (a correction teaches the most), then the most recently reviewed.
pub async fn vouched_rows(
    db: &Database,
    batch_id: i64,
    limit: usize,
) -> Result<Vec<VouchedRow>, StoreError> {
    let records: Vec<(i64, Option<String>, Option<String>)> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT v.row_index, d.cells, v.answer FROM row_reviews v \
             JOIN batch_rows r ON r.batch_id = v.batch_id AND r.row_index = v.row_index \
             JOIN batches b ON b.id = v.batch_id \
             JOIN dataset_rows d ON d.dataset_id = b.dataset_id AND d.row_index = v.row_index \
             WHERE v.batch_id = $1 AND v.decision IN ('accept', 'fix') AND v.attempt = r.attempt \
             AND v.answer IS NOT NULL \
             ORDER BY CASE v.decision WHEN 'fix' THEN 0 ELSE 1 END, v.reviewed_at DESC, v.row_index \
             LIMIT $2",
        )
        .bind(batch_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?
    });
    records
        .into_iter()
        .filter_map(|(row_index, cells, answer)| Some((row_index, cells?, answer?)))
        .map(|(row_index, cells, answer)| {
            Ok(VouchedRow {
                row_index,
                cells: serde_json::from_str(&cells)
                    .map_err(|e| StoreError::corrupt("row cells", e))?,
                answer: serde_json::from_str(&answer)
                    .map_err(|e| StoreError::corrupt("review answer", e))?,
            })
        })
        .collect()
}

/// The few-shot set batch `batch_id`'s re-run `generation` froze.
pub async fn few_shot_set(
    db: &Database,
    batch_id: i64,
    generation: i64,
) -> Result<Option<FewShotSet>, StoreError> {
    let examples: Option<String> = on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar("SELECT examples FROM few_shots WHERE batch_id = $1 AND generation = $2")
            .bind(batch_id)
            .bind(generation)
            .fetch_optional(pool)
            .await?
    });
    examples
        .map(|json| serde_json::from_str(&json).map_err(|e| StoreError::corrupt("few-shot set", e)))
        .transpose()
}
