//! Building the application: database, migrations, sessions, routes, and the listening socket.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use app::{App, shell};
use axum::Router;
use axum::extract::FromRef;
use axum::response::IntoResponse;
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{
    AxumRouteListing, LeptosRoutes, file_and_error_handler_with_context, generate_route_list,
};
use rowbench_providers::catalog::Catalog;
use rowbench_store::Database;
use rowbench_store::chart_cache::ChartCache;
use rowbench_workbench::Workbench;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};

use crate::config::{Config, Mode};
use crate::page_pool::{PagePool, PagePoolLayer};
use crate::{routes, shutdown};

/// How long a browser session (and so the way back to its draft) lasts without a visit.
const SESSION_IDLE_DAYS: i64 = 30;
/// How often expired sessions are deleted from the database.
const SESSION_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 10);

/// What the axum handlers share.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    /// Limits on uploaded files.
    pub limits: rowbench_ingest::IngestLimits,
    /// How long an upload may send nothing before it is stopped as stalled.
    pub upload_idle: std::time::Duration,
    /// Configured providers and models; their keys never leave the server.
    pub catalog: Arc<Catalog>,
    /// Wakes the queue worker when a batch gets work.
    pub wake: Arc<Notify>,
    /// The use cases, which the pages' server functions and the JSON routes both call.
    pub workbench: Workbench,
    /// Where browsers reach the server (`ROWBENCH_PUBLIC_URL`), for links such as invitations.
    pub public_origin: PublicOrigin,
}

/// `ROWBENCH_PUBLIC_URL`'s origin (`https://rowbench.example.com`), when it is set.
#[derive(Debug, Clone, Default)]
pub struct PublicOrigin(pub Option<Arc<str>>);

/// A configured server, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Database,
    session_sweeper: JoinHandle<()>,
    /// PostgreSQL only: the task that wakes the worker when another instance changed the queue.
    listener_task: Option<JoinHandle<()>>,
    worker: rowbench_queue::WorkerHandle,
    /// How long a stop waits for requests in flight before it gives up on them.
    shutdown_grace: std::time::Duration,
}

impl Application {
    /// Opens and migrates the database, then binds the address; any failure stops start-up.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        if let Some(why) = config.refuse_to_listen() {
            anyhow::bail!(why);
        }
        if config.database_in_data_dir() {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating the data directory {}", config.data_dir.display())
            })?;
        }
        let db = Database::connect_as(&config.database_url, config.instance.as_deref())
            .await
            .context("opening the database")?;
        db.migrate()
            .await
            .context("applying the database migrations in migrations/")?;
        crate::recovery::after_restart(&db)
            .await
            .context("cleaning up after the previous run")?;

        let session_store = crate::sessions::Sessions::open(&db)
            .await
            .context("creating the sessions table")?;
        let session_sweeper = tokio::spawn({
            let store = session_store.clone();
            async move {
                if let Err(err) = store.continuously_delete_expired(SESSION_SWEEP_EVERY).await {
                    tracing::error!(error = %err, "expired-session cleanup stopped");
                }
            }
        });
        let team = config.access.mode == Mode::Team;
        let idle = if team {
            time::Duration::seconds(
                i64::try_from(config.access.session_idle.as_secs()).unwrap_or(i64::MAX),
            )
        } else {
            time::Duration::days(SESSION_IDLE_DAYS)
        };
        let sessions = SessionManagerLayer::new(session_store)
            .with_name("rowbench_session")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            // Served as plain HTTP (local mode on 127.0.0.1, or no public https URL), a Secure
            // cookie would never come back.
            .with_secure(
                config
                    .access
                    .public_url
                    .as_ref()
                    .is_some_and(|url| url.https),
            )
            .with_expiry(Expiry::OnInactivity(idle));

        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {} (is another server using it?)", config.addr))?;
        let addr = listener.local_addr().context("reading the bound address")?;

        let leptos_options = LeptosOptions::builder()
            .output_name(config.output_name.as_str())
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir(config.site_pkg_dir.as_str())
            .site_addr(addr)
            .build();
        let catalog = Arc::new(config.catalog.clone());
        let wake = Arc::new(Notify::new());
        let state = AppState {
            leptos_options,
            db: db.clone(),
            limits: config.limits,
            upload_idle: config.upload_idle,
            catalog: catalog.clone(),
            wake: wake.clone(),
            workbench: Workbench::new(db.clone(), catalog, wake, Arc::new(ChartCache::default()))
                .with_throttle(config.access.throttle),
            public_origin: PublicOrigin(
                config
                    .access
                    .public_url
                    .as_ref()
                    .map(|url| Arc::from(url.origin.as_str())),
            ),
        };
        // Batches left running by the previous process continue where they were: the rows it
        // held went back to the queue above.
        // On PostgreSQL other instances' changes to the queue wake this one's worker too.
        let listener_task = rowbench_store::wakeups::listen(&db, state.wake.clone())
            .await
            .context("listening for queue changes")?;
        let worker = rowbench_queue::Worker::new(
            db.clone(),
            state.catalog.clone(),
            state.wake.clone(),
            config.queue.worker_config(),
        )
        .spawn();
        let pages = PagePool::new(config.pages).context("starting the page-rendering threads")?;
        let gate = crate::auth::Gate {
            mode: config.access.mode,
            workbench: state.workbench.clone(),
            session_max: config.access.session_max,
        };
        let mut allowed_hosts = config.allowed_hosts.clone();
        if let Some(url) = &config.access.public_url {
            allowed_hosts.push(url.host.clone());
        }
        let policy = crate::security::Policy::new(addr, &allowed_hosts)
            .with_public_origin(config.access.public_url.as_ref().map(|u| u.origin.clone()));
        let router = crate::security::protect(
            crate::auth::guard(router(state, pages), gate).layer(sessions),
            policy,
        );

        Ok(Self {
            listener,
            router,
            db,
            session_sweeper,
            listener_task,
            worker,
            shutdown_grace: config.shutdown_grace,
        })
    }

    /// The address actually bound (useful when the configured port was 0).
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    /// Serves until Ctrl-C or SIGTERM, letting requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown::signal()).await
    }

    /// Serves until `stop` resolves, letting requests in flight finish for up to the shutdown
    /// grace (an open event stream or a stuck request would otherwise hold the process for
    /// good), then stops the queue and closes the database.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        let graceful = async move {
            stop.await;
            let _ = stopping.send(true);
        };
        // hyper's own error answers (a URI over 64 KB, headers too large) go out as JSON too.
        let listener = crate::wire_errors::JsonErrorListener(self.listener);
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<crate::wire_errors::Peer>(),
        )
        .with_graceful_shutdown(graceful)
        .into_future();
        let grace = self.shutdown_grace;
        let given_up = async move {
            if stopped.wait_for(|s| *s).await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(grace).await;
        };
        let served = tokio::select! {
            served = served => served,
            () = given_up => {
                tracing::warn!(
                    grace_secs = grace.as_secs_f64(),
                    "requests still open after the shutdown grace are dropped"
                );
                Ok(())
            }
        };
        self.session_sweeper.abort();
        if let Some(listener) = &self.listener_task {
            listener.abort();
        }
        // Rows in flight get a short grace to finish; the rest go back to the queue.
        self.worker.shutdown().await;
        // Closing waits for every connection to come back; one held by a dropped request
        // would never come.
        if tokio::time::timeout(grace, self.db.close()).await.is_err() {
            tracing::warn!("the database did not close within the shutdown grace");
        }
        served
    }
}

