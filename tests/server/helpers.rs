//! `spawn_app()`: the real Rowbench server on a free port, with a fresh database of its own: an
//! SQLite file, or a new PostgreSQL database when `ROWBENCH_TEST_POSTGRES` names a server.

use rowbench::{Application, Config};
use rowbench_store::Database;
use rowbench_store::testing::{self, TestPlace};
use tokio::sync::oneshot;

/// A running server and a client that keeps its cookies, like one browser.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    _place: TestPlace,
}

/// The configuration of a server on port 0 whose data lives in `dir`.
pub fn test_config(dir: &std::path::Path) -> Config {
    let data_dir = dir.join("data");
    Config {
        addr: "127.0.0.1:0".parse().expect("address"),
        database_url: format!("sqlite://{}", data_dir.join("rowbench.db").display()),
        data_dir,
        site_root: dir.join("site"),
        site_pkg_dir: "pkg".into(),
        output_name: "rowbench".into(),
        limits: rowbench_ingest::IngestLimits::default(),
        // Only the built-in demo: tests never see the developer's own keys.
        catalog: rowbench_providers::catalog::Catalog::from_env(&|_| None).expect("demo catalog"),
        queue: rowbench::config::QueueSettings::default(),
        upload_idle: rowbench::config::DEFAULT_UPLOAD_IDLE,
        pages: rowbench::PageSettings::default(),
        shutdown_grace: std::time::Duration::from_secs(10),
        allowed_hosts: Vec::new(),
        instance: None,
        access: rowbench::config::AccessSettings::default(),
    }
}

/// A client that keeps cookies, asks for HTML like a browser, and does not follow redirects,
/// so tests see them.
pub fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose configuration `adjust` changes first (e.g. lower upload limits).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        rowbench::telemetry::init();
    }
    let place = testing::fresh_place().await;
    let mut config = test_config(place.dir().expect("a directory for the site and files"));
    if rowbench_store::is_postgres_url(&place.url) {
        config.database_url = place.url.clone();
    }
    adjust(&mut config);
    let app = Application::build(config.clone())
        .await
        .expect("the server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: browser(),
        config,
        stop: Some(stop),
        _place: place,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request is answered")
    }

    /// `GET path` and the body as text, asserting the status first.
    pub async fn get_text(&self, path: &str, status: u16) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "status of GET {path}");
        response.text().await.expect("body")
    }

    /// `POST /api/datasets` with a raw CSV body; the status and the JSON answer.
    pub async fn upload_csv(
        &self,
        query: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(&format!("/api/datasets{query}")))
            .header("content-type", "text/csv")
            .body(body)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// `POST path` with a JSON body; the status and the JSON answer.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// `GET path` as JSON, asserting 200.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "status of GET {path}");
        response.json().await.expect("JSON body")
    }

    /// Polls batch `id` until its status is `status`, failing the test after `within`; the
    /// batch as it was then.
    pub async fn wait_for_batch(
        &self,
        id: i64,
        status: &str,
        within: std::time::Duration,
    ) -> serde_json::Value {
        let started = std::time::Instant::now();
        loop {
            let batch = self.get_json(&format!("/api/batches/{id}")).await;
            if batch["status"] == status {
                return batch;
            }
            assert!(
                started.elapsed() < within,
                "batch {id} never became {status}: {batch}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A second handle on the server's database, for arranging data the UI cannot create yet.
    pub async fn database(&self) -> Database {
        Database::connect(&self.config.database_url)
            .await
            .expect("database opens")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The server binary as a process of its own, for tests that kill or signal it; killed
/// (SIGKILL) when dropped, so a failing test leaves nothing behind.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub url: String,
}

impl ServerProcess {
    /// Starts the binary on a free port with its data in `data_dir` and `envs` set, once it
    /// says where it listens. Its log goes to the test's output, each line after `label`.
    pub async fn start(data_dir: &std::path::Path, envs: &[(&str, &str)], label: &str) -> Self {
        use tokio::io::{AsyncBufReadExt, BufReader};

        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rowbench"))
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("ROWBENCH_DATA_DIR", data_dir)
            .env("RUST_LOG", "warn,rowbench=info")
            .env("NO_COLOR", "1")
            .envs(envs.iter().copied())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let url = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            while let Some(line) = log.next_line().await.expect("log line") {
                eprintln!("{label}: {line}");
                if let Some(at) = line.find("http://127.0.0.1:") {
                    return line[at..].trim().to_string();
                }
            }
            panic!("the server exited before listening");
        })
        .await
        .expect("the server listens within 20 s");
        // Keep reading: a full stderr pipe would block the server's logging, and so the server.
        let label = label.to_string();
        tokio::spawn(async move {
            while let Ok(Some(line)) = log.next_line().await {
                eprintln!("{label}: {line}");
            }
        });
        ServerProcess { child, url }
    }

    /// Uploads `rows` rows of `id,text` and starts a batch over them with the provider of
    /// [`mock_providers_file`] at `concurrency`; the batch's id. The row's id in the user
    /// message makes every prompt unique, so the mock's per-prompt counts are per-row counts.
    pub async fn start_mock_batch(
        &self,
        client: &reqwest::Client,
        rows: usize,
        concurrency: u64,
    ) -> i64 {
        let csv: String = std::iter::once("id,text\n".to_string())
            .chain((0..rows).map(|i| format!("{i},item number {i}\n")))
            .collect();
        let response = client
            .post(format!("{}/api/datasets?name=items", self.url))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 201);
        let dataset: serde_json::Value = response.json().await.expect("JSON body");
        let recipe = serde_json::json!({
            "dataset_id": dataset["id"],
            "mapping": { "columns": [
                { "name": "id", "role": "include", "is_key": true },
                { "name": "text", "role": "include" }
            ]},
            "prompt": { "system": "Label the item.", "user": "Row {{ id }}: {{ text }}" },
            "schema": { "fields": [ { "name": "label", "type": "string", "required": true } ] },
            "settings": { "provider": "mock", "model": "mock-model", "concurrency": concurrency }
        });
        let response = client
            .post(format!("{}/api/batches", self.url))
            .json(&recipe)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 201);
        let batch: serde_json::Value = response.json().await.expect("JSON body");
        batch["id"].as_i64().expect("batch id")
    }

    /// SIGKILL: no graceful shutdown, no rows handed back.
    pub async fn kill(mut self) -> std::process::ExitStatus {
        self.child.start_kill().expect("SIGKILL is sent");
        self.child.wait().await.expect("exit status")
    }

    /// SIGTERM, as a service manager stops it.
    #[cfg(unix)]
    pub fn terminate(&self) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
    }
}

/// A providers file in `dir` with one provider, `mock`, at the mock LLM's OpenAI-compatible
/// endpoint, and one free model, `mock-model`.
pub fn mock_providers_file(
    dir: &std::path::Path,
    mock: &rowbench_mock_llm::MockServer,
) -> std::path::PathBuf {
    let path = dir.join("providers.toml");
    let text = format!(
        "[[providers]]\nid = \"mock\"\nkind = \"openai\"\nbase_url = \"{}/v1\"\ntimeout_secs = 30\n\n\
         [[providers.models]]\nid = \"mock-model\"\ninput_usd_per_mtok = 0\noutput_usd_per_mtok = 0\n",
        mock.url()
    );
    std::fs::write(&path, text).expect("providers file written");
    path
}
