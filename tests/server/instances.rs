//! Several server processes on one PostgreSQL database, as a team runs Rowbench behind one
//! address: a crash of one instance mid-batch, a sequential batch over three instances, one rate
//! budget for all of them (a provider's Retry-After included), live progress on an instance that
//! is not doing the work, and a graceful stop that hands its rows to the others at once.
//!
//! These need PostgreSQL: `.ci/test` runs them in its PostgreSQL pass (`ROWBENCH_TEST_POSTGRES`).
//! On SQLite one process serves a database, so there they return at once.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rowbench_mock_llm::{MockConfig, MockServer};
use rowbench_store::testing::{self, TestPlace};
use rowbench_store::{Database, Engine};
use serde_json::Value;

use crate::helpers::ServerProcess;

/// Short, so the rows of a killed instance that did not restart would come back soon.
const LEASE_MS: &str = "1500";

/// A PostgreSQL database of its own and a directory for the instances' files; `None` on SQLite.
async fn cluster() -> Option<(TestPlace, Database)> {
    if testing::engine() != Engine::Postgres {
        return None;
    }
    let (db, place) = testing::fresh_database().await;
    Some((place, db))
}

/// A providers file with the mock as provider `mock`, limited to `rpm` requests a minute.
fn providers_file(dir: &Path, mock: &MockServer, rpm: Option<u32>) -> PathBuf {
    let path = dir.join(format!("providers-{}.toml", rpm.unwrap_or(0)));
    let limit = rpm.map_or(String::new(), |rpm| {
        format!("[providers.rate_limit]\nrequests_per_minute = {rpm}\n\n")
    });
    let text = format!(
        "[[providers]]\nid = \"mock\"\nkind = \"openai\"\nbase_url = \"{}/v1\"\ntimeout_secs = 30\n\n\
         {limit}[[providers.models]]\nid = \"mock-model\"\ninput_usd_per_mtok = 0\noutput_usd_per_mtok = 0\n",
        mock.url()
    );
    std::fs::write(&path, text).expect("providers file written");
    path
}

/// Instance `name` of the server on the cluster's database, its files in a directory of its own.
async fn instance(place: &TestPlace, providers: &Path, name: &str) -> ServerProcess {
    instance_with_lease(place, providers, name, LEASE_MS).await
}

/// Instances `a`, `b` and `c`.
async fn three_instances(place: &TestPlace, providers: &Path) -> [ServerProcess; 3] {
    [
        instance(place, providers, "a").await,
        instance(place, providers, "b").await,
        instance(place, providers, "c").await,
    ]
}

/// As [`instance`], holding its rows under leases of `lease_ms`.
async fn instance_with_lease(
    place: &TestPlace,
    providers: &Path,
    name: &str,
    lease_ms: &str,
) -> ServerProcess {
    let dir = place.dir().expect("a directory").join(name);
    std::fs::create_dir_all(&dir).expect("instance directory");
    let providers = providers.display().to_string();
    let envs = [
        ("DATABASE_URL", place.url.as_str()),
        ("ROWBENCH_INSTANCE", name),
        ("ROWBENCH_PROVIDERS_FILE", providers.as_str()),
        ("ROWBENCH_LEASE_MS", lease_ms),
    ];
    ServerProcess::start(&dir, &envs, &format!("instance {name}")).await
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.expect("answered");
    assert_eq!(response.status().as_u16(), 200, "status of GET {url}");
    response.json().await.expect("JSON body")
}

