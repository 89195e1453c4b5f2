//! `GET /api/batches/{id}/events`: a batch's progress as server-sent events. A `progress` event
//! on connect, another whenever something changed, and a last one when the batch ends
//! (completed, cancelled or failed), after which the stream closes.
//!
//! Each check first reads a cheap change stamp (the batch's counters and status, and the rows in
//! flight); only when it differs from the last one are the heavier figures read. Checks come at
//! most every [`CHECK_EVERY`], and further apart when the heavy read is slow (a batch of
//! millions of rows), so a watcher never costs the database more than a fixed share of its time.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use rowbench_store::batches::BatchStatus;
use rowbench_store::progress::{self, FinishedRow, Progress, ProgressQuery, ProgressStamp, Spend};
use rowbench_store::{Database, StoreError, Timestamp};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::ApiPath;
use crate::startup::AppState;

/// The shortest time between two checks.
const CHECK_EVERY: Duration = Duration::from_millis(500);
/// The next check waits at least this many times as long as the last heavy read took.
const SLOW_READ_FACTOR: u32 = 5;
/// The most finished rows one event carries (the newest).
const FEED_LIMIT: usize = 50;
/// How far back each feed read looks before the newest row already sent, in milliseconds: a
/// row's `finished_at` is taken just before its write waits for SQLite's lock, so it can commit
/// after a row stamped later. Rows already sent are recognised and skipped.
const LATE_COMMIT_MS: i64 = 2_000;
/// Idle connections get a comment this often, so proxies do not close them.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/api/batches/{id}/events", get(events))
        .wrap(|r| r.layer(axum::middleware::from_fn(json_errors)))
}

async fn events(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    state.workbench.batch_summary(&actor, id).await?;
    let watch = Watch::new(state.db.clone(), id);
    // Fused: layers around the body may poll once more after the end, which `unfold` forbids.
    let stream = futures_util::StreamExt::fuse(futures_util::stream::unfold(
        watch,
        |mut watch| async move {
            let event = watch.next_event().await?;
            Some((Ok::<_, Infallible>(event), watch))
        },
    ));
    // Tells nginx-style proxies not to buffer the stream, which would hold events back.
    let no_buffering = [(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    )];
    Ok((
        no_buffering,
        Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)),
    ))
}

/// One client's view of one batch: what it was last sent.
struct Watch {
    db: Database,
    batch_id: i64,
    next_check: Instant,
    /// The stamp of the last event; `None` before the first.
    last: Option<ProgressStamp>,
    /// The spend of the last event, which the next read adds the newer calls to.
    spend: Option<Spend>,
    /// The newest `finished_at` fed so far.
    newest: Option<Timestamp>,
    /// Rows older than this are never fed (they were passed over when a read hit the cap).
    floor: Option<Timestamp>,
    /// (row, finished_at) of the rows fed, or passed over, within the late-commit window.
    seen: HashSet<(i64, i64)>,
    ended: bool,
}

impl Watch {
    fn new(db: Database, batch_id: i64) -> Self {
        Watch {
            db,
            batch_id,
            next_check: Instant::now(),
            last: None,
            spend: None,
            newest: None,
            floor: None,
            seen: HashSet::new(),
            ended: false,
        }
    }

    /// The next event to send; `None` once the stream is over.
    async fn next_event(&mut self) -> Option<Event> {
        while !self.ended {
            tokio::time::sleep_until(self.next_check).await;
            self.next_check = Instant::now() + CHECK_EVERY;
            match self.check().await {
                Ok(Some(event)) => return Some(event),
                Ok(None) => {}
                Err(err) => {
                    self.ended = true;
                    let error = ApiError::internal(&err);
                    let body = json!({
                        "error": { "code": error.code, "message": error.message, "details": error.details }
                    });
                    return Some(Event::default().event("error").data(body.to_string()));
                }
            }
        }
        None
    }

