//! How far runs of the same rows agree, field by field: the share of rows where every run gave
//! the same value (numbers within a tolerance; text also after folding case and whitespace),
//! chance-corrected for enum and boolean fields (Cohen's kappa for two runs, Fleiss' for more),
//! and a confusion matrix between the first two runs. Counted one row at a time, so a million
//! rows are never held at once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use rowbench_schema::{FieldType, SchemaField};

use crate::accuracy::{label, same};

/// One field's agreement as `GET /api/comparisons/{id}` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldAgreement {
    pub field: String,
    /// Rows every run answered.
    pub rows_compared: u64,
    /// Of those, the rows where every run gave the same value.
    pub agreed: u64,
    /// `agreed / rows_compared`; `None` before any row is compared.
    pub agreement: Option<f64>,
    /// Text fields: the share that agree once case and runs of whitespace are folded (and, for
    /// lists, order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalised: Option<f64>,
    /// Enum and boolean fields: agreement beyond chance, from −1 to 1 (0 is chance). `None`
    /// before any row, and when every run gave one and the same value only, where chance
    /// agreement is certain and kappa is undefined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kappa: Option<f64>,
    /// Enum and boolean fields: `[first run's value, second run's value, rows]`, most rows first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Vec<PairCell>>,
}

/// How many rows the first run answered `a` where the second answered `b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCell {
    pub a: String,
    pub b: String,
    pub rows: u64,
}

/// Whether the runs' values of a field agree (numbers within `tolerance`).
pub fn values_agree(kind: &FieldType, values: &[Option<&Value>], tolerance: f64) -> bool {
    match values.split_first() {
        None => true,
        Some((first, rest)) => rest.iter().all(|v| same(kind, *first, *v, tolerance)),
    }
}

/// Text folded for the normalised agreement: lower case, runs of whitespace as one space,
/// trimmed; a list's items each folded, sorted.
fn folded(value: Option<&Value>) -> Option<Value> {
    fn fold(text: &str) -> String {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
    match value? {
        Value::Null => None,
        Value::String(s) => Some(Value::String(fold(s))),
        Value::Array(items) => {
            let mut items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => fold(s),
                    other => other.to_string(),
                })
                .collect();
            items.sort();
            Some(Value::from(items))
        }
        other => Some(other.clone()),
    }
}

/// One field's counts so far.
#[derive(Debug, Clone, Default)]
struct FieldCount {
    compared: u64,
    agreed: u64,
    normalised: u64,
    /// Per run, rows per value (enum and boolean).
    marginals: Vec<HashMap<String, u64>>,
    /// Σ over rows of Σ_k n_k² (Fleiss), n_k the runs that gave value k.
    squares: u64,
    /// `(first run's value, second's) → rows`.
    pairs: HashMap<(String, String), u64>,
}

/// The agreement of `runs` runs over the fields of a schema, counted one row at a time.
#[derive(Debug, Clone)]
pub struct AgreementTally {
    fields: Vec<SchemaField>,
    runs: usize,
    tolerance: f64,
    counts: Vec<FieldCount>,
}

fn categorical(kind: &FieldType) -> bool {
    matches!(kind, FieldType::Enum { .. } | FieldType::Boolean)
}

fn text(kind: &FieldType) -> bool {
    matches!(kind, FieldType::String | FieldType::StringList)
}

impl AgreementTally {
    pub fn new(fields: &[SchemaField], runs: usize, tolerance: f64) -> Self {
        let count = FieldCount {
            marginals: vec![HashMap::new(); runs],
            ..FieldCount::default()
        };
        AgreementTally {
            fields: fields.to_vec(),
            runs,
            tolerance,
            counts: vec![count; fields.len()],
        }
    }

    /// Counts one row: each run's answer object, in run order. A row some run has no answer
    /// for (failed, or not done yet) is not compared.
    pub fn add(&mut self, answers: &[Option<&Value>]) {
        if answers.len() != self.runs || answers.iter().any(Option::is_none) {
            return;
        }
        for (field, count) in self.fields.iter().zip(&mut self.counts) {
            let values: Vec<Option<&Value>> = answers
                .iter()
                .map(|a| a.and_then(|a| a.get(&field.name)).filter(|v| !v.is_null()))
                .collect();
            count.compared += 1;
            if values_agree(&field.kind, &values, self.tolerance) {
                count.agreed += 1;
            }
            if text(&field.kind) {
                let folded: Vec<Option<Value>> = values.iter().map(|v| folded(*v)).collect();
                if folded.windows(2).all(|w| w[0] == w[1]) {
                    count.normalised += 1;
                }
            }
            if categorical(&field.kind) {
                let labels: Vec<String> = values.iter().map(|v| label(*v)).collect();
                let mut per_value: HashMap<&str, u64> = HashMap::new();
                for (run, l) in labels.iter().enumerate() {
                    *count.marginals[run].entry(l.clone()).or_default() += 1;
                    *per_value.entry(l).or_default() += 1;
                }
                count.squares += per_value.values().map(|n| n * n).sum::<u64>();
                if let [a, b, ..] = labels.as_slice() {
                    *count.pairs.entry((a.clone(), b.clone())).or_default() += 1;
                }
            }
        }
    }