/// Polls batch `id` on `server` until it completed, failing after `within`.
async fn wait_completed(server: &ServerProcess, id: i64, within: Duration) -> Value {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let batch = get_json(&client, &format!("{}/api/batches/{id}", server.url)).await;
        if batch["status"] == "completed" {
            return batch;
        }
        assert!(
            started.elapsed() < within,
            "batch {id} did not complete: {batch}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rows of batch `id` still leased by instance `name` (running under its name).
async fn leased_by(db: &Database, id: i64, name: &str) -> i64 {
    // The name is a test constant of one letter; binding text is not what the helper does.
    let sql = format!(
        "SELECT COUNT(*) FROM batch_rows WHERE batch_id = $1 AND status = 'running' \
         AND leased_by = '{name}'"
    );
    testing::scalar_i64(db, &sql, &[id]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_finish_a_batch_once_each_row_while_one_is_killed_and_restarted_three_times()
 {
    let Some((place, db)) = cluster().await else {
        return;
    };
    const ROWS: usize = 5_000;
    const CONCURRENCY: u64 = 24;
    let started = Instant::now();
    let mock = MockServer::start(MockConfig {
        latency_ms: 20,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    let providers = providers_file(place.dir().expect("dir"), &mock, None);
    let mut a = instance(&place, &providers, "a").await;
    let b = instance(&place, &providers, "b").await;
    let c = instance(&place, &providers, "c").await;
    let client = reqwest::Client::new();
    let id = b.start_mock_batch(&client, ROWS, CONCURRENCY).await;

    let mut held_at_crash = Vec::new();
    for (crash, wait_ms) in [(1, 700), (2, 1_100), (3, 900)] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        let state = get_json(&client, &format!("{}/api/batches/{id}", c.url)).await;
        assert_eq!(
            state["status"], "running",
            "crash {crash} comes mid-batch: {state}"
        );
        let status = a.kill().await;
        assert!(!status.success(), "killed, not exited: {status}");
        // a is gone: what is still leased under its name is what it held when it died.
        let held = leased_by(&db, id, "a").await;
        println!(
            "crash {crash}: a killed holding {held} rows, {} rows done",
            state["done_rows"]
        );
        held_at_crash.push(held);
        a = instance(&place, &providers, "a").await;
    }

    let finished = wait_completed(&c, id, Duration::from_secs(90)).await;
    assert_eq!(finished["done_rows"], ROWS, "{finished}");
    assert_eq!(finished["failed_rows"], 0, "{finished}");
    let results = testing::scalar_i64(
        &db,
        "SELECT COUNT(*) FROM batch_rows WHERE batch_id = $1 AND status = 'succeeded' \
         AND result IS NOT NULL",
        &[id],
    )
    .await;
    assert_eq!(results, ROWS as i64, "every row has its one result");

    let stats = mock.stats();
    assert_eq!(
        stats.calls_per_prompt.len(),
        ROWS,
        "every row reached the model"
    );
    let duplicates: u64 = stats.calls_per_prompt.values().map(|calls| calls - 1).sum();
    let held: i64 = held_at_crash.iter().sum();
    let workers = testing::numbers(
        &db,
        "SELECT COUNT(DISTINCT leased_by) FROM batch_rows WHERE batch_id = $1",
        &[id],
    )
    .await;
    println!(
        "{ROWS} rows over 3 instances in {:.1} s: {duplicates} duplicate calls, the killed \
         instance held {held_at_crash:?} rows at its crashes; rows last run by {:?} instances",
        started.elapsed().as_secs_f64(),
        workers[0][0]
    );
    assert!(
        duplicates <= u64::try_from(held).unwrap_or(0),
        "a crash repeats at most the rows the killed instance had in flight: {duplicates} \
         duplicates, {held} rows held"
    );
    drop((a, b, c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_at_concurrency_one_over_three_instances_never_has_two_rows_in_flight() {
    let Some((place, db)) = cluster().await else {
        return;
    };
    const ROWS: usize = 40;
    let mock = MockServer::start(MockConfig {
        latency_ms: 15,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    let providers = providers_file(place.dir().expect("dir"), &mock, None);
    let servers = three_instances(&place, &providers).await;
    let client = reqwest::Client::new();
    let id = servers[0].start_mock_batch(&client, ROWS, 1).await;
    wait_completed(&servers[2], id, Duration::from_secs(60)).await;

    assert_eq!(
        mock.stats().max_in_flight,
        1,
        "the model saw one call at a time"
    );
    let times = testing::numbers(
        &db,
        "SELECT started_at, finished_at FROM batch_rows WHERE batch_id = $1 ORDER BY started_at",
        &[id],
    )
    .await;
    assert_eq!(times.len(), ROWS);
    for pair in times.windows(2) {
        let (finished, next_started) = (pair[0][1], pair[1][0]);
        assert!(
            next_started >= finished,
            "a row started before the previous one finished: {pair:?}"
        );
    }
    let by = testing::texts(
        &db,
        "SELECT leased_by FROM batch_rows WHERE batch_id = $1 ORDER BY row_index",
        &[id],
    )
    .await;
    let mut names: Vec<String> = by.into_iter().flatten().collect();
    names.dedup();
    println!(
        "runs of rows by one instance, in row order: {}",
        names.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_one_rate_budget_per_provider() {
    let Some((place, _db)) = cluster().await else {
        return;
    };
    const RPM: u32 = 600;
    let mock = MockServer::start(MockConfig {
        latency_ms: 5,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    let providers = providers_file(place.dir().expect("dir"), &mock, Some(RPM));
    let servers = three_instances(&place, &providers).await;
    let client = reqwest::Client::new();
    // Far more rows than the budget lets through in the window, and slots on every instance.
    let id = servers[0].start_mock_batch(&client, 400, 30).await;
    // Long enough that calls a loaded machine delayed across its edges move the rate by little.
    let window = Duration::from_secs(10);
    // Timed from the first call, not from the start: on a loaded machine the first claim can
    // come late, and a window that ran past the cancel would count calls that were never let go.
    let waited = tokio::time::Instant::now();
    while mock.stats().request_times_ms.is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "no call reached the mock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_secs(1) + window + Duration::from_millis(500)).await;
    let response = client
        .post(format!("{}/api/batches/{id}/cancel", servers[1].url))
        .send()
        .await
        .expect("answered");
    assert!(
        response.status().is_success(),
        "cancel: {}",
        response.status()
    );

    let times = mock.stats().request_times_ms;
    let first = *times.first().expect("calls were made");
    // From one second after the first call, so start-up effects are outside the window.
    let from = first + 1_000;
    let to = from + u64::try_from(window.as_millis()).expect("small");
    let in_window = times.iter().filter(|&&t| t >= from && t < to).count();
    let per_minute = in_window as f64 * 60.0 / window.as_secs_f64();
    println!(
        "{in_window} calls in {window:?} from 3 instances: {per_minute:.0} per minute (limit {RPM})"
    );
    assert!(
        (540.0..=660.0).contains(&per_minute),
        "three instances together keep to {RPM} requests a minute: measured {per_minute:.0}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_that_one_instance_got_holds_every_instance_back() {
    let Some((place, db)) = cluster().await else {
        return;
    };
    const HOLD_MS: u64 = 3_000;
    // Instances read the shared hold-off at most every 200 ms; calls already on their way when
    // the 429 went out arrive a little later still.
    const SLACK_MS: u64 = 700;
    let mock = MockServer::start(MockConfig {
        latency_ms: 50,
        retry_after_ms: HOLD_MS,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    // No rate limit of its own: only the provider's refusal holds calls back.
    let providers = providers_file(place.dir().expect("dir"), &mock, None);
    let servers = three_instances(&place, &providers).await;
    let client = reqwest::Client::new();
    let id = servers[0].start_mock_batch(&client, 5_000, 30).await;
    // Every instance has rows in flight, so whichever gets the 429, two others were calling.
    let waited = Instant::now();
    loop {
        let mut working = 0;
        for name in ["a", "b", "c"] {
            if leased_by(&db, id, name).await > 0 {
                working += 1;
            }
        }
        if working == 3 {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "all three instances work the batch"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    mock.rate_limit_next(1);
    let refused = loop {
        if let Some(&at) = mock.stats().rate_limited_times_ms.first() {
            break at;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(40),
            "a call was refused"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    tokio::time::sleep(Duration::from_millis(HOLD_MS + 1_500)).await;
    let stats = mock.stats();
    assert_eq!(stats.rate_limited, 1, "one call was refused");
    let arrived = |from: u64, to: u64| {
        stats
            .request_times_ms
            .iter()
            .filter(|&&t| t >= from && t < to)
            .count()
    };
    let before = arrived(refused.saturating_sub(1_000), refused);
    let held = arrived(refused + SLACK_MS, refused + HOLD_MS - 50);
    let resumed = arrived(refused + HOLD_MS, refused + HOLD_MS + 1_000);
    println!(
        "calls: {before} in the second before the 429, {held} while held back, {resumed} in the second after"
    );
    // Even on a loaded machine a few calls a second: enough that a hold-off kept by one instance
    // alone would have let several through the window.
    assert!(before >= 5, "the instances were calling: {before}");
    assert_eq!(
        held, 0,
        "no instance calls the provider between {SLACK_MS} ms after its 429 and the end of its Retry-After"
    );
    assert!(resumed >= 5, "calls resume once it has passed: {resumed}");
    let response = client
        .post(format!("{}/api/batches/{id}/cancel", servers[2].url))
        .send()
        .await
        .expect("answered");
    assert!(
        response.status().is_success(),
        "cancel: {}",
        response.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_streams_the_progress_of_rows_another_instance_finished() {
    let Some((place, db)) = cluster().await else {
        return;
    };
    const ROWS: usize = 60;
    // Three seconds of work at concurrency 2: b starts and opens its stream well within it.
    let mock = MockServer::start(MockConfig {
        latency_ms: 100,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    let providers = providers_file(place.dir().expect("dir"), &mock, None);
    let a = instance(&place, &providers, "a").await;
    let client = reqwest::Client::new();
    let id = a.start_mock_batch(&client, ROWS, 2).await;
    // b starts once a works the batch: an instance claims again the slots its own results free,
    // so had b been first, a might never have had a row.
    let waited = Instant::now();
    while leased_by(&db, id, "a").await == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "a claims a row of its batch"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let b = instance(&place, &providers, "b").await;

    // b's event stream, read until the server closes it at the end of the batch.
    let response = client
        .get(format!("{}/api/batches/{id}/events", b.url))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
    })
    .await;
    assert!(read.is_ok(), "the stream ended with the batch");
    let done: Vec<i64> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .filter_map(|event| event["done_rows"].as_i64())
        .collect();
    assert!(
        done.len() >= 3,
        "the stream moved while the batch ran: {done:?}"
    );
    assert!(done.is_sorted(), "{done:?}");
    assert_eq!(done.last().copied(), Some(ROWS as i64), "{done:?}");
    let by_a = testing::scalar_i64(
        &db,
        "SELECT COUNT(*) FROM batch_rows WHERE batch_id = $1 AND leased_by = 'a'",
        &[id],
    )
    .await;
    println!("a ran {by_a} of {ROWS} rows; b's stream showed all of them");
    assert!(by_a > 0, "a did part of the work b's stream showed");
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_stopped_gracefully_hands_its_rows_back_at_once_for_the_others() {
    let Some((place, db)) = cluster().await else {
        return;
    };
    const ROWS: usize = 2_000;
    let mock = MockServer::start(MockConfig {
        latency_ms: 50,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    let providers = providers_file(place.dir().expect("dir"), &mock, None);
    // Leases of a minute: were a's rows left to their leases, the batch would stand still.
    let mut a = instance_with_lease(&place, &providers, "a", "60000").await;
    let b = instance_with_lease(&place, &providers, "b", "60000").await;
    let client = reqwest::Client::new();
    let id = a.start_mock_batch(&client, ROWS, 16).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let stopping = Instant::now();
    a.terminate();
    let status = a.child.wait().await.expect("a exits");
    assert!(status.success(), "a stopped cleanly: {status}");
    println!("a stopped in {:.2} s", stopping.elapsed().as_secs_f64());
    assert_eq!(
        leased_by(&db, id, "a").await,
        0,
        "a holds no row once it is gone"
    );
    // Well within a's one-minute leases: b took its rows at once.
    let finished = wait_completed(&b, id, Duration::from_secs(40)).await;
    assert_eq!(finished["done_rows"], ROWS, "{finished}");
    drop(b);
}
