//! How often the model was right, per answer field, measured on the rows people reviewed and on
//! the expected answers of gold columns: an accepted row counts every field as right; a fixed
//! row counts a field right where the model's value equals the fix's. A rejected row names no
//! right answer, so it is counted apart; where a gold column has one, that is used, as for any
//! row no one reviewed. Each accuracy comes with its 95% Wilson score interval, and enum and
//! boolean fields with a confusion matrix (model's value against the right one).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use rowbench_schema::{FieldType, SchemaField};

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `correct` successes out of `n`, at 95%: `(low, high)`, or
/// `None` when nothing was counted. Unlike the normal approximation it stays inside 0–1 and is
/// honest for small counts and for accuracies near 0 or 1.
pub fn wilson(correct: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    wilson_for(correct as f64 / n as f64, n as f64)
}

/// The Wilson score interval at 95% for an estimated proportion `p` over an effective number of
/// rows `n` (which need not be whole, as for a stratified sample's estimate).
pub fn wilson_for(p: f64, n: f64) -> Option<(f64, f64)> {
    if n.is_nan() || n <= 0.0 || !p.is_finite() {
        return None;
    }
    let p = p.clamp(0.0, 1.0);
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// One stratum of a sample drawn by the model's answer: how many rows of the batch it has, and
/// of the sample's rows in it how many were reviewed and found right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stratum {
    pub population: u64,
    pub reviewed: u64,
    pub correct: u64,
}

/// The whole batch's accuracy estimated from a stratified sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StratifiedEstimate {
    pub accuracy: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// The number of rows a simple random sample would need for the same variance (Kish's
    /// effective sample size), which the Wilson interval is taken over.
    pub effective_rows: f64,
}

/// The batch's accuracy from a stratified sample: each stratum's accuracy weighted by its share
/// of the batch (Σ W_h·p_h), its variance Σ W_h²·p_h(1−p_h)/n_h turned into an effective number
/// of rows for the Wilson interval. Strata with no reviewed row are left out and the others'
/// weights scaled up to one: the estimate then says nothing about them. `None` before any
/// review.
pub fn stratified(strata: &[Stratum]) -> Option<StratifiedEstimate> {
    let judged: Vec<&Stratum> = strata.iter().filter(|s| s.reviewed > 0).collect();
    let population: u64 = judged.iter().map(|s| s.population).sum();
    if judged.is_empty() || population == 0 {
        return None;
    }
    let (mut p, mut variance) = (0.0, 0.0);
    for s in &judged {
        let weight = s.population as f64 / population as f64;
        let p_h = s.correct as f64 / s.reviewed as f64;
        p += weight * p_h;
        variance += weight * weight * p_h * (1.0 - p_h) / s.reviewed as f64;
    }
    let reviewed: u64 = judged.iter().map(|s| s.reviewed).sum();
    // Every stratum all right (or all wrong) has no variance to speak of: the rows themselves.
    let effective_rows = if variance > 0.0 && p > 0.0 && p < 1.0 {
        p * (1.0 - p) / variance
    } else {
        reviewed as f64
    };
    let (ci_low, ci_high) = wilson_for(p, effective_rows)?;
    Some(StratifiedEstimate {
        accuracy: p,
        ci_low,
        ci_high,
        effective_rows,
    })
}

/// One field's accuracy as `GET /api/batches/{id}/accuracy` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldAccuracy {
    pub field: String,
    /// Rows in which the field was compared with a right answer: reviewed (accepted or fixed)
    /// or with a gold cell.
    pub reviewed: u64,
    pub correct: u64,
    /// Of `reviewed`, the rows compared with a gold column's answer.
    pub gold: u64,
    /// `correct / reviewed`; `None` before any review.
    pub accuracy: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Enum and boolean fields: `[model's value, reviewed value, rows]`, most rows first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Vec<ConfusionCell>>,
}

/// How many rows the model answered `model` where the reviewer's answer is `reviewed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionCell {
    pub model: String,
    pub reviewed: String,
    pub rows: u64,
}

/// A batch's accuracy, per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchAccuracy {
    pub fields: Vec<FieldAccuracy>,
    /// Rows accepted, fixed and rejected.
    pub accepted: u64,
    pub fixed: u64,
    pub rejected: u64,
    /// What counts as equal for number fields: `|model − reviewed| ≤ tolerance`.
    pub tolerance: f64,
}

/// One row as the accuracy judges it: the model's answer, the row's review if any, and per
/// field (in schema order) the expected answer of its gold column if it has one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Judged {
    pub model: Option<Value>,
    /// `accept`, `fix` or `reject`.
    pub decision: Option<String>,
    pub answer: Option<Value>,
    pub gold: Vec<Option<Value>>,
}