    pub fn finish(self) -> Vec<FieldAgreement> {
        let runs = self.runs;
        self.fields
            .iter()
            .zip(self.counts)
            .map(|(field, count)| {
                let share = |n: u64| (count.compared > 0).then(|| n as f64 / count.compared as f64);
                let categorical = categorical(&field.kind);
                let kappa = categorical
                    .then(|| {
                        kappa(
                            runs,
                            count.compared,
                            count.agreed,
                            &count.marginals,
                            count.squares,
                        )
                    })
                    .flatten();
                let confusion = (categorical && runs >= 2).then(|| {
                    let mut cells: Vec<PairCell> = count
                        .pairs
                        .into_iter()
                        .map(|((a, b), rows)| PairCell { a, b, rows })
                        .collect();
                    cells.sort_by(|x, y| {
                        y.rows
                            .cmp(&x.rows)
                            .then_with(|| x.a.cmp(&y.a))
                            .then_with(|| x.b.cmp(&y.b))
                    });
                    cells
                });
                FieldAgreement {
                    field: field.name.clone(),
                    rows_compared: count.compared,
                    agreed: count.agreed,
                    agreement: share(count.agreed),
                    normalised: text(&field.kind).then(|| share(count.normalised)).flatten(),
                    kappa,
                    confusion,
                }
            })
            .collect()
    }
}

