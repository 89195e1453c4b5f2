//! The HTTP server: routes, the per-request pipeline (read, decide, count, wait, answer) and the
//! handle tests hold.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{MockConfig, Outcome};
use crate::prompt;
use crate::stats::MockStats;
use crate::violation::violate;
use crate::wire::{AnswerBody, Wire};

/// Prompts with whole documents in them are legitimate; axum's 2 MB default is not a real API's.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

const INVALID_JSON_TEXT: &str = "Sure! Here is the answer: {not json";

/// A running mock server. Dropping it also stops the server, without waiting.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
}

impl MockServer {
    /// Starts a server on a free loopback port.
    pub async fn start(config: MockConfig) -> io::Result<MockServer> {
        Self::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts a server on `addr` (port 0 picks a free one).
    pub async fn bind(addr: SocketAddr, config: MockConfig) -> io::Result<MockServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopping) = watch::channel(false);
        let shared = Arc::new(Shared {
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed)),
            config: Mutex::new(config),
            stats: Mutex::new(MockStats::default()),
            rate_limit_next: Mutex::new(0),
            started: Instant::now(),
            stopping: stopping.clone(),
        });
        let app = router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped(stopping))
                .await
        });
        tracing::debug!(%addr, "mock LLM listening");
        Ok(MockServer {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`; the OpenAI-compatible base URL is this plus `/v1`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the configuration for requests that arrive from now on, and restarts the fault
    /// sequence from the new seed.
    pub fn set_config(&self, config: MockConfig) {
        self.shared.set_config(config);
    }

    pub fn config(&self) -> MockConfig {
        self.shared.config()
    }

    pub fn stats(&self) -> MockStats {
        lock(&self.shared.stats).clone()
    }

    /// Answers the next `requests` model requests 429 (with the configured Retry-After), whatever
    /// the fault draws: one provider refusal at a moment the test picks, not at a rate.
    pub fn rate_limit_next(&self, requests: u64) {
        *lock(&self.shared.rate_limit_next) = requests;
    }

    /// Zeroes the counters, e.g. between the warm-up and the measured part of a benchmark.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = MockStats::default();
    }

    /// Stops accepting requests, cuts pending latencies and hangs short, and waits for open
    /// connections to finish.
    pub async fn shutdown(self) {
        // A send error means the server task is gone already, which is what is wanted.
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "mock LLM server failed"),
            Err(error) => tracing::warn!(%error, "mock LLM server task failed"),
        }
    }
}

struct Shared {
    config: Mutex<MockConfig>,
    rng: Mutex<fastrand::Rng>,
    stats: Mutex<MockStats>,
    /// How many of the next requests answer 429; see [`MockServer::rate_limit_next`].
    rate_limit_next: Mutex<u64>,
    started: Instant,
    stopping: watch::Receiver<bool>,
}

/// The random part of a request's fate.
struct Draw {
    outcome: Outcome,
    delay: Duration,
    /// Chooses how a schema violation breaks the answer.
    pick: u64,
}

impl Shared {
    /// True, once, for each request [`MockServer::rate_limit_next`] asked to refuse.
    fn take_forced_rate_limit(&self) -> bool {
        let mut left = lock(&self.rate_limit_next);
        let forced = *left > 0;
        *left = left.saturating_sub(1);
        forced
    }

    fn config(&self) -> MockConfig {
        lock(&self.config).clone()
    }

    fn set_config(&self, config: MockConfig) {
        let seed = config.seed;
        *lock(&self.config) = config;
        *lock(&self.rng) = fastrand::Rng::with_seed(seed);
    }

    fn draw(&self, config: &MockConfig) -> Draw {
        let mut rng = lock(&self.rng);
        // Every request takes the same three draws whatever the configuration, so the sequence
        // of outcomes for a seed does not shift when latency settings change.
        let outcome = config.faults.outcome(rng.f64());
        let spread = rng.u64(0..=config.jitter_ms.saturating_mul(2));
        let pick = rng.u64(..);
        let delay_ms = config
            .latency_ms
            .saturating_add(spread)
            .saturating_sub(config.jitter_ms);
        Draw {
            outcome,
            delay: Duration::from_millis(delay_ms),
            pick,
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Sleeps without blocking a thread, and wakes early when the server is shutting down so
    /// that a hang cannot hold shutdown up for its full length.
    async fn pause(&self, duration: Duration) {
        if duration.is_zero() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = stopped(self.stopping.clone()) => {}
        }
    }
}

/// Resolves once shutdown is asked for, or once the handle is dropped.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    // An error means the sender was dropped with the `MockServer`: stop as well.
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// A panic while a lock was held leaves plain counters behind, still fine to use.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(
                |state: State<Arc<Shared>>, headers: HeaderMap, body: Bytes| {
                    chat(state, Wire::OpenAi, headers, body)
                },
            ),
        )
        .route(
            "/v1/messages",
            post(
                |state: State<Arc<Shared>>, headers: HeaderMap, body: Bytes| {
                    chat(state, Wire::Anthropic, headers, body)
                },
            ),
        )
        .route("/v1/models", get(models))
        .route("/stats", get(get_stats).delete(delete_stats))
        .route("/config", get(get_config).post(post_config))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

async fn chat(
    State(shared): State<Arc<Shared>>,
    wire: Wire,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived_ms = shared.elapsed_ms();
    let config = shared.config();
    let parsed = serde_json::from_slice::<Value>(&body)
        .map_err(|error| format!("the body is not JSON: {error}"))
        .and_then(|request| {
            if request.is_object() {
                Ok(request)
            } else {
                Err("the body is not a JSON object".to_owned())
            }
        })
        .and_then(|request| Ok((wire.job(&request)?, request)));
    let (job, request) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => {
            lock(&shared.stats).record_bad_request(arrived_ms);
            return wire.bad_request(&message);
        }
    };

    let prompt = prompt::last_user_text(&request);
    drop(request);
    let seed = prompt::stable_hash(&prompt);
    let missing_key = wire == Wire::Anthropic
        && config.require_anthropic_key
        && !headers.contains_key("x-api-key");
    let wrong_key = config
        .api_key
        .as_deref()
        .is_some_and(|key| sent_key(&headers).as_deref() != Some(key));
    let unknown_model = !config.models.is_empty() && !config.models.contains(&job.model);
    // Drawn for every request, so a fixed seed gives the same faults whatever the keys and models.
    let draw = shared.draw(&config);
    // A real provider checks the key first, then the model, then may fail.
    let outcome = if missing_key || wrong_key {
        Outcome::Unauthorized
    } else if unknown_model {
        Outcome::UnknownModel
    } else if shared.take_forced_rate_limit() {
        Outcome::RateLimited
    } else {
        draw.outcome
    };
    let number = lock(&shared.stats).record(arrived_ms, prompt, outcome);
    let _answering = Answering::new(&shared);

    if outcome == Outcome::Hang {
        shared.pause(Duration::from_millis(config.hang_ms)).await;
        return wire.server_error();
    }
    shared.pause(draw.delay).await;

    let answer = || rowbench_schema::synthetic::example_answer(&job.schema, seed);
    let body = match outcome {
        Outcome::ServerError | Outcome::Hang => return wire.server_error(),
        Outcome::RateLimited => return wire.rate_limited(config.retry_after_ms),
        Outcome::Unauthorized => return wire.unauthorized(missing_key),
        Outcome::UnknownModel => return wire.unknown_model(&job.model),
        Outcome::Ok => AnswerBody::Json(answer()),
        Outcome::SchemaViolation => AnswerBody::Json(violate(answer(), &job.schema, draw.pick)),
        Outcome::InvalidJson => AnswerBody::Text(INVALID_JSON_TEXT.to_owned()),
        Outcome::Fenced => {
            let pretty = serde_json::to_string_pretty(&answer()).unwrap_or_default();
            AnswerBody::Text(format!(
                "Here you go:\n```json\n{pretty}\n```\nAnything else?"
            ))
        }
    };
    wire.answer(&job, number, body)
}

/// A request being answered, counted in the stats' `in_flight` until dropped (also when the
/// client gives up and the handler is cancelled).
struct Answering<'a>(&'a Shared);

impl<'a> Answering<'a> {
    fn new(shared: &'a Shared) -> Self {
        let mut stats = lock(&shared.stats);
        stats.in_flight += 1;
        stats.max_in_flight = stats.max_in_flight.max(stats.in_flight);
        Answering(shared)
    }
}

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        let mut stats = lock(&self.0.stats);
        stats.in_flight = stats.in_flight.saturating_sub(1);
    }
}

/// The key a request carries: OpenAI's bearer token or Anthropic's `x-api-key`.
fn sent_key(headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    header("x-api-key")
        .or_else(|| header("authorization").and_then(|value| value.strip_prefix("Bearer ")))
        .map(str::to_owned)
}

async fn models() -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": [{"id": "mock", "object": "model", "created": 0, "owned_by": "rowbench-mock-llm"}]
    }))
}

async fn get_stats(State(shared): State<Arc<Shared>>) -> Json<MockStats> {
    Json(lock(&shared.stats).clone())
}

async fn delete_stats(State(shared): State<Arc<Shared>>) -> StatusCode {
    *lock(&shared.stats) = MockStats::default();
    StatusCode::NO_CONTENT
}

async fn get_config(State(shared): State<Arc<Shared>>) -> Json<MockConfig> {
    Json(shared.config())
}

async fn post_config(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<MockConfig>(&body) {
        Ok(config) => {
            shared.set_config(config);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("not a mock config: {error}")})),
        )
            .into_response(),
    }
}
