//! A batch's review sample: rows drawn at random from its answered rows, per stratum of the
//! model's answer to one field when asked, with each stratum's share of the batch. How many rows
//! each stratum gets is the use cases' rule; this module counts, draws and stores.

use sqlx::FromRow;

use crate::database::{Dialect, on_pool, on_writer};
use crate::{Database, StoreError, Timestamp};

/// A sample as drawn.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SampleDraw {
    /// The rows asked for.
    pub size: i64,
    /// The field the strata are the model's answers to; `None` for a simple random sample.
    pub stratify_by: Option<String>,
    /// The batch's answered rows when it was drawn.
    pub population: i64,
    pub drawn_by: String,
    pub drawn_at: Timestamp,
}

/// One stratum of a drawn sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleStratum {
    /// The model's answer that makes the stratum (`true`/`false` for a boolean, `''` for a row
    /// without one and for the one stratum of a simple random sample).
    pub stratum: String,
    /// The batch's answered rows in it when the sample was drawn.
    pub population: i64,
    /// The sample's rows in it.
    pub rows: i64,
}

/// The text a row's answer to `field` is grouped by, as SQL over `r.result`; `$2` is the field.
fn stratum_sql(dialect: Dialect, field: Option<&str>) -> &'static str {
    match (field, dialect) {
        (None, _) => "''",
        // JSON true and false read back as 1 and 0 in SQLite: named as PostgreSQL names them.
        (Some(_), Dialect::Sqlite) => {
            "CASE json_type(r.result, $2) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
             WHEN 'text' THEN json_extract(r.result, $2) ELSE '' END"
        }
        (Some(_), Dialect::Postgres) => "COALESCE(r.result::json ->> $2, '')",
    }
}

/// The field as `$2` of [`stratum_sql`] expects it: a JSON path in SQLite, the key in
/// PostgreSQL. Field names are identifiers (letters, digits, underscores).
fn field_parameter(dialect: Dialect, field: Option<&str>) -> String {
    match (field, dialect) {
        (None, _) => String::new(),
        (Some(field), Dialect::Sqlite) => format!("$.\"{field}\""),
        (Some(field), Dialect::Postgres) => field.to_string(),
    }
}

/// Batch `batch_id`'s answered rows per model's answer to `field` (one stratum `''` without a
/// field), largest first.
pub async fn strata(
    db: &Database,
    batch_id: i64,
    field: Option<&str>,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(on_pool!(db, |pool, dialect| {
        let sql = format!(
            "SELECT s, COUNT(*) FROM (SELECT {} AS s FROM batch_rows r \
             WHERE r.batch_id = $1 AND r.status = 'succeeded') t \
             GROUP BY s ORDER BY COUNT(*) DESC, s",
            stratum_sql(dialect, field)
        );
        let mut query = sqlx::query_as(&sql).bind(batch_id);
        if field.is_some() {
            query = query.bind(field_parameter(dialect, field));
        }
        query.fetch_all(pool).await?
    }))
}

/// Up to `take` answered rows of batch `batch_id` drawn at random from the stratum whose answer
/// to `field` is `stratum` (from every answered row without a field), in row order.
pub async fn draw_rows(
    db: &Database,
    batch_id: i64,
    field: Option<&str>,
    stratum: &str,
    take: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut rows: Vec<i64> = on_pool!(db, |pool, dialect| {
        let sql = match field {
            Some(_) => format!(
                "SELECT r.row_index FROM batch_rows r \
                 WHERE r.batch_id = $1 AND r.status = 'succeeded' AND {} = $3 \
                 ORDER BY random() LIMIT $4",
                stratum_sql(dialect, field)
            ),
            None => "SELECT r.row_index FROM batch_rows r \
                     WHERE r.batch_id = $1 AND r.status = 'succeeded' \
                     ORDER BY random() LIMIT $2"
                .to_string(),
        };
        let mut query = sqlx::query_scalar(&sql).bind(batch_id);
        if field.is_some() {
            query = query.bind(field_parameter(dialect, field)).bind(stratum);
        }
        query.bind(take).fetch_all(pool).await?
    });
    rows.sort_unstable();
    Ok(rows)
}

