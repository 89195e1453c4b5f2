//! How long to wait before retrying a call: exponential backoff with full jitter, or the provider's own `retry-after`.

use std::time::Duration;

/// Bounds for [`delay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The ceiling of the first retry's wait; it doubles with every further attempt.
    pub base: Duration,
    /// The largest ceiling the doubling reaches.
    pub max: Duration,
    /// The longest a provider's `retry-after` is honoured for: a misconfigured proxy asking
    /// for an hour should not stall a run for an hour.
    pub max_retry_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// The wait before the next try, `attempt` being how many tries have failed so far (1 after the first failure).
///
/// A `retry_after` from the provider wins (capped at `policy.max_retry_after`); otherwise the
/// wait is uniformly random between zero and `base * 2^(attempt - 1)`, capped at `policy.max`.
/// Full jitter spreads out the many workers that hit the same rate limit at the same moment.
pub fn delay(attempt: u32, retry_after: Option<Duration>, policy: &BackoffPolicy) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(policy.max_retry_after);
    }
    let ceiling = ceiling(attempt, policy);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=ceiling_ms))
}

/// The largest wait [`delay`] may pick for `attempt` when the provider gave no `retry-after`.
pub fn ceiling(attempt: u32, policy: &BackoffPolicy) -> Duration {
    let doublings = attempt.saturating_sub(1).min(32);
    policy
        .base
        .checked_mul(1u32 << doublings.min(31))
        .unwrap_or(policy.max)
        .min(policy.max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_over_the_exponential_wait() {
        let policy = BackoffPolicy::default();
        let wait = delay(5, Some(Duration::from_secs(7)), &policy);
        assert_eq!(wait, Duration::from_secs(7));
    }

    #[test]
    fn retry_after_is_capped_at_the_policy_maximum() {
        let policy = BackoffPolicy::default();
        let wait = delay(1, Some(Duration::from_secs(3600)), &policy);
        assert_eq!(wait, policy.max_retry_after);
    }

    #[test]
    fn the_ceiling_doubles_per_attempt_until_the_cap() {
        let policy = BackoffPolicy {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(10),
        };
        assert_eq!(ceiling(1, &policy), Duration::from_millis(100));
        assert_eq!(ceiling(2, &policy), Duration::from_millis(200));
        assert_eq!(ceiling(4, &policy), Duration::from_millis(800));
        assert_eq!(ceiling(5, &policy), Duration::from_secs(1));
        assert_eq!(ceiling(u32::MAX, &policy), Duration::from_secs(1));
    }

    #[test]
    fn attempt_zero_is_treated_like_the_first_retry() {
        let policy = BackoffPolicy::default();
        assert_eq!(ceiling(0, &policy), ceiling(1, &policy));
    }

    #[test]
    fn jittered_waits_stay_within_the_ceiling_and_vary() {
        let policy = BackoffPolicy::default();
        let waits: Vec<Duration> = (0..200).map(|_| delay(3, None, &policy)).collect();
        assert!(waits.iter().all(|wait| *wait <= ceiling(3, &policy)));
        let first = waits[0];
        assert!(
            waits.iter().any(|wait| *wait != first),
            "full jitter varies"
        );
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let policy = BackoffPolicy::default();
        assert!(delay(u32::MAX, None, &policy) <= policy.max);
    }
}