/// Kappa over `n` rows each rated by `runs` runs, `agreed` of them the same by every run:
/// Cohen's for two (chance from each run's own shares), Fleiss' for more (pairwise agreement
/// within a row from `squares`, chance from the pooled shares). `None` without rows, or when
/// chance agreement is certain (one value only), where kappa is 0 / 0.
fn kappa(
    runs: usize,
    n: u64,
    agreed: u64,
    marginals: &[HashMap<String, u64>],
    squares: u64,
) -> Option<f64> {
    if n == 0 || runs < 2 {
        return None;
    }
    let (n, m) = (n as f64, runs as f64);
    let (observed, chance) = if runs == 2 {
        let (a, b) = (&marginals[0], &marginals[1]);
        let observed = agreed as f64 / n;
        let chance = a
            .iter()
            .map(|(k, count)| (*count as f64 / n) * (b.get(k).copied().unwrap_or(0) as f64 / n))
            .sum::<f64>();
        (observed, chance)
    } else {
        let observed = (squares as f64 - n * m) / (n * m * (m - 1.0));
        let mut pooled: HashMap<&str, u64> = HashMap::new();
        for run in marginals {
            for (k, count) in run {
                *pooled.entry(k).or_default() += count;
            }
        }
        let chance = pooled
            .values()
            .map(|c| (*c as f64 / (n * m)).powi(2))
            .sum::<f64>();
        (observed, chance)
    };
    if (1.0 - chance).abs() < 1e-12 {
        return None;
    }
    Some((observed - chance) / (1.0 - chance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enum_field() -> SchemaField {
        SchemaField::new(
            "label",
            FieldType::Enum {
                options: vec!["yes".into(), "no".into(), "maybe".into()],
            },
        )
    }

    /// The agreement of `label` between runs whose answers per row are `rows`.
    fn agreement_of(field: SchemaField, rows: &[Vec<Value>], tolerance: f64) -> FieldAgreement {
        let runs = rows.first().map_or(2, Vec::len);
        let mut tally = AgreementTally::new(std::slice::from_ref(&field), runs, tolerance);
        for row in rows {
            let answers: Vec<Value> = row
                .iter()
                .map(|v| json!({ field.name.clone(): v }))
                .collect();
            let refs: Vec<Option<&Value>> = answers.iter().map(Some).collect();
            tally.add(&refs);
        }
        tally.finish().remove(0)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<Vec<Value>> {
        list.iter().map(|(a, b)| vec![json!(a), json!(b)]).collect()
    }

    #[test]
    fn cohens_kappa_matches_a_table_worked_by_hand() {
        // 50 rows: both yes 20, yes/no 5, no/yes 10, both no 15.
        // p_o = 35/50 = 0.7; run A says yes 25/50, run B 30/50;
        // p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5) / 0.5 = 0.4.
        let mut rows = Vec::new();
        rows.extend(pairs(&[("yes", "yes"); 20]));
        rows.extend(pairs(&[("yes", "no"); 5]));
        rows.extend(pairs(&[("no", "yes"); 10]));
        rows.extend(pairs(&[("no", "no"); 15]));
        let a = agreement_of(enum_field(), &rows, 0.0);
        assert_eq!((a.rows_compared, a.agreed), (50, 35));
        assert!((a.agreement.expect("agreement") - 0.7).abs() < 1e-12);
        assert!(
            (a.kappa.expect("kappa") - 0.4).abs() < 1e-12,
            "{:?}",
            a.kappa
        );
        assert_eq!(
            a.confusion.expect("confusion"),
            vec![
                PairCell {
                    a: "yes".into(),
                    b: "yes".into(),
                    rows: 20
                },
                PairCell {
                    a: "no".into(),
                    b: "no".into(),
                    rows: 15
                },
                PairCell {
                    a: "no".into(),
                    b: "yes".into(),
                    rows: 10
                },
                PairCell {
                    a: "yes".into(),
                    b: "no".into(),
                    rows: 5
                },
            ]
        );
    }

    #[test]
    fn perfect_agreement_over_two_values_is_a_kappa_of_one() {
        let rows = pairs(&[
            ("yes", "yes"),
            ("no", "no"),
            ("maybe", "maybe"),
            ("no", "no"),
        ]);
        let a = agreement_of(enum_field(), &rows, 0.0);
        assert_eq!(a.agreement, Some(1.0));
        assert_eq!(a.kappa, Some(1.0));
    }

    #[test]
    fn one_value_only_leaves_kappa_undefined_though_every_row_agrees() {
        let rows = pairs(&[("yes", "yes"); 6]);
        let a = agreement_of(enum_field(), &rows, 0.0);
        assert_eq!(a.agreement, Some(1.0));
        assert_eq!(a.kappa, None);
    }

    #[test]
    fn no_agreement_at_all_is_below_chance() {
        // Each run says yes half the time, never on the same row: p_o = 0, p_e = 0.5, κ = −1.
        let rows = pairs(&[("yes", "no"), ("no", "yes"), ("yes", "no"), ("no", "yes")]);
        let a = agreement_of(enum_field(), &rows, 0.0);
        assert_eq!(a.agreement, Some(0.0));
        assert_eq!(a.kappa, Some(-1.0));
        // One run always yes, the other always no: chance is 0, so κ = 0 − 0 = 0.
        let rows = pairs(&[("yes", "no"); 4]);
        assert_eq!(agreement_of(enum_field(), &rows, 0.0).kappa, Some(0.0));
    }

    #[test]
    fn fleiss_kappa_for_three_runs_matches_a_table_worked_by_hand() {
        // 4 rows, 3 runs: (y,y,y) (y,y,n) (n,n,n) (y,n,n).
        // P_i = (Σ n_k² − 3) / 6: 1, 1/3, 1, 1/3 → P̄ = 2/3. Pooled: y 6/12, n 6/12 → P̄e = 0.5.
        // κ = (2/3 − 1/2) / (1/2) = 1/3. Every run agrees on rows 1 and 3: agreement 0.5.
        let rows: Vec<Vec<Value>> = [
            ["yes", "yes", "yes"],
            ["yes", "yes", "no"],
            ["no", "no", "no"],
            ["yes", "no", "no"],
        ]
        .iter()
        .map(|r| r.iter().map(|v| json!(v)).collect())
        .collect();
        let a = agreement_of(enum_field(), &rows, 0.0);
        assert_eq!(a.agreement, Some(0.5));
        assert!(
            (a.kappa.expect("kappa") - 1.0 / 3.0).abs() < 1e-12,
            "{:?}",
            a.kappa
        );
    }

    #[test]
    fn numbers_agree_within_the_tolerance() {
        let field = SchemaField::new("score", FieldType::Number);
        let rows = vec![
            vec![json!(1.0), json!(1.04)],
            vec![json!(2), json!(2.5)],
            vec![json!(3), json!(3)],
        ];
        let a = agreement_of(field.clone(), &rows, 0.05);
        assert_eq!((a.agreed, a.rows_compared), (2, 3));
        assert_eq!(a.kappa, None);
        assert_eq!(a.confusion, None);
        assert_eq!(agreement_of(field, &rows, 0.0).agreed, 1);
    }

    #[test]
    fn text_agrees_exactly_and_once_case_and_spaces_are_folded() {
        let field = SchemaField::new("summary", FieldType::String);
        let rows = vec![
            vec![json!("Late delivery"), json!("late  delivery ")],
            vec![json!("Refund"), json!("Refund")],
            vec![json!("Refund"), json!("Replacement")],
        ];
        let a = agreement_of(field, &rows, 0.0);
        assert_eq!(a.agreed, 1);
        assert_eq!(a.normalised, Some(2.0 / 3.0));
        let lists = SchemaField::new("tags", FieldType::StringList);
        let rows = vec![vec![json!(["Billing", "late"]), json!(["late", "billing"])]];
        let a = agreement_of(lists, &rows, 0.0);
        assert_eq!((a.agreement, a.normalised), (Some(0.0), Some(1.0)));
    }

    #[test]
    fn a_row_some_run_has_not_answered_is_not_compared() {
        let field = enum_field();
        let mut tally = AgreementTally::new(std::slice::from_ref(&field), 2, 0.0);
        let yes = json!({ "label": "yes" });
        tally.add(&[Some(&yes), None]);
        tally.add(&[Some(&yes), Some(&yes)]);
        // A missing value is a value: "(none)" against "yes" disagrees.
        let empty = json!({});
        tally.add(&[Some(&yes), Some(&empty)]);
        let a = tally.finish().remove(0);
        assert_eq!((a.rows_compared, a.agreed), (2, 1));
        assert!(a.confusion.expect("confusion").contains(&PairCell {
            a: "yes".into(),
            b: "(none)".into(),
            rows: 1
        }));
    }
}
