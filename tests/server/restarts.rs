//! Disk and restarts: an upload that does not become a dataset (cut off, refused, stalled, or
//! left by a crash) leaves no rows and gives its disk space back, and rows leased by a killed
//! server are claimed again as soon as the next one starts, not once their leases run out.

use rowbench_store::testing;
use std::path::Path;
use std::time::{Duration, Instant};

use rowbench_mock_llm::{MockConfig, MockServer};
use rowbench_store::Database;
use rowbench_store::datasets::{self, StoredRow};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{ServerProcess, TestApp, mock_providers_file, spawn_app_with};

/// How many datasets and dataset rows the server has stored.
async fn stored_counts(app: &TestApp) -> (i64, i64) {
    let db = app.database().await;
    let counts = (
        testing::scalar_i64(&db, "SELECT count(*) FROM datasets", &[]).await,
        testing::scalar_i64(&db, "SELECT count(*) FROM dataset_rows", &[]).await,
    );
    db.close().await;
    counts
}

/// Polls until the server has no dataset and no dataset row left, failing after `within`.
async fn wait_for_nothing_stored(app: &TestApp, within: Duration) {
    let started = Instant::now();
    loop {
        let counts = stored_counts(app).await;
        if counts == (0, 0) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "datasets and rows still stored after {within:?}: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `rows` CSV lines of about 30 bytes after a header.
fn csv_rows(rows: usize) -> String {
    let mut csv = String::from("id,text\n");
    for i in 0..rows {
        csv.push_str(&format!("{i},row number {i} of the file\n"));
    }
    csv
}

/// A raw HTTP/1.1 upload that announces `announced` body bytes and sends `sent` of them: a
/// client that stops half way, which no HTTP client library does on purpose.
async fn start_raw_upload(app: &TestApp, announced: usize, sent: &[u8]) -> TcpStream {
    start_raw_upload_as(app, "text/csv", announced, sent).await
}

/// [`start_raw_upload`] with another content type.
async fn start_raw_upload_as(
    app: &TestApp,
    content_type: &str,
    announced: usize,
    sent: &[u8],
) -> TcpStream {
    let address = app.address.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&address).await.expect("connects");
    let head = format!(
        "POST /api/datasets?filename=half.csv HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {announced}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream.write_all(sent).await.expect("part of the body sent");
    stream.flush().await.expect("flushed");
    stream
}

/// The database file and its write-ahead log, in bytes.
/// The server's database in its data directory, whatever engine the run uses: for the tests
/// that measure its file.
fn on_sqlite(config: &mut rowbench::Config) {
    config.database_url = format!("sqlite://{}", config.data_dir.join("rowbench.db").display());
}

fn disk_bytes(app: &TestApp) -> u64 {
    let db = app.config.data_dir.join("rowbench.db");
    let wal = app.config.data_dir.join("rowbench.db-wal");
    [db, wal]
        .iter()
        .map(|path| std::fs::metadata(path).map_or(0, |m| m.len()))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_client_goes_away_mid_body_leaves_no_dataset_no_rows_and_no_space_taken() {
    // The space of SQLite's file (PostgreSQL's autovacuum gives space back on its own).
    let app = spawn_app_with(on_sqlite).await;
    let before = disk_bytes(&app);
    let body = csv_rows(400_000);
    // Half the file: several batches of rows are stored before the client goes.
    let half = &body.as_bytes()[..body.len() / 2];
    let stream = start_raw_upload(&app, body.len(), half).await;
    let started = Instant::now();
    while stored_counts(&app).await.1 == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no rows were stored"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Until more than 3 MiB of the rows are stored.
    while disk_bytes(&app) < before + (3 << 20) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the rows never took 3 MiB"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(stream);
    wait_for_nothing_stored(&app, Duration::from_secs(5)).await;
    // Generous: with other tests writing too, the disk may be slow to sync.
    let started = Instant::now();
    while disk_bytes(&app) > before + (1 << 20) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the database and its log took {before} bytes before the upload and still {} \
             after it was cut off",
            disk_bytes(&app)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_too_large_upload_gives_its_disk_space_back() {
    const LIMIT: usize = 12 << 20;
    let app = spawn_app_with(|c| {
        on_sqlite(c);
        c.limits.max_bytes = LIMIT as u64;
    })
    .await;
    let before = disk_bytes(&app);
    // Just over the limit, so the server refuses it once 12 MiB of rows are stored; the rest
    // fits in the socket's buffers and the client reads the answer.
    let mut body = csv_rows(LIMIT / 30 + 20_000);
    body.truncate(LIMIT + 64 * 1024);
    let (status, answer) = app.upload_csv("", body).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["error"]["code"], "too_large", "{answer}");
    assert_eq!(stored_counts(&app).await, (0, 0));
    let after = disk_bytes(&app);
    println!("database and log: {before} bytes before a refused 12 MiB upload, {after} after");
    assert!(
        after < before + (1 << 20),
        "the database and its log took {before} bytes before a refused 12 MiB upload and \
         {after} bytes after it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_times_out_with_a_json_error_and_leaves_nothing_behind() {
    let app = spawn_app_with(|c| c.upload_idle = Duration::from_secs(1)).await;
    let body = csv_rows(40_000);
    let mut stream = start_raw_upload(&app, body.len(), &body.as_bytes()[..body.len() / 2]).await;
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers a stalled upload and closes the connection")
        .expect("answer read");
    let waited = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default())
        .expect("a JSON body");
    assert_eq!(json["error"]["code"], "upload_stalled", "{json}");
    assert_eq!(
        json["error"]["details"],
        json!({ "idle_secs": 1 }),
        "{json}"
    );
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert_eq!(stored_counts(&app).await, (0, 0));
}

/// Reads the answer to a stalled upload: its status line and JSON body.
async fn stalled_answer(stream: &mut TcpStream) -> (String, Value) {
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers a stalled upload and closes the connection")
        .expect("answer read");
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).expect("a JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_multipart_upload_times_out_with_a_json_error_and_leaves_nothing_behind() {
    let app = spawn_app_with(|c| c.upload_idle = Duration::from_secs(1)).await;
    let mut part = String::from(
        "--XBOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n",
    );
    part.push_str(&csv_rows(20_000));
    let content_type = "multipart/form-data; boundary=XBOUNDARY";
    let mut stream = start_raw_upload_as(&app, content_type, part.len() * 2, part.as_bytes()).await;
    let (status, json) = stalled_answer(&mut stream).await;
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    assert_eq!(json["error"]["code"], "upload_stalled", "{json}");
    assert_eq!(stored_counts(&app).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_left_loading_by_a_crash_is_removed_at_the_next_start_up() {
    // The database as a server killed mid-upload leaves it: a ready dataset, and one still
    // loading with the rows stored so far.
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("rowbench.db").display());
    let db = Database::connect(&url).await.expect("database opens");
    db.migrate().await.expect("migrations apply");
    let ready = datasets::create_from_cells(&db, "local", "kept", [vec!["a".to_string()]])
        .await
        .expect("ready dataset");
    let loading = datasets::create(&db, "local", "half", "half.csv")
        .await
        .expect("loading dataset");
    let rows: Vec<StoredRow> = (0..5_000)
        .map(|index| StoredRow {
            index,
            line: index + 2,
            cells: vec![format!("row {index}")],
        })
        .collect();
    datasets::insert_rows(&db, loading, &rows)
        .await
        .expect("rows stored");
    db.close().await;

    let app = spawn_app_with(|c| {
        c.data_dir = dir.path().to_path_buf();
        c.database_url = url.clone();
    })
    .await;
    let left: Vec<(i64, i64)> = {
        let db = app.database().await;
        let left = testing::numbers(
            &db,
            "SELECT d.id, (SELECT count(*) FROM dataset_rows r WHERE r.dataset_id = d.id) \
             FROM datasets d ORDER BY d.id",
            &[],
        )
        .await
        .into_iter()
        .map(|row| (row[0].unwrap_or_default(), row[1].unwrap_or_default()))
        .collect();
        db.close().await;
        left
    };
    assert_eq!(left, vec![(ready, 1)], "only the finished dataset is left");
}

/// One run of the server binary on `data_dir`; killed (SIGKILL) when dropped.
struct Server(ServerProcess);

impl Server {
    async fn start(data_dir: &Path, providers_file: &Path, lease_ms: u64) -> Server {
        let providers = providers_file.display().to_string();
        let lease = lease_ms.to_string();
        let envs = [
            ("ROWBENCH_PROVIDERS_FILE", providers.as_str()),
            ("ROWBENCH_LEASE_MS", lease.as_str()),
        ];
        Server(ServerProcess::start(data_dir, &envs, "server").await)
    }

    async fn kill(self) {
        self.0.kill().await;
    }

    async fn get_json(&self, client: &reqwest::Client, path: &str) -> Value {
        let response = client
            .get(format!("{}{path}", self.0.url))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 200, "status of GET {path}");
        response.json().await.expect("JSON body")
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_leased_by_a_killed_server_are_claimed_again_as_soon_as_the_next_one_starts() {
    const LEASE_MS: u64 = 60_000;
    const ROWS: usize = 6;
    const CONCURRENCY: u64 = 3;
    // The model takes 20 s, so the first rows are in flight when the server is killed.
    let mock = MockServer::start(MockConfig {
        latency_ms: 20_000,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().join("data");
    let providers = mock_providers_file(dir.path(), &mock);
    let client = reqwest::Client::new();

    let server = Server::start(&data_dir, &providers, LEASE_MS).await;
    let id = server.0.start_mock_batch(&client, ROWS, CONCURRENCY).await;
    let started = Instant::now();
    while mock.stats().requests < CONCURRENCY {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the rows never reached the model"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let state = server
        .get_json(&client, &format!("/api/batches/{id}"))
        .await;
    assert_eq!(state["counts"]["running"], CONCURRENCY, "{state}");
    server.kill().await;

    // The next run finds three rows leased for almost a minute more.
    mock.set_config(MockConfig::default());
    let server = Server::start(&data_dir, &providers, LEASE_MS).await;
    let restarted = Instant::now();
    let finished = loop {
        let state = server
            .get_json(&client, &format!("/api/batches/{id}"))
            .await;
        if state["status"] == "completed" {
            break state;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "the batch waits for the dead server's leases (60 s): {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = restarted.elapsed();
    assert_eq!(finished["counts"]["succeeded"], ROWS, "{finished}");
    let rows = server
        .get_json(&client, &format!("/api/batches/{id}/rows"))
        .await;
    let attempts: Vec<i64> = rows["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["attempt"].as_i64().expect("attempt"))
        .collect();
    assert_eq!(
        attempts,
        [2, 2, 2, 1, 1, 1],
        "the first rows were claimed again, under a new claim"
    );
    println!("the batch completed {took:?} after the restart (lease: {LEASE_MS} ms)");
    assert!(took < Duration::from_secs(5), "{took:?}");
    server.kill().await;
}
