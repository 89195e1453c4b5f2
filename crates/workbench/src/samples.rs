//! "Review a sample": Rowbench draws rows at random from a finished batch's answers (stratified
//! by the model's answer to an enum or yes/no field when asked), the reviewer goes through them,
//! and the sample's reviews estimate each field's accuracy over the whole batch with a 95%
//! interval ([`crate::accuracy::sample_accuracy`]).

use serde::{Deserialize, Serialize};

use crate::accuracy::SampleFieldAccuracy;

/// The largest sample drawn: beyond it an interval narrows by little for a lot of reviewing.
pub const MAX_SAMPLE: u64 = 10_000;

/// `POST /api/batches/{id}/sample` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    /// Rows to draw.
    pub size: u64,
    /// An enum or boolean field: each of the model's answers to it is a stratum, drawn in
    /// proportion to its share of the batch.
    #[serde(default)]
    pub stratify_by: Option<String>,
}

/// One stratum of a review sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleStratumView {
    /// The model's answer that makes the stratum (`true`/`false` for a yes/no field; empty for
    /// rows without one, and for the one stratum of a simple random sample).
    pub value: String,
    /// The batch's answered rows in it when the sample was drawn.
    pub population: u64,
    /// The sample's rows in it, and of those the reviewed.
    pub rows: u64,
    pub reviewed: u64,
}

/// A batch's review sample and what its reviews say about the whole batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleReport {
    /// The rows asked for, and those drawn (every stratum gets one at least; a batch with
    /// fewer answered rows gives them all).
    pub size: u64,
    pub rows: u64,
    pub stratify_by: Option<String>,
    /// The batch's answered rows when the sample was drawn: what the estimate speaks for.
    pub population: u64,
    pub drawn_by: String,
    pub drawn_at: String,
    pub drawn_at_ms: i64,
    /// The sample's rows someone reviewed.
    pub reviewed: u64,
    pub strata: Vec<SampleStratumView>,
    /// Per answer field, the batch's accuracy estimated from the sample.
    pub fields: Vec<SampleFieldAccuracy>,
    /// What counts as equal for number fields.
    pub tolerance: f64,
}

#[cfg(feature = "server")]
mod server {
    use rowbench_schema::FieldType;
    use rowbench_store::Timestamp;
    use rowbench_store::batches::BatchStatus;
    use rowbench_store::reviews::{self as stored_reviews, JudgedSet};
    use rowbench_store::samples::{self as stored, SampleDraw};
    use serde_json::json;

    use super::{MAX_SAMPLE, SampleReport, SampleRequest, SampleStratumView};
    use crate::accuracy::{JudgedReader, allocate, sample_accuracy};
    use crate::error::{Error, Result};
    use crate::{Actor, Workbench, display_time};