/// Replaces `owner`'s batch `batch_id`'s sample with `draw`: its strata with their populations,
/// and the drawn rows of each. False when the batch is not `owner`'s.
pub async fn replace_sample(
    db: &Database,
    owner: &str,
    batch_id: i64,
    draw: &SampleDraw,
    strata: &[(String, i64, Vec<i64>)],
) -> Result<bool, StoreError> {
    Ok(on_writer!(db, |conn, dialect| {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let mine: Option<i64> =
            sqlx::query_scalar("SELECT id FROM batches WHERE id = $1 AND owner = $2")
                .bind(batch_id)
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?;
        if mine.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM review_sample_draws WHERE batch_id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO review_sample_draws (batch_id, size, stratify_by, population, drawn_by, \
             drawn_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(batch_id)
        .bind(draw.size)
        .bind(&draw.stratify_by)
        .bind(draw.population)
        .bind(&draw.drawn_by)
        .bind(draw.drawn_at)
        .execute(&mut *tx)
        .await?;
        // The rows go in as one JSON array per stratum: one statement, however many there are.
        let each = match dialect {
            Dialect::Sqlite => "SELECT $1, value, $2 FROM json_each($3)",
            Dialect::Postgres => {
                "SELECT $1, value::bigint, $2 FROM json_array_elements_text($3::json)"
            }
        };
        for (stratum, population, rows) in strata {
            sqlx::query(
                "INSERT INTO review_sample_strata (batch_id, stratum, population) \
                 VALUES ($1, $2, $3)",
            )
            .bind(batch_id)
            .bind(stratum)
            .bind(population)
            .execute(&mut *tx)
            .await?;
            let list = serde_json::to_string(rows).map_err(|e| StoreError::Corrupt {
                what: "sample rows",
                reason: e.to_string(),
            })?;
            sqlx::query(&format!(
                "INSERT INTO review_samples (batch_id, row_index, stratum) {each}"
            ))
            .bind(batch_id)
            .bind(stratum)
            .bind(list)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        true
    }))
}

/// Batch `batch_id`'s sample and its strata (largest first), if one was drawn.
pub async fn sample(
    db: &Database,
    batch_id: i64,
) -> Result<Option<(SampleDraw, Vec<SampleStratum>)>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        let draw: Option<SampleDraw> = sqlx::query_as(
            "SELECT size, stratify_by, population, drawn_by, drawn_at FROM review_sample_draws \
             WHERE batch_id = $1",
        )
        .bind(batch_id)
        .fetch_optional(pool)
        .await?;
        match draw {
            None => None,
            Some(draw) => {
                let strata: Vec<(String, i64, i64)> = sqlx::query_as(
                    "SELECT t.stratum, t.population, \
                     (SELECT COUNT(*) FROM review_samples s \
                      WHERE s.batch_id = t.batch_id AND s.stratum = t.stratum) \
                     FROM review_sample_strata t WHERE t.batch_id = $1 \
                     ORDER BY t.population DESC, t.stratum",
                )
                .bind(batch_id)
                .fetch_all(pool)
                .await?;
                let strata = strata
                    .into_iter()
                    .map(|(stratum, population, rows)| SampleStratum {
                        stratum,
                        population,
                        rows,
                    })
                    .collect();
                Some((draw, strata))
            }
        }
    }))
}

