//! Page rendering on threads of its own, with a time limit, so a render that hangs can never
//! take the JSON API, `/healthz` or the queue with it.
//!
//! Each page thread runs a single-threaded tokio runtime: every task of one render (Leptos
//! spawns one per resource) then runs on the thread that renders it, so the reactive graph of a
//! render is never touched from two threads at once. That is the condition for the lock-order
//! inversion that deadlocked the server in issue 12 (leptos-rs/leptos#4673 is one like it).
//! A response is finished on its page thread (the body read to the end there) before it is
//! handed back, so nothing of the render is polled on the main runtime either.
//!
//! Should a render still hang: the caller answers 503 after the time limit and logs the route,
//! and a page thread whose heartbeat stops (it is blocked, not just waiting) is replaced by a new
//! one, so pages keep rendering too.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{mpsc, oneshot};
use tower::{Layer, Service, ServiceExt};

/// How often a page thread proves it is not blocked.
const HEARTBEAT: Duration = Duration::from_millis(100);
/// A page thread whose heartbeat is older than this is blocked and gets replaced.
const STALLED_AFTER: Duration = Duration::from_secs(2);
/// Pages are a few tens of kilobytes; anything near this is a bug, not a page.
const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;

/// How many page threads, and how long a page may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSettings {
    pub threads: usize,
    pub timeout: Duration,
}

impl Default for PageSettings {
    fn default() -> Self {
        PageSettings {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8)),
            // Every page renders in milliseconds; ten seconds means it is stuck.
            timeout: Duration::from_secs(10),
        }
    }
}

type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// One page thread: where to send it work, and its last sign of life.
struct Thread {
    jobs: mpsc::UnboundedSender<Job>,
    /// Milliseconds since the pool's epoch at its last heartbeat.
    beat: Arc<AtomicU64>,
    /// Renders sent to it and not yet answered.
    load: Arc<AtomicUsize>,
}

struct Shared {
    threads: Mutex<Vec<Thread>>,
    settings: PageSettings,
    epoch: Instant,
    spawned: AtomicUsize,
}

/// The page threads; cheap to clone. Dropping the last clone lets the threads end once their
/// renders in flight are done.
#[derive(Clone)]
pub struct PagePool {
    shared: Arc<Shared>,
}

/// Why a render gave no page.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the page did not render within {0:?}")]
    TimedOut(Duration),
    #[error("no page thread could take the render: {0}")]
    NoThread(String),
    #[error("the page's body could not be read: {0}")]
    Body(String),
}