    impl Workbench {
        /// Draws a review sample of batch `id` (editors and admins), replacing the one it had;
        /// reviews already made stay, and count where they fall in the new sample. Only once
        /// the batch has stopped running: a sample drawn meanwhile would stand for the rows
        /// answered so far only.
        pub async fn draw_sample(
            &self,
            actor: &Actor,
            id: i64,
            request: SampleRequest,
        ) -> Result<SampleReport> {
            actor.must_edit("draw a review sample")?;
            let batch = self.stored_batch(actor, id).await?;
            if matches!(
                batch.summary.status,
                BatchStatus::Queued | BatchStatus::Running
            ) {
                return Err(Error::conflict(
                    "batch_running",
                    format!(
                        "Batch {id} is still running: draw the sample once it has finished \
                         (or pause it), so that the sample stands for all of its answers."
                    ),
                ));
            }
            if !(1..=MAX_SAMPLE).contains(&request.size) {
                return Err(Error::invalid(
                    "invalid_field",
                    format!(
                        "size must be between 1 and {MAX_SAMPLE} rows, not {}.",
                        request.size
                    ),
                )
                .with_details(json!({ "field": "size" })));
            }
            let field = request
                .stratify_by
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty());
            if let Some(name) = field {
                let fields = &batch.config.recipe.schema.fields;
                let Some(found) = fields.iter().find(|f| f.name == name) else {
                    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(Error::invalid(
                        "invalid_field",
                        format!(
                            "stratify_by names \"{name}\", which is not a field of the batch's \
                             schema ({}).",
                            names.join(", ")
                        ),
                    )
                    .with_details(json!({ "field": "stratify_by" })));
                };
                if !matches!(found.kind, FieldType::Enum { .. } | FieldType::Boolean) {
                    return Err(Error::invalid(
                        "invalid_field",
                        format!(
                            "stratify_by must be an enum or yes/no field: \"{name}\" is a {} field, \
                             whose answers are too many to make strata of.",
                            found.kind.label().to_lowercase()
                        ),
                    )
                    .with_details(json!({ "field": "stratify_by" })));
                }
            }
            let strata = stored::strata(&self.db, id, field).await?;
            let population: i64 = strata.iter().map(|(_, n)| n).sum();
            if population == 0 {
                return Err(Error::conflict(
                    "nothing_answered",
                    format!("Batch {id} has no answered rows to draw a sample from."),
                ));
            }
            let sizes: Vec<u64> = strata
                .iter()
                .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
                .collect();
            let takes = allocate(&sizes, request.size);
            let mut drawn = Vec::with_capacity(strata.len());
            for ((stratum, stratum_population), take) in strata.into_iter().zip(takes) {
                let take = i64::try_from(take).unwrap_or(i64::MAX);
                let rows = stored::draw_rows(&self.db, id, field, &stratum, take).await?;
                drawn.push((stratum, stratum_population, rows));
            }
            let draw = SampleDraw {
                size: i64::try_from(request.size).unwrap_or(i64::MAX),
                stratify_by: field.map(str::to_string),
                population,
                drawn_by: self.actor_name(actor).await,
                drawn_at: Timestamp::now(),
            };
            if !stored::replace_sample(&self.db, actor.owner(), id, &draw, &drawn).await? {
                return Err(Error::not_found(format!("Batch {id}")));
            }
            tracing::info!(batch_id = id, size = request.size, stratify_by = ?field, "review sample drawn");
            self.sample(actor, id, 0.0)
                .await?
                .ok_or_else(|| Error::not_found(format!("The review sample of batch {id}")))
        }

        /// Batch `id`'s review sample with the accuracy its reviews estimate (numbers within
        /// `tolerance` count as equal); `None` when none was drawn.
        pub async fn sample(
            &self,
            actor: &Actor,
            id: i64,
            tolerance: f64,
        ) -> Result<Option<SampleReport>> {
            let batch = self.stored_batch(actor, id).await?;
            let Some((draw, strata)) = stored::sample(&self.db, id).await? else {
                return Ok(None);
            };
            let fields = &batch.config.recipe.schema.fields;
            let reader = JudgedReader::new(fields, &batch.config.recipe.mapping);
            let mut rows = Vec::new();
            let source = stored_reviews::judged_source(&self.db, id).await?;
            if let Some(dataset_id) = source.and_then(|s| s.dataset_id) {
                reader
                    .each(
                        &self.db,
                        id,
                        dataset_id,
                        JudgedSet::Sample,
                        |stratum, row| {
                            rows.push((stratum.unwrap_or_default(), row));
                        },
                    )
                    .await?;
            }
            let whole = |n: i64| u64::try_from(n).unwrap_or(0);
            let weights: Vec<(String, u64)> = strata
                .iter()
                .map(|s| (s.stratum.clone(), whole(s.population)))
                .collect();
            let reviewed_in = |stratum: &str| {
                rows.iter()
                    .filter(|(s, row)| s == stratum && row.decision.is_some())
                    .count() as u64
            };
            let views = strata
                .iter()
                .map(|s| SampleStratumView {
                    value: s.stratum.clone(),
                    population: whole(s.population),
                    rows: whole(s.rows),
                    reviewed: reviewed_in(&s.stratum),
                })
                .collect::<Vec<_>>();
            Ok(Some(SampleReport {
                size: whole(draw.size),
                rows: views.iter().map(|s| s.rows).sum(),
                stratify_by: draw.stratify_by,
                population: whole(draw.population),
                drawn_by: draw.drawn_by,
                drawn_at: display_time(draw.drawn_at),
                drawn_at_ms: draw.drawn_at.as_millis(),
                reviewed: views.iter().map(|s| s.reviewed).sum(),
                strata: views,
                fields: sample_accuracy(fields, &weights, &rows, tolerance),
                tolerance,
            }))
        }

        /// Forgets batch `id`'s review sample (editors and admins); the reviews stay.
        pub async fn discard_sample(&self, actor: &Actor, id: i64) -> Result<()> {
            actor.must_edit("discard a review sample")?;
            self.stored_batch(actor, id).await?;
            if !stored::discard_sample(&self.db, actor.owner(), id).await? {
                return Err(Error::not_found(format!("The review sample of batch {id}")));
            }
            Ok(())
        }
    }
}