/// The app's routes, generated once per process.
///
/// Generating them sets a process-wide flag (leptos_server's `SuppressResourceLoad`) under which
/// no resource anywhere loads; generating again while another server in the process is rendering
/// (as parallel integration tests do) would leave that render waiting forever.
fn app_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Every route: health, the Leptos pages and server functions, then static files and the 404 page.
fn router(state: AppState, pages: PagePool) -> Router {
    let routes = app_routes();
    let context = {
        let workbench = state.workbench.clone();
        move || {
            provide_context(workbench.clone());
            crate::security::provide_nonce();
        }
    };
    let leptos_options = state.leptos_options.clone();

    routes::all()
        .into_router()
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos_options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state)
        // Pages render on their own threads with a time limit; the rest stays here.
        .layer(PagePoolLayer::new(pages))
        .layer(CompressionLayer::new())
        // A bug that panics in a handler answers 500 instead of leaving the request hanging.
        .layer(CatchPanicLayer::custom(panic_answer))
        .layer(TraceLayer::new_for_http())
}

/// Every path the server answers on, read from the routers themselves: the plain axum routes,
/// the Leptos pages, and the server functions with their methods.
#[derive(Debug, Clone)]
pub struct RouteTable {
    /// axum syntax: `/api/batches/{id}`.
    pub routes: Vec<&'static str>,
    /// Leptos syntax: `/batches/:id`.
    pub pages: Vec<String>,
    pub server_functions: Vec<(String, axum::http::Method)>,
}

pub fn route_table() -> RouteTable {
    RouteTable {
        routes: routes::all().paths().to_vec(),
        pages: app_routes().iter().map(|r| r.path().to_string()).collect(),
        server_functions: leptos::server_fn::axum::server_fn_paths()
            .map(|(path, method)| (path.to_string(), method))
            .collect(),
    }
}

/// A bug that panicked in a handler: logged with its message, answered as the JSON API's
/// internal error, which hides it.
fn panic_answer(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = %message, "a request handler panicked");
    let body = serde_json::json!({"error": {
        "code": "internal",
        "message": "Something went wrong on the server; the server log has the details.",
        "details": null,
    }});
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::panic_answer;

    #[tokio::test]
    async fn a_panicking_handler_answers_the_json_internal_error_without_its_message() {
        let response = panic_answer(Box::new("index out of bounds: secret detail"));
        assert_eq!(response.status().as_u16(), 500);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(json["error"]["code"], "internal");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }
}
