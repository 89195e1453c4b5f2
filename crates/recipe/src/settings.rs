//! How a batch runs: which model, its sampling settings, how many rows, how many at once, and what
//! happens when rows fail.

use serde::{Deserialize, Serialize};

/// The most rows one batch may have in flight at once.
pub const MAX_CONCURRENCY: u32 = 64;

/// What a batch does when rows fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorPolicy {
    /// Failed rows are recorded and the batch goes on.
    #[default]
    Continue,
    /// The batch pauses at the first failed row.
    StopOnFirst,
    /// The batch pauses once this many rows failed.
    StopAfter { errors: u32 },
}

impl ErrorPolicy {
    /// How many failed rows pause the batch; `None` when failures never do.
    pub fn limit(self) -> Option<u64> {
        match self {
            ErrorPolicy::Continue => None,
            ErrorPolicy::StopOnFirst => Some(1),
            ErrorPolicy::StopAfter { errors } => Some(u64::from(errors.max(1))),
        }
    }
}

/// The run settings chosen on the Review step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub provider: String,
    pub model: String,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub error_policy: ErrorPolicy,
    /// Only the first this-many rows (a trial run); every row when `None`.
    #[serde(default)]
    pub first_rows: Option<u64>,
    /// Rows in flight at once; 1 runs them one after another, in row order.
    #[serde(default = "one")]
    pub concurrency: u32,
}

fn one() -> u32 {
    1
}

impl RunSettings {
    /// Sequential settings for a model, with the provider's own defaults for the rest.
    pub fn new(provider: &str, model: &str) -> Self {
        RunSettings {
            provider: provider.to_string(),
            model: model.to_string(),
            temperature: None,
            max_tokens: None,
            error_policy: ErrorPolicy::Continue,
            first_rows: None,
            concurrency: 1,
        }
    }

    /// The rows a batch over `total` dataset rows runs.
    pub fn rows_to_run(&self, total: u64) -> u64 {
        self.first_rows.map_or(total, |n| n.min(total))
    }

    /// The settings' own limits (whether the provider and model exist is the server's to say).
    pub fn check(&self) -> Result<(), SettingsError> {
        if self.provider.is_empty() || self.model.is_empty() {
            return Err(SettingsError::NoModel);
        }
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(SettingsError::Temperature(t));
        }
        if self.max_tokens == Some(0) {
            return Err(SettingsError::NoMaxTokens);
        }
        if self.first_rows == Some(0) {
            return Err(SettingsError::NoTrialRows);
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(SettingsError::Concurrency(self.concurrency));
        }
        if let ErrorPolicy::StopAfter { errors: 0 } = self.error_policy {
            return Err(SettingsError::NoStopErrors);
        }
        Ok(())
    }
}

/// What is wrong with a batch's settings, worded for the Review step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("Choose a provider and a model.")]
    NoModel,
    #[error("Temperature must be between 0 and 2 (it is {0}).")]
    Temperature(f32),
    #[error("Max tokens must be at least 1.")]
    NoMaxTokens,
    #[error("\"Test on the first N rows\" needs at least 1 row.")]
    NoTrialRows,
    #[error("Concurrency must be between 1 and {max} (it is {0}).", max = MAX_CONCURRENCY)]
    Concurrency(u32),
    #[error("\"Stop after N errors\" needs N of at least 1.")]
    NoStopErrors,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_settings_run_sequentially_and_pass_their_checks() {
        let settings = RunSettings::new("demo", "demo");
        assert_eq!(settings.concurrency, 1);
        assert_eq!(settings.check(), Ok(()));
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_value_in_the_message() {
        let mut s = RunSettings::new("demo", "demo");
        s.temperature = Some(3.5);
        assert_eq!(
            s.check().map_err(|e| e.to_string()),
            Err("Temperature must be between 0 and 2 (it is 3.5).".into())
        );
        let mut s = RunSettings::new("demo", "demo");
        s.concurrency = 65;
        assert!(s.check().is_err_and(|m| m.to_string().contains("it is 65")));
        let mut s = RunSettings::new("demo", "demo");
        s.first_rows = Some(0);
        assert!(s.check().is_err());
        let mut s = RunSettings::new("", "demo");
        s.provider.clear();
        assert_eq!(
            s.check().map_err(|e| e.to_string()),
            Err("Choose a provider and a model.".into())
        );
    }

    #[test]
    fn a_trial_run_never_asks_for_more_rows_than_there_are() {
        let mut s = RunSettings::new("demo", "demo");
        assert_eq!(s.rows_to_run(40), 40);
        s.first_rows = Some(5);
        assert_eq!(s.rows_to_run(40), 5);
        assert_eq!(s.rows_to_run(3), 3);
    }

    #[test]
    fn settings_saved_without_the_newer_fields_still_load() {
        let s: RunSettings =
            serde_json::from_str(r#"{"provider":"demo","model":"demo"}"#).expect("parses");
        assert_eq!(s, RunSettings::new("demo", "demo"));
    }

    #[test]
    fn the_error_policy_says_how_many_failures_pause_the_batch() {
        assert_eq!(ErrorPolicy::Continue.limit(), None);
        assert_eq!(ErrorPolicy::StopOnFirst.limit(), Some(1));
        assert_eq!(ErrorPolicy::StopAfter { errors: 5 }.limit(), Some(5));
    }
}