/// A gold cell as the answer it expects for a field of this kind; `None` when the cell is empty
/// (that row has no expected answer) or cannot be one (a word in a number column).
pub fn gold_value(kind: &FieldType, cell: &str) -> Option<Value> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    match kind {
        FieldType::Number => cell.parse::<f64>().ok().map(Value::from),
        FieldType::Integer => cell
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| cell.parse::<f64>().ok().map(Value::from)),
        FieldType::Boolean => match cell.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Some(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        FieldType::StringList => Some(Value::Array(
            cell.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
        FieldType::String | FieldType::Enum { .. } => Some(Value::String(cell.to_string())),
    }
}

/// A value as the confusion matrix names it.
pub(crate) fn label(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Whether the model's value counts as right against the reviewed one (numbers within
/// `tolerance`; a missing value equals only another).
pub(crate) fn same(
    kind: &FieldType,
    model: Option<&Value>,
    reviewed: Option<&Value>,
    tolerance: f64,
) -> bool {
    match (kind, model, reviewed) {
        (FieldType::Number | FieldType::Integer, Some(a), Some(b)) => {
            match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= tolerance,
                _ => a == b,
            }
        }
        (_, a, b) => a.filter(|v| !v.is_null()) == b.filter(|v| !v.is_null()),
    }
}

/// What one row says about one field.
enum Verdict<'a> {
    /// The model's value beside the right one, from a review or else a gold cell.
    Compared {
        model: Option<&'a Value>,
        truth: Option<&'a Value>,
        from_gold: bool,
    },
    /// Rejected, with no gold cell to say what was right.
    Rejected,
}

/// How `row` judges field `index` (named `name`); `None` when it says nothing about it.
fn verdict<'a>(row: &'a Judged, index: usize, name: &str) -> Option<Verdict<'a>> {
    let model = row.model.as_ref().and_then(|m| m.get(name));
    let gold = || row.gold.get(index).and_then(Option::as_ref);
    let (truth, from_gold) = match row.decision.as_deref() {
        // An accepted row's model answer is the reviewed one, by definition.
        Some("accept") => (model, false),
        Some("fix") => (row.answer.as_ref().and_then(|a| a.get(name)), false),
        // Gold is measured on what the model answered; a failed row answered nothing.
        _ if row.model.is_none() => return None,
        Some("reject") => match gold() {
            Some(gold) => (Some(gold), true),
            None => return Some(Verdict::Rejected),
        },
        _ => (Some(gold()?), true),
    };
    if model.is_none() && truth.is_none() {
        return None;
    }
    Some(Verdict::Compared {
        model,
        truth,
        from_gold,
    })
}

/// One field's counts so far (signed: a row's contribution can be taken back out).
#[derive(Debug, Clone, Default)]
struct FieldTally {
    reviewed: i64,
    correct: i64,
    gold: i64,
    /// `(model, right, rows)`.
    cells: Vec<(String, String, i64)>,
}

/// The accuracy of a batch, counted one row at a time (a million rows are never held at once).
/// A row can also be taken out again: a batch's gold answers are counted once over every row,
/// then each reviewed row's gold contribution is replaced by its review's (see the server's
/// [`Workbench::accuracy`](crate::Workbench)).
#[derive(Debug, Clone)]
pub struct Tally {
    fields: Vec<SchemaField>,
    tolerance: f64,
    counts: Vec<FieldTally>,
    accepted: i64,
    fixed: i64,
    rejected: i64,
}

impl Tally {
    pub fn new(fields: &[SchemaField], tolerance: f64) -> Self {
        Tally {
            fields: fields.to_vec(),
            tolerance,
            counts: vec![FieldTally::default(); fields.len()],
            accepted: 0,
            fixed: 0,
            rejected: 0,
        }
    }

    pub fn add(&mut self, row: &Judged) {
        self.count(row, 1);
    }

    /// Takes back what [`Tally::add`] counted for `row`.
    pub fn remove(&mut self, row: &Judged) {
        self.count(row, -1);
    }

