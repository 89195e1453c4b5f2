//! What a run will take before it starts: tokens, cost and time, from per-row averages measured
//! on sample rows and the model's prices.

use serde::{Deserialize, Serialize};

/// Per-row figures measured on sample rows of the dataset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RowCost {
    /// Average input tokens of one request: both messages plus the schema sent with them.
    pub input_tokens: f64,
    /// Expected output tokens of one answer.
    pub output_tokens: f64,
}

/// A model's prices and speed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRates {
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
    /// Typical wall time of one request, in seconds.
    pub seconds_per_request: f64,
}

/// The whole run's estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunEstimate {
    pub rows: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// Wall time with `concurrency` rows in flight (1: one after another).
    pub seconds: f64,
}

/// Estimates a run of `rows` rows.
pub fn estimate(rows: u64, per_row: RowCost, rates: ModelRates, concurrency: u32) -> RunEstimate {
    let n = rows as f64;
    let input_tokens = (per_row.input_tokens * n).round() as u64;
    let output_tokens = (per_row.output_tokens * n).round() as u64;
    let cost_usd = (input_tokens as f64 * rates.input_usd_per_mtok
        + output_tokens as f64 * rates.output_usd_per_mtok)
        / 1_000_000.0;
    let lanes = f64::from(concurrency.max(1)).min(n.max(1.0));
    RunEstimate {
        rows,
        input_tokens,
        output_tokens,
        cost_usd,
        seconds: (n / lanes).ceil() * rates.seconds_per_request,
    }
}

/// A duration as people read it: `45 s`, `12 min`, `3 h 20 min`, `2 days 4 h`.
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3_599 => format!("{} min", s.div_ceil(60)),
        3_600..=86_399 => format!("{} h {} min", s / 3_600, (s % 3_600) / 60),
        _ => format!("{} days {} h", s / 86_400, (s % 86_400) / 3_600),
    }
}

/// Money as people read it: under a cent shows as `< $0.01`, free as `$0.00`.
pub fn human_usd(usd: f64) -> String {
    if usd <= 0.0 {
        "$0.00".into()
    } else if usd < 0.01 {
        "< $0.01".into()
    } else {
        format!("${usd:.2}")
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn human_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATES: ModelRates = ModelRates {
        input_usd_per_mtok: 0.15,
        output_usd_per_mtok: 0.60,
        seconds_per_request: 1.5,
    };

    #[test]
    fn tokens_and_cost_scale_with_the_rows() {
        let per_row = RowCost {
            input_tokens: 250.0,
            output_tokens: 40.0,
        };
        let e = estimate(10_000, per_row, RATES, 1);
        assert_eq!(e.input_tokens, 2_500_000);
        assert_eq!(e.output_tokens, 400_000);
        assert!((e.cost_usd - (2.5 * 0.15 + 0.4 * 0.60)).abs() < 1e-9);
        assert!((e.seconds - 15_000.0).abs() < 1e-9);
    }

    #[test]
    fn concurrency_divides_the_time_but_never_below_one_request() {
        let per_row = RowCost::default();
        assert!((estimate(100, per_row, RATES, 10).seconds - 15.0).abs() < 1e-9);
        assert!((estimate(3, per_row, RATES, 64).seconds - 1.5).abs() < 1e-9);
        assert_eq!(estimate(0, per_row, RATES, 1).seconds, 0.0);
    }

    #[test]
    fn durations_money_and_counts_read_naturally() {
        assert_eq!(human_duration(42.4), "42 s");
        assert_eq!(human_duration(61.0), "2 min");
        assert_eq!(human_duration(3_600.0 * 3.0 + 1_200.0), "3 h 20 min");
        assert_eq!(human_duration(86_400.0 * 2.0 + 3_600.0 * 4.0), "2 days 4 h");
        assert_eq!(human_usd(0.0), "$0.00");
        assert_eq!(human_usd(0.004), "< $0.01");
        assert_eq!(human_usd(12.345), "$12.35");
        assert_eq!(human_count(0), "0");
        assert_eq!(human_count(999), "999");
        assert_eq!(human_count(1_234_567), "1,234,567");
    }
}