/// Removes `owner`'s batch `batch_id`'s sample (its reviews stay). False when there was none.
pub async fn discard_sample(db: &Database, owner: &str, batch_id: i64) -> Result<bool, StoreError> {
    Ok(on_writer!(db, |conn, _dialect| {
        sqlx::query(
            "DELETE FROM review_sample_draws WHERE batch_id = $1 \
             AND batch_id IN (SELECT id FROM batches WHERE owner = $2)",
        )
        .bind(batch_id)
        .bind(owner)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[tokio::test]
    async fn strata_name_yes_and_no_alike_on_both_engines_and_a_draw_keeps_to_its_stratum() {
        let (db, _place) = testing::fresh_database().await;
        let id = crate::queue::test_support::batch(&db, "local", 6, 1).await;
        // Rows 0–3 answered yes, 4 no, 5 without the field; a failed row is not answered.
        let answers = [
            r#"{"flag":true,"label":"a"}"#,
            r#"{"flag":true,"label":"a"}"#,
            r#"{"flag":true,"label":"b"}"#,
            r#"{"flag":true,"label":"b"}"#,
            r#"{"flag":false,"label":"b"}"#,
            r#"{"label":"c"}"#,
        ];
        for (row, answer) in answers.iter().enumerate() {
            let sql = format!(
                "UPDATE batch_rows SET status = 'succeeded', result = '{answer}' \
                 WHERE batch_id = $1 AND row_index = $2"
            );
            testing::execute(&db, &sql, &[id, row as i64]).await;
        }
        assert_eq!(
            strata(&db, id, Some("flag")).await.expect("read"),
            [
                ("true".to_string(), 4),
                (String::new(), 1),
                ("false".to_string(), 1)
            ]
        );
        assert_eq!(
            strata(&db, id, None).await.expect("read"),
            [(String::new(), 6)]
        );
        let yes = draw_rows(&db, id, Some("flag"), "true", 3)
            .await
            .expect("draw");
        assert_eq!(yes.len(), 3);
        assert!(yes.iter().all(|r| (0..4).contains(r)), "{yes:?}");
        let b = draw_rows(&db, id, Some("label"), "b", 10)
            .await
            .expect("draw");
        assert_eq!(b, [2, 3, 4], "every row of the stratum, in row order");

        let draw = SampleDraw {
            size: 3,
            stratify_by: Some("flag".into()),
            population: 6,
            drawn_by: "local".into(),
            drawn_at: Timestamp::now(),
        };
        let drawn = [
            ("true".to_string(), 4, yes.clone()),
            ("false".to_string(), 1, vec![4]),
        ];
        assert!(
            !replace_sample(&db, "mallory", id, &draw, &drawn)
                .await
                .expect("write")
        );
        assert!(
            replace_sample(&db, "local", id, &draw, &drawn)
                .await
                .expect("write")
        );
        let (stored, strata) = sample(&db, id).await.expect("read").expect("drawn");
        assert_eq!(stored, draw);
        assert_eq!(
            strata,
            [
                SampleStratum {
                    stratum: "true".into(),
                    population: 4,
                    rows: 3
                },
                SampleStratum {
                    stratum: "false".into(),
                    population: 1,
                    rows: 1
                }
            ]
        );
        // Drawn again, the old rows go.
        let again = [(String::new(), 6, vec![5])];
        assert!(
            replace_sample(
                &db,
                "local",
                id,
                &SampleDraw {
                    stratify_by: None,
                    ..draw
                },
                &again
            )
            .await
            .expect("write")
        );
        let (_, strata) = sample(&db, id).await.expect("read").expect("drawn");
        assert_eq!(strata.len(), 1);
        assert_eq!(strata[0].rows, 1);
        assert!(!discard_sample(&db, "mallory", id).await.expect("write"));
        assert!(discard_sample(&db, "local", id).await.expect("write"));
        assert_eq!(sample(&db, id).await.expect("read"), None);
        assert_eq!(
            testing::scalar_i64(
                &db,
                "SELECT COUNT(*) FROM review_samples WHERE batch_id = $1",
                &[id]
            )
            .await,
            0,
            "its rows went with it"
        );
    }
}