    fn count(&mut self, row: &Judged, sign: i64) {
        match row.decision.as_deref() {
            Some("accept") => self.accepted += sign,
            Some("fix") => self.fixed += sign,
            Some("reject") => self.rejected += sign,
            _ => {}
        }
        for (index, (field, tally)) in self.fields.iter().zip(&mut self.counts).enumerate() {
            // A rejection names no right answer: not counted here (see `sample_accuracy`).
            let Some(Verdict::Compared {
                model,
                truth,
                from_gold,
            }) = verdict(row, index, &field.name)
            else {
                continue;
            };
            tally.reviewed += sign;
            if from_gold {
                tally.gold += sign;
            }
            if same(&field.kind, model, truth, self.tolerance) {
                tally.correct += sign;
            }
            if matches!(field.kind, FieldType::Enum { .. } | FieldType::Boolean) {
                let (m, t) = (label(model), label(truth));
                match tally.cells.iter_mut().find(|c| c.0 == m && c.1 == t) {
                    Some(cell) => cell.2 += sign,
                    None => tally.cells.push((m, t, sign)),
                }
            }
        }
    }

    pub fn finish(self) -> BatchAccuracy {
        let whole = |n: i64| n.max(0) as u64;
        let fields = self
            .fields
            .iter()
            .zip(self.counts)
            .map(|(field, tally)| {
                let mut cells: Vec<ConfusionCell> = tally
                    .cells
                    .into_iter()
                    .filter(|c| c.2 > 0)
                    .map(|(model, reviewed, rows)| ConfusionCell {
                        model,
                        reviewed,
                        rows: whole(rows),
                    })
                    .collect();
                cells.sort_by(|a, b| {
                    b.rows
                        .cmp(&a.rows)
                        .then_with(|| a.model.cmp(&b.model))
                        .then_with(|| a.reviewed.cmp(&b.reviewed))
                });
                let (reviewed, correct) = (whole(tally.reviewed), whole(tally.correct));
                let interval = wilson(correct, reviewed);
                FieldAccuracy {
                    field: field.name.clone(),
                    reviewed,
                    correct,
                    gold: whole(tally.gold),
                    accuracy: (reviewed > 0).then(|| correct as f64 / reviewed as f64),
                    ci_low: interval.map(|i| i.0),
                    ci_high: interval.map(|i| i.1),
                    confusion: matches!(field.kind, FieldType::Enum { .. } | FieldType::Boolean)
                        .then_some(cells),
                }
            })
            .collect();
        BatchAccuracy {
            fields,
            accepted: whole(self.accepted),
            fixed: whole(self.fixed),
            rejected: whole(self.rejected),
            tolerance: self.tolerance,
        }
    }
}

/// One field's accuracy over the whole batch, estimated from its review sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleFieldAccuracy {
    pub field: String,
    /// The sample's rows that say whether the model was right in this field: reviewed, or
    /// with a gold answer.
    pub reviewed: u64,
    pub correct: u64,
    /// The estimate for the whole batch (each stratum weighted by its share); `None` before
    /// any of the sample is reviewed.
    pub accuracy: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// The rows a simple random sample would need for the same interval.
    pub effective_rows: Option<f64>,
}

/// Each field's accuracy over the batch from its review sample: `strata` are the sample's
/// strata with their populations, `rows` the sample's rows with their strata. A rejected row
/// without a gold answer counts the model wrong in every field it was sampled for: leaving it
/// out would make the batch look better than it is (a fix says which field was wrong).
pub fn sample_accuracy(
    fields: &[SchemaField],
    strata: &[(String, u64)],
    rows: &[(String, Judged)],
    tolerance: f64,
) -> Vec<SampleFieldAccuracy> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let mut counts: Vec<Stratum> = strata
                .iter()
                .map(|(_, population)| Stratum {
                    population: *population,
                    reviewed: 0,
                    correct: 0,
                })
                .collect();
            for (stratum, row) in rows {
                let Some(at) = strata.iter().position(|(s, _)| s == stratum) else {
                    continue;
                };
                let right = match verdict(row, index, &field.name) {
                    None => continue,
                    Some(Verdict::Rejected) => false,
                    Some(Verdict::Compared { model, truth, .. }) => {
                        same(&field.kind, model, truth, tolerance)
                    }
                };
                counts[at].reviewed += 1;
                counts[at].correct += u64::from(right);
            }
            let estimate = stratified(&counts);
            SampleFieldAccuracy {
                field: field.name.clone(),
                reviewed: counts.iter().map(|c| c.reviewed).sum(),
                correct: counts.iter().map(|c| c.correct).sum(),
                accuracy: estimate.map(|e| e.accuracy),
                ci_low: estimate.map(|e| e.ci_low),
                ci_high: estimate.map(|e| e.ci_high),
                effective_rows: estimate.map(|e| e.effective_rows),
            }
        })
        .collect()
}

