//! How often the model was right, per answer field, measured on the rows people reviewed: an
//! accepted row counts every field as right; a fixed row counts a field right where the model's
//! value equals the fix's. A rejected row names no right answer, so it is counted apart and in
//! no field's accuracy. Each accuracy comes with its 95% Wilson score interval, and enum and
//! boolean fields with a confusion matrix (model's value against the reviewed one).

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
    let n_f = n as f64;
    let p = correct as f64 / n_f;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// One field's accuracy as `GET /api/batches/{id}/accuracy` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldAccuracy {
    pub field: String,
    /// Reviewed rows (accepted or fixed) in which the field could be compared.
    pub reviewed: u64,
    pub correct: u64,
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

/// One reviewed row: the model's answer and the review's decision and answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    pub model: Option<Value>,
    /// `accept`, `fix` or `reject`.
    pub decision: String,
    pub answer: Option<Value>,
}

/// A value as the confusion matrix names it.
fn label(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Whether the model's value counts as right against the reviewed one.
fn same(kind: &FieldType, model: Option<&Value>, reviewed: Option<&Value>, tolerance: f64) -> bool {
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

/// The accuracy of `fields` over `rows`.
pub fn accuracy(fields: &[SchemaField], rows: &[Reviewed], tolerance: f64) -> BatchAccuracy {
    let count = |decision: &str| rows.iter().filter(|r| r.decision == decision).count() as u64;
    let judged: Vec<&Reviewed> = rows
        .iter()
        .filter(|r| r.decision == "accept" || r.decision == "fix")
        .collect();
    let fields = fields
        .iter()
        .map(|field| {
            let name = field.name.as_str();
            let mut reviewed = 0u64;
            let mut correct = 0u64;
            let mut cells: Vec<ConfusionCell> = Vec::new();
            for row in &judged {
                let model = row.model.as_ref().and_then(|m| m.get(name));
                // An accepted row's model answer is the reviewed one, by definition.
                let truth = if row.decision == "accept" {
                    model
                } else {
                    row.answer.as_ref().and_then(|a| a.get(name))
                };
                if model.is_none() && truth.is_none() {
                    continue;
                }
                reviewed += 1;
                if same(&field.kind, model, truth, tolerance) {
                    correct += 1;
                }
                if matches!(field.kind, FieldType::Enum { .. } | FieldType::Boolean) {
                    let (m, t) = (label(model), label(truth));
                    match cells.iter_mut().find(|c| c.model == m && c.reviewed == t) {
                        Some(cell) => cell.rows += 1,
                        None => cells.push(ConfusionCell {
                            model: m,
                            reviewed: t,
                            rows: 1,
                        }),
                    }
                }
            }
            cells.sort_by(|a, b| {
                b.rows
                    .cmp(&a.rows)
                    .then_with(|| a.model.cmp(&b.model))
                    .then_with(|| a.reviewed.cmp(&b.reviewed))
            });
            let interval = wilson(correct, reviewed);
            FieldAccuracy {
                field: field.name.clone(),
                reviewed,
                correct,
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
        accepted: count("accept"),
        fixed: count("fix"),
        rejected: count("reject"),
        tolerance,
    }
}

#[cfg(feature = "server")]
mod server {
    use rowbench_store::reviews as stored;

    use super::*;
    use crate::actor::Actor;
    use crate::error::{Error, Result};
    use crate::workbench::Workbench;

    impl Workbench {
        /// Batch `id`'s accuracy per field over its reviewed rows; numbers within `tolerance`
        /// count as equal.
        pub async fn accuracy(
            &self,
            actor: &Actor,
            id: i64,
            tolerance: f64,
        ) -> Result<BatchAccuracy> {
            if !tolerance.is_finite() || tolerance < 0.0 {
                return Err(Error::invalid(
                    "invalid_parameter",
                    "tolerance must be a number of 0 or more.",
                )
                .with_details(serde_json::json!({ "parameter": "tolerance" })));
            }
            let batch = self.stored_batch(actor, id).await?;
            let parse = |text: Option<String>| -> Result<Option<Value>> {
                text.as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| Error::internal("reading reviewed answers", &e))
            };
            let rows = stored::reviewed_rows(&self.db, id)
                .await?
                .into_iter()
                .map(|r| {
                    Ok(Reviewed {
                        model: parse(r.model)?,
                        decision: r.decision,
                        answer: parse(r.answer)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(accuracy(
                &batch.config.recipe.schema.fields,
                &rows,
                tolerance,
            ))
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

    fn reviewed(model: Value, decision: &str, answer: Option<Value>) -> Reviewed {
        Reviewed {
            model: Some(model),
            decision: decision.to_string(),
            answer,
        }
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
    fn without_reviews_there_is_no_accuracy_and_no_interval() {
        let none = accuracy(&fields(), &[], 0.0);
        assert_eq!(none.fields[0].reviewed, 0);
        assert_eq!(none.fields[0].accuracy, None);
        assert_eq!(none.fields[0].ci_low, None);
    }
}
