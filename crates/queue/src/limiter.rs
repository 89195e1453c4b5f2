//! Pacing the calls to each provider under its requests-per-minute and tokens-per-minute limits,
//! shared by every batch that uses the provider.
//!
//! Each call reserves the earliest moment both limits allow and waits for it (a virtual schedule
//! with no burst): calls leave evenly spaced, in the order they asked, and a call larger than a
//! whole second's token budget still goes, pushing the next ones back.
//!
//! On SQLite one process makes every call and the schedule lives here, in memory. On PostgreSQL
//! several instances call the same providers, so the schedule is a row per provider in the
//! database (`rowbench_store::rate_budget`), booked in one statement per call: the limits hold
//! for all instances together. If the database cannot be reached the call is paced here alone.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rowbench_providers::RateLimit;
use rowbench_store::{Database, Engine, rate_budget};
use tokio::time::Instant;

/// When each provider may next be called.
#[derive(Debug, Default)]
pub(crate) struct RateLimiters {
    schedules: Mutex<HashMap<String, Schedule>>,
    /// The database whose budgets every instance shares (PostgreSQL); `None` on SQLite.
    shared: Option<Database>,
}

/// How long a hold-off read from the shared budget is taken as current. A provider's Retry-After
/// on another instance reaches this one at most this much later; Retry-After is in seconds. At
/// 64 rows in flight against a fast model, a read per call was a round trip on every row's way to
/// its call.
const HOLD_OFF_FRESH: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy)]
struct Schedule {
    /// The earliest the next call may go by the requests-per-minute limit (or a provider's
    /// `retry-after`).
    next_request: Instant,
    /// The same by the tokens-per-minute limit.
    next_token: Instant,
    /// When a provider without limits last had its shared hold-off read into `next_request`
    /// (PostgreSQL): read again after [`HOLD_OFF_FRESH`], not for every call.
    hold_read_at: Option<Instant>,
}

impl From<Instant> for Schedule {
    /// A schedule that lets the next call go at `at`.
    fn from(at: Instant) -> Self {
        Self {
            next_request: at,
            next_token: at,
            hold_read_at: None,
        }
    }
}

impl RateLimiters {
    /// The limiters for a worker on `db`: shared through it when other instances may use it.
    pub(crate) fn for_database(db: &Database) -> Self {
        Self {
            schedules: Mutex::default(),
            shared: (db.engine() == Engine::Postgres).then(|| db.clone()),
        }
    }

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
        let at = match self.reserve_shared(provider, limit, tokens).await {
            Some(at) => at,
            None => self.reserve(provider, limit, tokens, Instant::now()),
        };
        // Not even a sleep until a moment already passed: tokio's timer rounds it up to its next
        // millisecond tick, which was most of a row's time at concurrency 1 against a fast model.
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Books the call in the shared budget: the moment it may go, as an instant of this process.
    /// `None` on SQLite, or when the database failed (then the local schedule paces the call).
    async fn reserve_shared(
        &self,
        provider: &str,
        limit: RateLimit,
        tokens: u64,
    ) -> Option<Instant> {
        let db = self.shared.as_ref()?;
        let request_us = limit
            .requests_per_minute
            .filter(|rpm| *rpm > 0)
            .map_or(0, |rpm| 60_000_000 / i64::from(rpm));
        let token_us = limit
            .tokens_per_minute
            .filter(|tpm| *tpm > 0)
            .map_or(0, |tpm| {
                i64::try_from(u128::from(tokens) * 60_000_000 / u128::from(tpm)).unwrap_or(i64::MAX)
            });
        let (now, now_us) = (Instant::now(), wall_clock_us());
        let unlimited = request_us == 0 && token_us == 0;
        if unlimited && let Some(held) = self.fresh_hold(provider, now) {
            return Some(held.max(now));
        }
        let booked = if unlimited {
            rate_budget::held_until(db, provider, now_us).await
        } else {
            rate_budget::reserve(db, provider, now_us, request_us, token_us).await
        };
        match booked {
            Ok(Some(at_us)) => {
                let wait = u64::try_from(at_us.saturating_sub(now_us)).unwrap_or(0);
                let at = now + Duration::from_micros(wait);
                if unlimited {
                    let mut schedules = self.lock();
                    let schedule = schedules
                        .entry(provider.to_owned())
                        .or_insert_with(|| Schedule::from(now));
                    schedule.next_request = schedule.next_request.max(at);
                    schedule.hold_read_at = Some(now);
                    // This instance's own hold-off counts even before its write reaches the
                    // shared row.
                    return Some(schedule.next_request.max(now));
                }
                Some(at)
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, provider, "the shared rate budget is unreachable; pacing alone");
                None
            }
        }
    }

    /// Until when `provider` is held off, if its shared hold-off was read less than
    /// [`HOLD_OFF_FRESH`] ago.
    fn fresh_hold(&self, provider: &str, now: Instant) -> Option<Instant> {
        let schedules = self.lock();
        let schedule = schedules.get(provider)?;
        let read_at = schedule.hold_read_at?;
        (now.saturating_duration_since(read_at) < HOLD_OFF_FRESH).then_some(schedule.next_request)
    }

    /// Books the earliest moment, from `now` on, that a call of `tokens` tokens may go.
    fn reserve(&self, provider: &str, limit: RateLimit, tokens: u64, now: Instant) -> Instant {
        let mut schedules = self.lock();
        let schedule = schedules
            .entry(provider.to_owned())
            .or_insert_with(|| Schedule::from(now));
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
    /// On PostgreSQL, every instance's calls are held back through the shared budget too.
    pub(crate) async fn hold_off(&self, provider: &str, until: Instant) {
        {
            let mut schedules = self.lock();
            let schedule = schedules
                .entry(provider.to_owned())
                .or_insert_with(|| Schedule::from(until));
            schedule.next_request = schedule.next_request.max(until);
        }
        if let Some(db) = &self.shared {
            let ahead = until.saturating_duration_since(Instant::now());
            let until_us = wall_clock_us()
                .saturating_add(i64::try_from(ahead.as_micros()).unwrap_or(i64::MAX));
            if let Err(error) = rate_budget::hold_off(db, provider, until_us).await {
                tracing::warn!(%error, provider, "cannot hold the other instances back");
            }
        }
    }

    /// The map holds plain instants, still valid after a panic elsewhere.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Schedule>> {
        self.schedules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Microseconds since the Unix epoch: instances on different machines share the budget by
/// their wall clocks (kept in step by NTP; a few milliseconds apart is harmless).
fn wall_clock_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
        })
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

    /// `hold_off` on SQLite never waits: run it to its end in place.
    fn futures_hold_off(limiters: &RateLimiters, provider: &str, until: Instant) {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        let hold = std::pin::pin!(limiters.hold_off(provider, until));
        assert!(
            hold.poll(&mut context).is_ready(),
            "nothing to wait for without a database"
        );
    }

    #[test]
    fn a_retry_after_holds_back_every_call_to_the_provider() {
        let limiters = RateLimiters::default();
        let now = Instant::now();
        futures_hold_off(&limiters, "p", now + Duration::from_secs(2));
        assert_eq!(
            limiters.reserve("p", RateLimit::default(), 0, now) - now,
            Duration::from_secs(2)
        );
    }
}