/// How many rows of each stratum (given by its population) a sample of `size` draws: shares
/// proportional to the populations, the rows left by rounding down going to the largest
/// remainders, and at least one row in every stratum that has any, so that each can be
/// estimated (a few more than `size` when there are more strata than that allows). A size
/// beyond the population takes every row.
pub fn allocate(populations: &[u64], size: u64) -> Vec<u64> {
    let total: u64 = populations.iter().sum();
    if size >= total {
        return populations.to_vec();
    }
    let exact: Vec<f64> = populations
        .iter()
        .map(|&p| size as f64 * p as f64 / total as f64)
        .collect();
    let mut takes: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let left = size.saturating_sub(takes.iter().sum());
    let mut order: Vec<usize> = (0..populations.len()).collect();
    // Largest remainder first; ties to the larger stratum, then the first listed.
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra)
            .then(populations[b].cmp(&populations[a]))
            .then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .take(usize::try_from(left).unwrap_or(usize::MAX))
    {
        takes[i] += 1;
    }
    for (take, &population) in takes.iter_mut().zip(populations) {
        if *take == 0 && population > 0 {
            *take = 1;
        }
    }
    takes
}

/// The accuracy of `fields` over `rows`.
pub fn accuracy(fields: &[SchemaField], rows: &[Judged], tolerance: f64) -> BatchAccuracy {
    let mut tally = Tally::new(fields, tolerance);
    for row in rows {
        tally.add(row);
    }
    tally.finish()
}

#[cfg(feature = "server")]
pub use server::AccuracyCache;
#[cfg(feature = "server")]
pub(crate) use server::{JudgedReader, check_tolerance};

#[cfg(feature = "server")]
mod server {
    use rowbench_store::reviews as stored;

    use super::*;
    use crate::actor::Actor;
    use crate::error::{Error, Result};
    use crate::workbench::Workbench;

    /// A number tolerance as the accuracy and agreement reads take it: 0 or more.
    pub(crate) fn check_tolerance(tolerance: f64) -> Result<()> {
        if !tolerance.is_finite() || tolerance < 0.0 {
            return Err(Error::invalid(
                "invalid_parameter",
                "tolerance must be a number of 0 or more.",
            )
            .with_details(serde_json::json!({ "parameter": "tolerance" })));
        }
        Ok(())
    }

    impl Workbench {
        /// Batch `id`'s accuracy per field over its reviewed rows; numbers within `tolerance`
        /// count as equal.
        pub async fn accuracy(
            &self,
            actor: &Actor,
            id: i64,
            tolerance: f64,
        ) -> Result<BatchAccuracy> {
            check_tolerance(tolerance)?;
            let batch = self.stored_batch(actor, id).await?;
            let Some(source) = stored::judged_source(&self.db, id).await? else {
                return Err(Error::not_found(format!("Batch {id}")));
            };
            let fields = &batch.config.recipe.schema.fields;
            let Some(dataset_id) = source.dataset_id else {
                return Ok(accuracy(fields, &[], tolerance));
            };
            let key = CacheKey {
                batch_id: id,
                answers_version: source.answers_version,
                reviews_version: source.reviews_version,
                tolerance: tolerance.to_bits(),
            };
            if let Some(cached) = self.accuracy_cache.get(&key) {
                return Ok(cached);
            }
            let reader = JudgedReader::new(fields, &batch.config.recipe.mapping);
            let has_gold = !reader.columns().is_empty();
            // Every row's gold answers, counted as if no one had reviewed (kept until the
            // answers change: a review does not read the million rows again).
            let gold_key = GoldKey {
                batch_id: id,
                answers_version: source.answers_version,
                tolerance: tolerance.to_bits(),
            };
            let mut tally = match (has_gold, self.accuracy_cache.gold(&gold_key)) {
                (false, _) => Tally::new(fields, tolerance),
                (true, Some(tally)) => tally,
                (true, None) => {
                    let mut tally = Tally::new(fields, tolerance);
                    reader
                        .each(
                            &self.db,
                            id,
                            dataset_id,
                            stored::JudgedSet::Every,
                            |_, row| {
                                tally.add(&row);
                            },
                        )
                        .await?;
                    self.accuracy_cache.keep_gold(gold_key, tally.clone());
                    tally
                }
            };
            // Each reviewed row: its gold contribution out, its review's in.
            reader
                .each(
                    &self.db,
                    id,
                    dataset_id,
                    stored::JudgedSet::Reviewed,
                    |_, row| {
                        if has_gold {
                            tally.remove(&Judged {
                                decision: None,
                                answer: None,
                                ..row.clone()
                            });
                        }
                        tally.add(&row);
                    },
                )
                .await?;
            let measured = tally.finish();
            self.accuracy_cache.keep(key, measured.clone());
            Ok(measured)
        }
    }

