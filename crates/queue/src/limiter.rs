//! Pacing the calls to each provider under its requests-per-minute and tokens-per-minute limits,
//! shared by every batch that uses the provider.
//!
//! Each call reserves the earliest moment both limits allow and waits for it (a virtual schedule
//! with no burst): calls leave evenly spaced, in the order they asked, and a call larger than a
//! whole second's token budget still goes, pushing the next ones back.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rowbench_providers::RateLimit;
use tokio::time::Instant;

/// When each provider may next be called.
#[derive(Debug, Default)]
pub(crate) struct RateLimiters {
    schedules: Mutex<HashMap<String, Schedule>>,
}

#[derive(Debug, Clone, Copy)]
struct Schedule {
    /// The earliest the next call may go by the requests-per-minute limit (or a provider's
    /// `retry-after`).
    next_request: Instant,
    /// The same by the tokens-per-minute limit.
    next_token: Instant,
}

impl RateLimiters {
    /// Waits until a call of about `tokens()` tokens may go to `provider`. `tokens` is only
    /// evaluated when the provider has a tokens-per-minute limit: counting costs time.
    pub(crate) async fn acquire(
        &self,
        provider: &str,
        limit: RateLimit,
        tokens: impl FnOnce() -> u64,
    ) {
        let tokens = match limit.tokens_per_minute {
            Some(tpm) if tpm > 0 => tokens(),
            _ => 0,
        };
        let at = self.reserve(provider, limit, tokens, Instant::now());
        // Not even a sleep until a moment already passed: tokio's timer rounds it up to its next
        // millisecond tick, which was most of a row's time at concurrency 1 against a fast model.
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Books the earliest moment, from `now` on, that a call of `tokens` tokens may go.
    fn reserve(&self, provider: &str, limit: RateLimit, tokens: u64, now: Instant) -> Instant {
        let mut schedules = self.lock();
        let schedule = schedules.entry(provider.to_owned()).or_insert(Schedule {
            next_request: now,
            next_token: now,
        });
        let at = now.max(schedule.next_request).max(schedule.next_token);
        if let Some(rpm) = limit.requests_per_minute.filter(|rpm| *rpm > 0) {
            schedule.next_request = at + Duration::from_secs_f64(60.0 / f64::from(rpm));
        }
        if let Some(tpm) = limit.tokens_per_minute.filter(|tpm| *tpm > 0) {
            schedule.next_token =
                at + Duration::from_secs_f64(60.0 * tokens as f64 / f64::from(tpm));
        }
        at
    }

    /// Holds every call to `provider` back until `until`: a 429 with `retry-after` speaks for
    /// the whole account, not for the one row that got it.
    pub(crate) fn hold_off(&self, provider: &str, until: Instant) {
        let mut schedules = self.lock();
        let schedule = schedules.entry(provider.to_owned()).or_insert(Schedule {
            next_request: until,
            next_token: until,
        });
        schedule.next_request = schedule.next_request.max(until);
    }

    /// The map holds plain instants, still valid after a panic elsewhere.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Schedule>> {
        self.schedules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(requests: Option<u32>, tokens: Option<u32>) -> RateLimit {
        RateLimit {
            requests_per_minute: requests,
            tokens_per_minute: tokens,
        }
    }

    #[test]
    fn calls_to_a_provider_without_limits_go_at_once() {
        let limiters = RateLimiters::default();
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiters.reserve("p", RateLimit::default(), 1_000, now), now);
        }
    }

    #[test]
    fn a_call_that_may_go_now_does_not_wait_for_the_timer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let _entered = runtime.enter();
        let limiters = RateLimiters::default();
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        for limit in [RateLimit::default(), limit(Some(60), None)] {
            let acquire = std::pin::pin!(limiters.acquire("p", limit, || 0));
            assert!(
                acquire.poll(&mut context).is_ready(),
                "{limit:?}: the first call goes in the first poll"
            );
        }
    }

    #[test]
    fn requests_per_minute_space_calls_evenly() {
        let limiters = RateLimiters::default();
        let now = Instant::now();
        let slots: Vec<Duration> = (0..4)
            .map(|_| limiters.reserve("p", limit(Some(120), None), 0, now) - now)
            .collect();
        let ms: Vec<u128> = slots.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 500, 1_000, 1_500]);
    }

    #[test]
    fn a_provider_idle_for_a_while_gets_no_saved_up_burst() {
        let limiters = RateLimiters::default();
        let now = Instant::now();
        limiters.reserve("p", limit(Some(60), None), 0, now);
        let later = now + Duration::from_secs(10);
        assert_eq!(
            limiters.reserve("p", limit(Some(60), None), 0, later),
            later
        );
        assert_eq!(
            limiters.reserve("p", limit(Some(60), None), 0, later) - later,
            Duration::from_secs(1)
        );
    }

    #[test]
    fn tokens_per_minute_space_calls_by_their_size() {
        let limiters = RateLimiters::default();
        let now = Instant::now();
        let tpm = limit(None, Some(6_000));
        assert_eq!(limiters.reserve("p", tpm, 1_000, now), now);
        // 1,000 tokens at 100 tokens a second: the next call waits ten seconds.
        assert_eq!(
            limiters.reserve("p", tpm, 10, now) - now,
            Duration::from_secs(10)
        );
    }

    #[test]
    fn each_provider_has_its_own_schedule() {
        let limiters = RateLimiters::default();
        let now = Instant::now();
        limiters.reserve("a", limit(Some(1), None), 0, now);
        assert_eq!(limiters.reserve("b", limit(Some(1), None), 0, now), now);
    }

    #[test]
    fn a_retry_after_holds_back_every_call_to_the_provider() {
        let limiters = RateLimiters::default();
        let now = Instant::now();
        limiters.hold_off("p", now + Duration::from_secs(2));
        assert_eq!(
            limiters.reserve("p", RateLimit::default(), 0, now) - now,
            Duration::from_secs(2)
        );
    }
}