impl PagePool {
    pub fn new(settings: PageSettings) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            threads: Mutex::new(Vec::new()),
            settings: PageSettings {
                threads: settings.threads.max(1),
                ..settings
            },
            epoch: Instant::now(),
            spawned: AtomicUsize::new(0),
        });
        let pool = PagePool { shared };
        let mut threads = Vec::new();
        for _ in 0..pool.shared.settings.threads {
            threads.push(pool.spawn_thread()?);
        }
        *pool.lock() = threads;
        Ok(pool)
    }

    /// How many page threads have been started, replacements included.
    pub fn threads_started(&self) -> usize {
        self.shared.spawned.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Thread>> {
        self.shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.shared.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn spawn_thread(&self) -> std::io::Result<Thread> {
        let number = self.shared.spawned.fetch_add(1, Ordering::Relaxed) + 1;
        let (jobs, mut inbox) = mpsc::unbounded_channel::<Job>();
        let beat = Arc::new(AtomicU64::new(self.now_ms()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(format!("rowbench-pages-{number}"))
            .build()?;
        let heartbeat = beat.clone();
        let epoch = self.shared.epoch;
        std::thread::Builder::new()
            .name(format!("rowbench-pages-{number}"))
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    tokio::task::spawn_local(async move {
                        loop {
                            let ms = u64::try_from(epoch.elapsed().as_millis()).unwrap_or(0);
                            heartbeat.store(ms, Ordering::Relaxed);
                            tokio::time::sleep(HEARTBEAT).await;
                        }
                    });
                    let mut renders = tokio::task::JoinSet::new();
                    loop {
                        tokio::select! {
                            job = inbox.recv() => match job {
                                Some(job) => { renders.spawn_local(job()); }
                                None => break,
                            },
                            Some(_) = renders.join_next(), if !renders.is_empty() => {}
                        }
                    }
                    // Replaced or shut down: the renders in flight still finish (each has its
                    // own time limit), then the thread ends.
                    while renders.join_next().await.is_some() {}
                });
            })?;
        Ok(Thread {
            jobs,
            beat,
            load: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The least busy page thread whose heartbeat is fresh; blocked ones are replaced first.
    fn pick(&self) -> Result<(mpsc::UnboundedSender<Job>, Arc<AtomicUsize>), RenderError> {
        let now = self.now_ms();
        let stalled = u64::try_from(STALLED_AFTER.as_millis()).unwrap_or(u64::MAX);
        let mut threads = self.lock();
        for slot in threads.iter_mut() {
            let last = slot.beat.load(Ordering::Relaxed);
            if now.saturating_sub(last) > stalled || slot.jobs.is_closed() {
                tracing::error!(
                    stalled_ms = now.saturating_sub(last),
                    "a page thread is blocked; starting a new one in its place"
                );
                match self.spawn_thread() {
                    Ok(fresh) => *slot = fresh,
                    Err(err) => tracing::error!(error = %err, "cannot start a page thread"),
                }
            }
        }
        threads
            .iter()
            .filter(|t| now.saturating_sub(t.beat.load(Ordering::Relaxed)) <= stalled)
            .min_by_key(|t| t.load.load(Ordering::Relaxed))
            .or_else(|| threads.first())
            .map(|t| (t.jobs.clone(), t.load.clone()))
            .ok_or_else(|| RenderError::NoThread("the pool has no threads".into()))
    }

    /// Runs `service` on `request` on a page thread and reads the whole response there.
    pub async fn render<S>(&self, service: S, request: Request) -> Result<Response, RenderError>
    where
        S: Service<Request, Response = Response, Error = std::convert::Infallible> + Send + 'static,
        S::Future: Send + 'static,
    {
        let timeout = self.shared.settings.timeout;
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            Box::pin(async move {
                let render = async move {
                    let Ok(response) = service.oneshot(request).await;
                    let (parts, body) = response.into_parts();
                    let bytes = axum::body::to_bytes(body, MAX_PAGE_BYTES)
                        .await
                        .map_err(|e| RenderError::Body(e.to_string()))?;
                    Ok::<_, RenderError>((parts, bytes))
                };
                let result = match tokio::time::timeout(timeout, render).await {
                    Ok(result) => result,
                    Err(_) => Err(RenderError::TimedOut(timeout)),
                };
                let _ = answer.send(result);
            })
        });
        let (jobs, load) = self.pick()?;
        load.fetch_add(1, Ordering::Relaxed);
        let _done = DecrementOnDrop(load);
        jobs.send(job)
            .map_err(|_| RenderError::NoThread("the page thread has stopped".into()))?;
        // A little past the thread's own limit: if the thread is blocked, it cannot answer.
        match tokio::time::timeout(timeout + Duration::from_secs(1), answered).await {
            Ok(Ok(Ok((parts, bytes)))) => Ok(Response::from_parts(parts, Body::from(bytes))),
            Ok(Ok(Err(err))) => Err(err),
            Ok(Err(_)) => Err(RenderError::NoThread("the render was dropped".into())),
            Err(_) => Err(RenderError::TimedOut(timeout)),
        }
    }
}

struct DecrementOnDrop(Arc<AtomicUsize>);

impl Drop for DecrementOnDrop {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether a request is a page render. The JSON API, server functions (`/rpc/*`), the health
/// check and files are not: they have no reactive rendering and stay on the main runtime.
fn is_page(request: &Request) -> bool {
    let path = request.uri().path();
    if ["/api/", "/rpc/", "/pkg/"]
        .iter()
        .any(|p| path.starts_with(p))
        || path == "/healthz"
    {
        return false;
    }
    // A last segment with a dot is a file (favicon.svg, readme/wizard.png): served as it is.
    !path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

/// The answer when a page could not be rendered: a short page, or the JSON error shape for a
/// client that asked for JSON.
fn unavailable(request_path: &str, wants_json: bool, err: &RenderError) -> Response {
    tracing::error!(route = %request_path, error = %err, "page not rendered; answered 503");
    let mut response = if wants_json {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"error": {
                "code": "page_unavailable",
                "message": "This page could not be rendered in time. Try again in a moment; the server log has the details.",
                "details": {"path": request_path},
            }})),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Try again · Rowbench</title></head>\
             <body><h1>This page could not be shown in time</h1><p>Reload it in a moment. \
             Batches keep running; the server log names the page.</p><p><a href=\"/\">Back to the batches</a></p></body></html>",
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    response
}