    /// Rows read at a time.
    const PAGE: u32 = 5_000;

    /// Reads a batch's stored rows as the accuracy judges them, with the expected answers of
    /// its gold columns.
    pub(crate) struct JudgedReader<'a> {
        fields: &'a [SchemaField],
        /// Gold columns by position, with the field (by position) each one answers.
        gold: Vec<(usize, usize)>,
    }

    impl<'a> JudgedReader<'a> {
        pub(crate) fn new(
            fields: &'a [SchemaField],
            mapping: &rowbench_mapping::ColumnMapping,
        ) -> Self {
            let gold = mapping
                .gold()
                .filter_map(|(column, field)| {
                    fields
                        .iter()
                        .position(|f| f.name == field)
                        .map(|f| (column, f))
                })
                .collect();
            Self { fields, gold }
        }

        /// The gold columns to read with each row.
        fn columns(&self) -> Vec<usize> {
            self.gold.iter().map(|(c, _)| *c).collect()
        }

        /// Hands every row of `set` of batch `batch_id` to `visit` with its sample stratum,
        /// [`PAGE`] rows read at a time (a million rows are never held at once).
        pub(crate) async fn each(
            &self,
            db: &rowbench_store::Database,
            batch_id: i64,
            dataset_id: i64,
            set: stored::JudgedSet,
            mut visit: impl FnMut(Option<String>, Judged),
        ) -> Result<()> {
            let columns = self.columns();
            let mut after = -1;
            loop {
                let rows =
                    stored::judged_rows(db, batch_id, dataset_id, &columns, set, after, PAGE)
                        .await?;
                let Some(last) = rows.last() else {
                    return Ok(());
                };
                after = last.row_index;
                let full = rows.len() == PAGE as usize;
                for mut row in rows {
                    let stratum = row.stratum.take();
                    visit(stratum, self.judged(row)?);
                }
                if !full {
                    return Ok(());
                }
            }
        }

        fn judged(&self, row: stored::JudgedRow) -> Result<Judged> {
            let parse = |text: Option<String>| -> Result<Option<Value>> {
                text.as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| Error::internal("reading judged answers", &e))
            };
            let mut expected = vec![None; self.fields.len()];
            for ((_, field), cell) in self.gold.iter().zip(&row.gold) {
                expected[*field] = cell
                    .as_deref()
                    .and_then(|c| gold_value(&self.fields[*field].kind, c));
            }
            Ok(Judged {
                model: parse(row.model)?,
                decision: row.decision,
                answer: parse(row.answer)?,
                gold: expected,
            })
        }
    }

    /// What a batch's accuracy was measured from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub(crate) struct CacheKey {
        batch_id: i64,
        answers_version: i64,
        reviews_version: i64,
        tolerance: u64,
    }

    /// What a batch's gold answers were counted from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub(crate) struct GoldKey {
        batch_id: i64,
        answers_version: i64,
        tolerance: u64,
    }

    /// Recently measured accuracies, read again only when the batch's answers or reviews
    /// changed, and the gold answers' counts, read again only when its answers changed (on a
    /// million rows with a gold column, counting them reads every row).
    #[derive(Debug, Default)]
    pub struct AccuracyCache {
        entries: std::sync::Mutex<std::collections::HashMap<CacheKey, BatchAccuracy>>,
        gold: std::sync::Mutex<std::collections::HashMap<GoldKey, Tally>>,
    }

    /// How many measures are kept; a full cache starts over.
    const KEEP: usize = 256;

    impl AccuracyCache {
        fn get(&self, key: &CacheKey) -> Option<BatchAccuracy> {
            // A poisoned lock only means another reader panicked mid-update of plain data.
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(key).cloned()
        }

        fn gold(&self, key: &GoldKey) -> Option<Tally> {
            let entries = self.gold.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(key).cloned()
        }

        fn keep_gold(&self, key: GoldKey, tally: Tally) {
            let mut entries = self.gold.lock().unwrap_or_else(|e| e.into_inner());
            entries.retain(|k, _| k.batch_id != key.batch_id || k.tolerance != key.tolerance);
            if entries.len() >= KEEP {
                entries.clear();
            }
            entries.insert(key, tally);
        }

        fn keep(&self, key: CacheKey, measured: BatchAccuracy) {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            // Older versions of the same batch are of no more use.
            entries.retain(|k, _| k.batch_id != key.batch_id || k.tolerance != key.tolerance);
            if entries.len() >= KEEP {
                entries.clear();
            }
            entries.insert(key, measured);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_wilson_bounds_follow_the_formula_at_three_points() {
        // Worked by hand from (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.96.
        let close = |a: f64, b: f64| (a - b).abs() < 5e-5;
        let (low, high) = wilson(93, 100).expect("counted");
        assert!(close(low, 0.8625) && close(high, 0.9657), "{low} {high}");
        let (low, high) = wilson(0, 10).expect("counted");
        assert!(close(low, 0.0) && close(high, 0.2775), "{low} {high}");
        let (low, high) = wilson(5, 5).expect("counted");
        assert!(close(low, 0.5655) && close(high, 1.0), "{low} {high}");
        assert_eq!(wilson(0, 0), None);
    }

    fn fields() -> Vec<SchemaField> {
        vec![
            SchemaField::new(
                "sentiment",
                FieldType::Enum {
                    options: vec!["positive".into(), "negative".into()],
                },
            ),
            SchemaField::new("score", FieldType::Number),
        ]
    }

    fn reviewed(model: Value, decision: &str, answer: Option<Value>) -> Judged {
        Judged {
            model: Some(model),
            decision: Some(decision.to_string()),
            answer,
            gold: Vec::new(),
        }
    }

    fn with_gold(model: Option<Value>, decision: Option<&str>, gold: [Option<Value>; 2]) -> Judged {
        Judged {
            model,
            decision: decision.map(str::to_string),
            answer: None,
            gold: gold.to_vec(),
        }
    }

    #[test]
    fn gold_cells_count_where_no_one_reviewed_and_a_review_wins_over_gold() {
        let rows = vec![
            // Gold says negative, the model said positive: wrong; the score matches.
            with_gold(
                Some(json!({"sentiment": "positive", "score": 3})),
                None,
                [Some(json!("negative")), Some(json!(3.0))],
            ),
            // Right on both.
            with_gold(
                Some(json!({"sentiment": "negative", "score": 1})),
                None,
                [Some(json!("negative")), Some(json!(1.0))],
            ),
            // Accepted: the review is the truth, whatever the gold cell says.
            with_gold(
                Some(json!({"sentiment": "positive", "score": 2})),
                Some("accept"),
                [Some(json!("negative")), None],
            ),
            // A failed row answered nothing: not counted against the model.
            with_gold(None, None, [Some(json!("positive")), Some(json!(2.0))]),
            // No gold cell, no review: nothing to compare.
            with_gold(
                Some(json!({"sentiment": "positive", "score": 9})),
                None,
                [None, None],
            ),
        ];
        let measured = accuracy(&fields(), &rows, 0.0);
        let sentiment = &measured.fields[0];
        // Rows 1, 2 (gold) and 3 (review): right on 2 and 3.
        assert_eq!(
            (sentiment.reviewed, sentiment.correct, sentiment.gold),
            (3, 2, 2)
        );
        let score = &measured.fields[1];
        assert_eq!((score.reviewed, score.correct, score.gold), (3, 3, 2));
        assert_eq!(measured.accepted, 1);
    }

    #[test]
    fn a_reviewed_rows_gold_count_taken_out_and_its_review_put_in_is_the_same_as_counting_afresh() {
        let gold_only = with_gold(
            Some(json!({"sentiment": "positive", "score": 3})),
            None,
            [Some(json!("negative")), Some(json!(3.0))],
        );
        let reviewed = Judged {
            decision: Some("accept".into()),
            ..gold_only.clone()
        };
        let other = with_gold(
            Some(json!({"sentiment": "negative", "score": 1})),
            None,
            [Some(json!("negative")), None],
        );
        let mut incremental = Tally::new(&fields(), 0.0);
        incremental.add(&gold_only);
        incremental.add(&other);
        incremental.remove(&gold_only);
        incremental.add(&reviewed);
        assert_eq!(
            incremental.finish(),
            accuracy(&fields(), &[reviewed, other], 0.0)
        );
    }

    #[test]
    fn a_stratified_sample_weights_each_stratum_by_its_share_where_the_pooled_count_does_not() {
        // 900 rows the model called positive, 100 negative; 10 of each reviewed: 9 and 5 right.
        let strata = [
            Stratum {
                population: 900,
                reviewed: 10,
                correct: 9,
            },
            Stratum {
                population: 100,
                reviewed: 10,
                correct: 5,
            },
        ];
        // Pooled, as if the 20 were a uniform sample: 14 / 20 = 70% (95% CI 48.1–85.5%).
        let (low, high) = wilson(14, 20).expect("counted");
        assert!((low - 0.4810).abs() < 5e-4 && (high - 0.8545).abs() < 5e-4);
        // Weighted: 0.9·0.9 + 0.1·0.5 = 0.86; variance 0.81·0.09/10 + 0.01·0.25/10 = 0.00754;
        // effective rows 0.86·0.14 / 0.00754 = 15.968; Wilson over those: 62.2–95.8%.
        let estimate = stratified(&strata).expect("reviewed");
        let close = |a: f64, b: f64| (a - b).abs() < 5e-4;
        assert!(close(estimate.accuracy, 0.86), "{estimate:?}");
        assert!(close(estimate.effective_rows, 15.968), "{estimate:?}");
        assert!(
            close(estimate.ci_low, 0.6222) && close(estimate.ci_high, 0.9582),
            "{estimate:?}"
        );
        // A stratum nobody reviewed is left out; none reviewed, no estimate.
        let partial = stratified(&[
            strata[0],
            Stratum {
                population: 5_000,
                reviewed: 0,
                correct: 0,
            },
        ])
        .expect("reviewed");
        assert!(close(partial.accuracy, 0.9));
        assert_eq!(
            stratified(&[Stratum {
                population: 10,
                reviewed: 0,
                correct: 0
            }]),
            None
        );
        // All right in every stratum: the interval is over the rows reviewed.
        let perfect = stratified(&[Stratum {
            population: 50,
            reviewed: 5,
            correct: 5,
        }])
        .expect("reviewed");
        assert_eq!(perfect.effective_rows, 5.0);
        assert_eq!(
            (perfect.ci_low, perfect.ci_high),
            wilson(5, 5).expect("counted")
        );
    }

    #[test]
    fn a_gold_cell_is_read_as_the_fields_kind() {
        assert_eq!(gold_value(&FieldType::Number, " 2.5 "), Some(json!(2.5)));
        assert_eq!(gold_value(&FieldType::Integer, "7"), Some(json!(7)));
        assert_eq!(gold_value(&FieldType::Boolean, "Yes"), Some(json!(true)));
        assert_eq!(gold_value(&FieldType::Boolean, "0"), Some(json!(false)));
        assert_eq!(gold_value(&FieldType::Boolean, "maybe"), None);
        assert_eq!(gold_value(&FieldType::Number, "n/a"), None);
        assert_eq!(gold_value(&FieldType::String, "  "), None);
        assert_eq!(
            gold_value(&FieldType::StringList, "a; b;"),
            Some(json!(["a", "b"]))
        );
    }

    #[test]
    fn accepted_rows_count_as_right_fixed_ones_field_by_field_and_rejected_ones_apart() {
        let rows = vec![
            reviewed(json!({"sentiment": "positive", "score": 4}), "accept", None),
            reviewed(json!({"sentiment": "positive", "score": 2}), "accept", None),
            reviewed(
                json!({"sentiment": "positive", "score": 3}),
                "fix",
                Some(json!({"sentiment": "negative", "score": 3})),
            ),
            reviewed(
                json!({"sentiment": "negative", "score": 1.0}),
                "fix",
                Some(json!({"sentiment": "negative", "score": 1.4})),
            ),
            reviewed(json!({"sentiment": "negative", "score": 5}), "reject", None),
        ];
        let exact = accuracy(&fields(), &rows, 0.0);
        assert_eq!((exact.accepted, exact.fixed, exact.rejected), (2, 2, 1));
        let sentiment = &exact.fields[0];
        // 4 judged rows: 2 accepted, the first fix changed it, the second kept it.
        assert_eq!((sentiment.reviewed, sentiment.correct), (4, 3));
        assert_eq!(sentiment.accuracy, Some(0.75));
        let (low, high) = wilson(3, 4).expect("counted");
        assert_eq!(
            (sentiment.ci_low, sentiment.ci_high),
            (Some(low), Some(high))
        );
        assert_eq!(
            sentiment.confusion.as_deref(),
            Some(
                &[
                    ConfusionCell {
                        model: "positive".into(),
                        reviewed: "positive".into(),
                        rows: 2
                    },
                    ConfusionCell {
                        model: "negative".into(),
                        reviewed: "negative".into(),
                        rows: 1
                    },
                    ConfusionCell {
                        model: "positive".into(),
                        reviewed: "negative".into(),
                        rows: 1
                    },
                ][..]
            )
        );
        // The score: 4 and 2 accepted, 3 = 3 kept, 1.0 against 1.4 wrong unless within 0.5.
        assert_eq!((exact.fields[1].reviewed, exact.fields[1].correct), (4, 3));
        assert_eq!(exact.fields[1].confusion, None);
        let tolerant = accuracy(&fields(), &rows, 0.5);
        assert_eq!(tolerant.fields[1].correct, 4);
    }

    #[test]
    fn a_sample_is_shared_out_in_proportion_with_the_remainders_to_the_largest_and_one_at_least() {
        // 100 of 1,000 rows over 700 / 200 / 97 / 3: exactly 70 / 20 / 9.7 / 0.3; rounded down
        // 70 / 20 / 9 / 0, the one row left to the largest remainder (0.7), and the last
        // stratum one row so that it can be estimated: 101 in all.
        assert_eq!(allocate(&[700, 200, 97, 3], 100), [70, 20, 10, 1]);
        // Two rows left over go to the two largest remainders (0.6 and 0.4, not 0.0).
        assert_eq!(allocate(&[500, 300, 200], 7), [4, 2, 1]);
        assert_eq!(
            allocate(&[5, 0, 2], 50),
            [5, 0, 2],
            "everything, when asked for more"
        );
        assert_eq!(allocate(&[10, 10], 4), [2, 2]);
    }

    #[test]
    fn a_sample_counts_a_rejected_row_wrong_and_weights_each_stratum_by_its_share() {
        let fields = fields();
        let row = |sentiment: &str, decision: Option<&str>, fix: Option<&str>| Judged {
            model: Some(json!({"sentiment": sentiment, "score": 1})),
            decision: decision.map(str::to_string),
            answer: fix.map(|f| json!({"sentiment": f, "score": 1})),
            gold: Vec::new(),
        };
        let positive = |judged: Judged| ("positive".to_string(), judged);
        let negative = |judged: Judged| ("negative".to_string(), judged);
        let rows = vec![
            positive(row("positive", Some("accept"), None)),
            positive(row("positive", Some("accept"), None)),
            positive(row("positive", Some("accept"), None)),
            // Rejected: wrong in every field, or the estimate would leave the bad rows out.
            positive(row("positive", Some("reject"), None)),
            negative(row("negative", Some("fix"), Some("positive"))),
            negative(row("negative", Some("accept"), None)),
            // Not reviewed yet: says nothing.
            negative(row("negative", None, None)),
        ];
        let strata = [("positive".to_string(), 800), ("negative".to_string(), 200)];
        let measured = sample_accuracy(&fields, &strata, &rows, 0.0);
        let sentiment = &measured[0];
        assert_eq!((sentiment.reviewed, sentiment.correct), (6, 4));
        // 0.8 · 3/4 + 0.2 · 1/2 = 0.7, not the pooled 4/6.
        let accuracy = sentiment.accuracy.expect("estimated");
        assert!((accuracy - 0.7).abs() < 1e-9, "{sentiment:?}");
        // Variance 0.64 · 0.1875 / 4 + 0.04 · 0.25 / 2 = 0.035; effective rows 0.21 / 0.035 = 6.
        let effective = sentiment.effective_rows.expect("estimated");
        assert!((effective - 6.0).abs() < 1e-9, "{sentiment:?}");
        let (low, high) = wilson_for(0.7, 6.0).expect("counted");
        assert!((sentiment.ci_low.expect("estimated") - low).abs() < 1e-9);
        assert!((sentiment.ci_high.expect("estimated") - high).abs() < 1e-9);
        // The score was never fixed: right on the five reviewed, wrong on the rejected one.
        assert_eq!((measured[1].reviewed, measured[1].correct), (6, 5));
        // A simple random sample is one stratum: the plain proportion and its Wilson interval.
        let simple: Vec<(String, Judged)> = rows
            .into_iter()
            .map(|(_, judged)| (String::new(), judged))
            .collect();
        let plain = sample_accuracy(&fields, &[(String::new(), 1_000)], &simple, 0.0);
        let (low, high) = wilson(4, 6).expect("counted");
        assert!((plain[0].accuracy.expect("estimated") - 4.0 / 6.0).abs() < 1e-12);
        assert!((plain[0].ci_low.expect("estimated") - low).abs() < 1e-9);
        assert!((plain[0].ci_high.expect("estimated") - high).abs() < 1e-9);
    }

    #[test]
    fn without_reviews_there_is_no_accuracy_and_no_interval() {
        let none = accuracy(&fields(), &[], 0.0);
        assert_eq!(none.fields[0].reviewed, 0);
        assert_eq!(none.fields[0].accuracy, None);
        assert_eq!(none.fields[0].ci_low, None);
    }
}
