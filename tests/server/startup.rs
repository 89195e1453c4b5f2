use rowbench::Application;

use crate::helpers::{ServerProcess, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_creates_the_data_directory_and_the_database() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = test_config(dir.path());
    assert!(!config.data_dir.exists());
    let app = Application::build(config.clone()).await.expect("starts");
    assert!(config.data_dir.join("rowbench.db").exists());
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_fails_loudly_when_an_applied_migration_was_edited() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = test_config(dir.path());
    drop(
        Application::build(config.clone())
            .await
            .expect("first start migrates"),
    );

    let db = rowbench_store::Database::connect(&config.database_url)
        .await
        .expect("opens");
    rowbench_store::testing::execute(
        &db,
        "UPDATE _sqlx_migrations SET checksum = substr(checksum, 2)",
        &[],
    )
    .await;
    db.close().await;

    let err = Application::build(config)
        .await
        .err()
        .expect("start-up must refuse the database");
    let message = format!("{err:#}");
    assert!(message.contains("migrations"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_names_the_address_it_could_not_bind() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let first = Application::build(test_config(dir.path()))
        .await
        .expect("starts");
    let mut config = test_config(dir.path());
    config.addr = first.address();
    let err = Application::build(config)
        .await
        .err()
        .expect("the port is taken");
    let message = format!("{err:#}");
    assert!(message.contains(&first.address().to_string()), "{message}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_finishes_cleanly_on_sigterm() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().expect("temporary directory");
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_rowbench"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("ROWBENCH_DATA_DIR", dir.path().join("data"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let mut log = BufReader::new(server.stderr.take().expect("stderr")).lines();

    let url = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(line) = log.next_line().await.expect("log line") {
            if let Some(at) = line.find("http://127.0.0.1:") {
                return line[at..].trim().to_string();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server listens within 20 s");
    let health = reqwest::get(format!("{url}/healthz"))
        .await
        .expect("answered");
    assert_eq!(health.status().as_u16(), 200);

    let pid = server.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), server.wait())
        .await
        .expect("the server stops within 10 s of SIGTERM")
        .expect("exit status");
    assert!(status.success(), "{status}");

    let mut rest = Vec::new();
    while let Ok(Some(line)) = log.next_line().await {
        rest.push(line);
    }
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
}

/// An open event stream (a batch page left open in a tab) never ends by itself: a stop gives up
/// on it after the grace instead of waiting for it for good.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_binary_within_the_grace_though_a_batch_page_is_still_listening() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let envs = [("ROWBENCH_SHUTDOWN_GRACE_SECS", "1")];
    let mut server = ServerProcess::start(&dir.path().join("data"), &envs, "server").await;
    let url = server.url.clone();
    let client = reqwest::Client::new();
    let csv: String = std::iter::once("id,text\n".to_string())
        .chain((0..200).map(|i| format!("{i},item {i}\n")))
        .collect();
    let dataset: serde_json::Value = client
        .post(format!("{url}/api/datasets?filename=a.csv"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("uploaded")
        .json()
        .await
        .expect("JSON");
    let recipe = serde_json::json!({
        "dataset_id": dataset["id"],
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "text", "role": "include" }
        ]},
        "prompt": { "system": "Label.", "user": "{{ text }}" },
        "schema": { "fields": [{ "name": "label", "type": "string" }] },
        "settings": { "provider": "demo", "model": "demo-synthetic" }
    });
    let batch: serde_json::Value = client
        .post(format!("{url}/api/batches"))
        .json(&recipe)
        .send()
        .await
        .expect("created")
        .json()
        .await
        .expect("JSON");
    let id = batch["id"].as_i64().expect("batch id");
    let paused = client
        .post(format!("{url}/api/batches/{id}/pause"))
        .send()
        .await
        .expect("paused");
    assert_eq!(paused.status().as_u16(), 200);
    let mut events = client
        .get(format!("{url}/api/batches/{id}/events"))
        .send()
        .await
        .expect("the stream opens");
    events
        .chunk()
        .await
        .expect("first event")
        .expect("a first event arrives");

    let asked = std::time::Instant::now();
    server.terminate();
    // The grace, then the queue's own (up to 5 s for rows in flight) and the database's: slow
    // on a loaded machine, but bounded; before, the stream held the process for good.
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), server.child.wait())
        .await
        .expect("the server stops within the grace and its clean-up, not never")
        .expect("exit status");
    assert!(status.success(), "{status}");
    assert!(
        asked.elapsed() >= std::time::Duration::from_millis(900),
        "the grace was waited"
    );
    drop(events);
}
