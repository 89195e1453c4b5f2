//! Crash safety of the durable queue: the real server binary is killed with SIGKILL three times
//! in the middle of a 2,000-row batch against the mock LLM and restarted on the same data
//! directory; every row must end with exactly one result, and the only cost of a crash may be
//! re-running the rows that were in flight when it happened.
//!
//! Set `ROWBENCH_CRASH_SEED` to replay the kill times of an earlier run (the seed is printed).

#![cfg(unix)]

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rowbench_mock_llm::{MockConfig, MockServer};
use serde_json::Value;

use crate::helpers::{ServerProcess, mock_providers_file};

const ROWS: usize = 2_000;
const CONCURRENCY: u64 = 8;
const CRASHES: usize = 3;
/// Short, so rows held by a killed server are claimed again soon after the restart.
const LEASE_MS: &str = "1500";

/// SplitMix64: a seeded generator is all the test needs, and it keeps `fastrand` (or `rand`) out
/// of the server's dev-dependencies.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration drawn uniformly from `low..=high`.
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let low_ms = u64::try_from(low.as_millis()).expect("small");
        let high_ms = u64::try_from(high.as_millis()).expect("small");
        Duration::from_millis(low_ms + self.next() % (high_ms - low_ms + 1))
    }
}

fn seed() -> u64 {
    match std::env::var("ROWBENCH_CRASH_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .expect("ROWBENCH_CRASH_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::from(elapsed.subsec_nanos()) ^ elapsed.as_secs()
            }),
    }
}

/// One run of the server binary; killed (SIGKILL) when dropped, so a failing test leaves
/// nothing behind.
struct Server(ServerProcess);

impl std::ops::Deref for Server {
    type Target = ServerProcess;

    fn deref(&self) -> &ServerProcess {
        &self.0
    }
}

impl Server {
    async fn start(data_dir: &Path, providers_file: &Path, run: usize) -> Server {
        let providers = providers_file.display().to_string();
        let envs = [
            ("ROWBENCH_PROVIDERS_FILE", providers.as_str()),
            ("ROWBENCH_LEASE_MS", LEASE_MS),
        ];
        Server(ServerProcess::start(data_dir, &envs, &format!("server run {run}")).await)
    }

    /// SIGKILL: no graceful shutdown, no rows handed back; only the leases bring them back.
    async fn kill(self) {
        let status = self.0.kill().await;
        assert!(!status.success(), "killed, not exited: {status}");
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.expect("answered");
    assert_eq!(response.status().as_u16(), 200, "status of GET {url}");
    response.json().await.expect("JSON body")
}

/// Extra calls per prompt between two snapshots of the mock's `calls_per_prompt`: calls for a
/// prompt already answered before, and every call after the first for a new one.
fn duplicates_between(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> u64 {
    after
        .iter()
        .map(
            |(prompt, &calls)| match before.get(prompt).copied().unwrap_or(0) {
                0 => calls.saturating_sub(1),
                seen => calls - seen,
            },
        )
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_three_times_mid_run_finishes_every_row_once_repeating_only_rows_in_flight()
{
    let seed = seed();
    println!("crash test seed: {seed} (replay with ROWBENCH_CRASH_SEED={seed})");
    let mut rng = SplitMix(seed);
    let started = Instant::now();

    let mock = MockServer::start(MockConfig {
        latency_ms: 20,
        ..MockConfig::default()
    })
    .await
    .expect("the mock LLM starts");
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().join("data");
    let providers = mock_providers_file(dir.path(), &mock);
    let client = reqwest::Client::new();

    let mut server = Server::start(&data_dir, &providers, 0).await;
    let id = server.start_mock_batch(&client, ROWS, CONCURRENCY).await;

    let mut snapshots = Vec::new();
    for crash in 1..=CRASHES {
        tokio::time::sleep(rng.between(Duration::from_millis(300), Duration::from_millis(1_500)))
            .await;
        let state = get_json(&client, &format!("{}/api/batches/{id}", server.url)).await;
        assert_eq!(
            state["status"], "running",
            "the batch must still be running when crash {crash} comes: {state}"
        );
        server.kill().await;
        // Taken once the process is gone, so every call it made is counted before the crash.
        let calls = mock.stats().calls_per_prompt;
        println!(
            "crash {crash}: killed with {} rows done, {} distinct rows called",
            state["done_rows"],
            calls.len()
        );
        snapshots.push(calls);
        server = Server::start(&data_dir, &providers, crash).await;
    }

    let finished = loop {
        let state = get_json(&client, &format!("{}/api/batches/{id}", server.url)).await;
        if state["status"] == "completed" {
            break state;
        }
        assert!(
            started.elapsed() < Duration::from_secs(55),
            "the batch did not complete after the restarts: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished["counts"]["succeeded"], ROWS, "{finished}");
    assert_eq!(finished["done_rows"], ROWS, "counted once each: {finished}");
    assert_eq!(finished["failed_rows"], 0, "{finished}");

    // Page through every row: each index exactly once, succeeded, with its answer.
    let mut seen = vec![0_u32; ROWS];
    let mut after: Option<i64> = None;
    loop {
        let query = after.map_or(String::new(), |a| format!("&after={a}"));
        let page = get_json(
            &client,
            &format!("{}/api/batches/{id}/rows?limit=1000{query}", server.url),
        )
        .await;
        for row in page["rows"].as_array().expect("rows") {
            let index = usize::try_from(row["row_index"].as_i64().expect("index")).expect("index");
            seen[index] += 1;
            assert_eq!(row["status"], "succeeded", "{row}");
            assert!(row["result"]["label"].is_string(), "{row}");
        }
        match page["next_after"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let lost: Vec<usize> = (0..ROWS).filter(|&i| seen[i] == 0).collect();
    let doubled: Vec<usize> = (0..ROWS).filter(|&i| seen[i] > 1).collect();
    assert!(lost.is_empty(), "rows without a result: {lost:?}");
    assert!(doubled.is_empty(), "rows listed twice: {doubled:?}");

    let stats = mock.stats();
    assert_eq!(
        stats.calls_per_prompt.len(),
        ROWS,
        "every row reached the model"
    );
    let duplicates: u64 = stats.calls_per_prompt.values().map(|calls| calls - 1).sum();
    snapshots.push(stats.calls_per_prompt);
    let before_first = duplicates_between(&HashMap::new(), &snapshots[0]);
    let per_crash: Vec<u64> = snapshots
        .windows(2)
        .map(|pair| duplicates_between(&pair[0], &pair[1]))
        .collect();
    println!(
        "duplicate calls: {duplicates} in all; {before_first} before the first crash, then \
         {per_crash:?} made between crash 1, 2, 3 and the next crash or the end (a row held by a \
         killed server runs again once its lease runs out, which may be after the next crash); \
         {} requests for {ROWS} rows in {:.1} s",
        stats.requests,
        started.elapsed().as_secs_f64()
    );
    println!(
        "the batch's totals count {} calls; the mock answered or was sent {} (calls cut short \
         by a crash are never recorded)",
        finished["totals"]["calls"], stats.requests
    );
    assert_eq!(before_first + per_crash.iter().sum::<u64>(), duplicates);
    assert!(
        duplicates <= CRASHES as u64 * CONCURRENCY,
        "a crash may only repeat the rows in flight: {duplicates} duplicates after {CRASHES} crashes"
    );
    server.kill().await;
}