    /// A `progress` event if the batch changed since the last one; ends the watch when the batch
    /// is over or gone.
    async fn check(&mut self) -> Result<Option<Event>, StoreError> {
        let Some(stamp) = progress::progress_stamp(&self.db, self.batch_id).await? else {
            self.ended = true;
            return Ok(None);
        };
        if self.last.as_ref() == Some(&stamp) {
            return Ok(None);
        }
        let started = Instant::now();
        let now = Timestamp::now();
        let window_start = self.newest.map(|t| t.as_millis() - LATE_COMMIT_MS);
        let finished_after = match (window_start, self.floor) {
            (Some(a), Some(b)) => Some(a.max(b.as_millis())),
            (a, b) => a.or(b.map(Timestamp::as_millis)),
        };
        let asked = FEED_LIMIT + self.seen.len();
        let query = ProgressQuery {
            now,
            spend: self.spend,
            finished_after: finished_after.map(Timestamp),
            finished_limit: u32::try_from(asked).unwrap_or(u32::MAX),
        };
        let Some(progress) = progress::progress(&self.db, self.batch_id, query).await? else {
            self.ended = true;
            return Ok(None);
        };
        let slow = started.elapsed() * SLOW_READ_FACTOR;
        self.next_check = Instant::now() + slow.max(CHECK_EVERY);

        let feed = self.feed(&progress.finished, progress.finished.len() >= asked);
        let body = event_json(&progress, now, &feed);
        self.spend = Some(progress.spend);
        self.ended = matches!(
            progress.stamp.status,
            BatchStatus::Completed | BatchStatus::Cancelled | BatchStatus::Failed
        );
        self.last = Some(progress.stamp);
        Ok(Some(
            Event::default().event("progress").data(body.to_string()),
        ))
    }

    /// The rows of `finished` (oldest first) not sent before, at most [`FEED_LIMIT`] of the
    /// newest; remembers them. `capped`: the read returned as many rows as asked, so older ones
    /// were left out and must stay out.
    fn feed<'a>(&mut self, finished: &'a [FinishedRow], capped: bool) -> Vec<&'a FinishedRow> {
        let fresh: Vec<&FinishedRow> = finished
            .iter()
            .filter(|row| {
                !self
                    .seen
                    .contains(&(row.row_index, row.finished_at.as_millis()))
            })
            .collect();
        if capped && let Some(oldest) = finished.first() {
            self.floor = Some(oldest.finished_at);
        }
        for row in &fresh {
            self.seen
                .insert((row.row_index, row.finished_at.as_millis()));
            if self.newest.is_none_or(|newest| row.finished_at > newest) {
                self.newest = Some(row.finished_at);
            }
        }
        if let Some(newest) = self.newest {
            let keep_from = newest.as_millis() - LATE_COMMIT_MS;
            self.seen
                .retain(|(_, finished_at)| *finished_at > keep_from);
        }
        let skip = fresh.len().saturating_sub(FEED_LIMIT);
        fresh.into_iter().skip(skip).collect()
    }
}

/// The `progress` event's data.
fn event_json(progress: &Progress, now: Timestamp, feed: &[&FinishedRow]) -> Value {
    let stamp = &progress.stamp;
    let counts = progress.counts;
    // Over the last minute, or since the start when the batch is younger than that, so the
    // first minute's rate is not understated.
    let window_ms = progress.started_at.map_or(60_000, |started| {
        (now.as_millis() - started.as_millis()).clamp(1_000, 60_000)
    });
    let rows_per_minute = progress.finished_last_minute as f64 * 60_000.0 / window_ms as f64;
    let remaining = counts.queued + counts.running;
    let eta_seconds = match stamp.status {
        BatchStatus::Completed => Some(0),
        BatchStatus::Running | BatchStatus::Queued if rows_per_minute > 0.0 => {
            Some((remaining as f64 * 60.0 / rows_per_minute).ceil() as i64)
        }
        _ => None,
    };
    json!({
        "status": stamp.status,
        "total_rows": stamp.total_rows,
        "counts": counts,
        "done_rows": stamp.done_rows,
        "failed_rows": stamp.failed_rows,
        "input_tokens": progress.spend.input_tokens,
        "output_tokens": progress.spend.output_tokens,
        "cost_usd": progress.spend.cost_usd,
        "rows_per_minute": (rows_per_minute * 10.0).round() / 10.0,
        "eta_seconds": eta_seconds,
        "pause_reason": stamp.pause_reason,
        "ran_for_ms": stamp.ran_for_ms,
        "finished_rows_since": feed,
    })
}