/// Routes page renders through a [`PagePool`].
#[derive(Clone)]
pub struct PagePoolLayer {
    pool: PagePool,
}

impl PagePoolLayer {
    pub fn new(pool: PagePool) -> Self {
        PagePoolLayer { pool }
    }
}

impl<S> Layer<S> for PagePoolLayer {
    type Service = PagePoolService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PagePoolService {
            inner,
            pool: self.pool.clone(),
        }
    }
}

#[derive(Clone)]
pub struct PagePoolService<S> {
    inner: S,
    pool: PagePool,
}

impl<S> Service<Request> for PagePoolService<S>
where
    S: Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, std::convert::Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let inner = self.inner.clone();
        if !is_page(&request) {
            return Box::pin(inner.oneshot(request));
        }
        let pool = self.pool.clone();
        Box::pin(async move {
            let path = request.uri().path().to_string();
            let wants_json = request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("application/json") && !v.contains("text/html"));
            Ok(match pool.render(inner, request).await {
                Ok(response) => response,
                Err(err) => unavailable(&path, wants_json, &err),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn pool(timeout_ms: u64) -> PagePool {
        PagePool::new(PageSettings {
            threads: 2,
            timeout: Duration::from_millis(timeout_ms),
        })
        .expect("page threads start")
    }

    fn request(path: &str) -> Request {
        Request::builder()
            .uri(path)
            .body(Body::empty())
            .expect("request")
    }

    /// Answers with the name of the thread that rendered it.
    async fn thread_name(_req: Request) -> Result<Response, Infallible> {
        let name = std::thread::current().name().unwrap_or("?").to_string();
        Ok(name.into_response())
    }

    #[tokio::test]
    async fn a_page_renders_on_a_page_thread_and_comes_back_whole() {
        let pool = pool(2_000);
        let response = pool
            .render(tower::service_fn(thread_name), request("/"))
            .await
            .expect("rendered");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(text(response).await.starts_with("rowbench-pages-"));
    }

    #[tokio::test]
    async fn a_page_that_waits_too_long_answers_503_and_the_next_one_renders() {
        let pool = pool(300);
        let mut slow_then_fast =
            PagePoolLayer::new(pool.clone()).layer(tower::service_fn(|req: Request| async move {
                if req.uri().path() == "/slow" {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                Ok::<_, Infallible>("ok".into_response())
            }));
        let started = Instant::now();
        let Ok(response) = slow_then_fast.call(request("/slow")).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "answered at the limit"
        );
        let Ok(response) = slow_then_fast.call(request("/fast")).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_render_that_blocks_its_thread_for_good_is_answered_and_its_thread_replaced() {
        let pool = pool(300);
        let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let held = release.clone();
        // Blocks the page thread the way the reactive graph's deadlock did: no await, no end
        // (until the test lets it go, so the threads do not outlive the test's checks).
        let deadlock = tower::service_fn(move |_req: Request| {
            let held = held.clone();
            async move {
                while !held.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok::<_, Infallible>("late".into_response())
            }
        });
        // Both threads blocked: the pool has no healthy thread left until it replaces one.
        for _ in 0..2 {
            let err = pool
                .render(deadlock.clone(), request("/stuck"))
                .await
                .expect_err("a blocked render gives no page");
            assert!(matches!(err, RenderError::TimedOut(_)), "{err}");
        }
        tokio::time::sleep(STALLED_AFTER + Duration::from_millis(300)).await;
        let started = Instant::now();
        let response = pool
            .render(tower::service_fn(thread_name), request("/"))
            .await
            .expect("a new thread renders");
        assert!(started.elapsed() < Duration::from_millis(300));
        assert!(pool.threads_started() >= 3, "a blocked thread was replaced");
        assert_eq!(response.status(), StatusCode::OK);
        release.store(true, Ordering::Relaxed);
    }

    #[test]
    fn server_functions_and_files_are_not_page_renders() {
        assert!(is_page(&request("/")));
        assert!(is_page(&request("/batches/3")));
        assert!(is_page(&request("/new/review")));
        assert!(!is_page(&request("/rpc/load_batch")));
        assert!(!is_page(&request("/api/batches/1/events")));
        assert!(!is_page(&request("/healthz")));
        assert!(!is_page(&request("/pkg/rowbench.wasm")));
        assert!(!is_page(&request("/favicon.svg")));
    }
}
