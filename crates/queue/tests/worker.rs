//! The worker against the mock LLM server: order, faults, refused keys, error policies, stale
//! claims, rate limits and shutdown, each on a fresh database (SQLite, or PostgreSQL when `ROWBENCH_TEST_POSTGRES` names one).

use std::sync::Arc;
use std::time::Duration;

use rowbench_mapping::ColumnMapping;
use rowbench_mock_llm::{FaultRates, MockConfig, MockServer};
use rowbench_providers::{
    BackoffPolicy, Catalog, ModelInfo, ProviderConfig, ProviderKind, RateLimit, StructuredOutput,
};
use rowbench_queue::{Worker, WorkerConfig, WorkerHandle};
use rowbench_recipe::estimate::ModelRates;
use rowbench_recipe::{BatchConfig, ErrorPolicy, PromptDraft, Recipe, RunSettings};
use rowbench_schema::{AnswerValidator, FieldType, ResponseSchema, SchemaField};
use rowbench_store::batches::{self, BatchStatus, BatchSummary, DatasetBatch};
use rowbench_store::datasets;
use rowbench_store::queue::{self, AttemptOutcome, RowDetail, RowStatus};
use rowbench_store::testing::{self, TestPlace};
use rowbench_store::{Database, Engine, Timestamp};
use tokio::sync::Notify;

const OWNER: &str = "alice";
const PROVIDER: &str = "mock";
const MODEL: &str = "mock-model";

/// A fresh database on this run's engine (`ROWBENCH_TEST_POSTGRES` picks PostgreSQL).
async fn database() -> (Database, TestPlace) {
    testing::fresh_database().await
}

async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(config).await.expect("mock server starts")
}

fn catalog(mock: &MockServer, timeout: Duration, rate_limit: RateLimit) -> Arc<Catalog> {
    Arc::new(Catalog {
        providers: vec![ProviderConfig {
            id: PROVIDER.into(),
            label: "Mock".into(),
            kind: ProviderKind::OpenAi,
            base_url: format!("{}/v1", mock.url()),
            api_key: None,
            models: vec![ModelInfo {
                id: MODEL.into(),
                label: "Mock model".into(),
                input_usd_per_mtok: 1.0,
                output_usd_per_mtok: 2.0,
                structured: StructuredOutput::Native,
            }],
            rate_limit,
            timeout,
            connect_timeout: timeout,
        }],
    })
}

fn schema() -> ResponseSchema {
    ResponseSchema {
        fields: vec![
            SchemaField::new(
                "label",
                FieldType::Enum {
                    options: vec!["billing".into(), "shipping".into(), "other".into()],
                },
            ),
            SchemaField::new("urgency", FieldType::Integer),
        ],
    }
}

fn settings(concurrency: u32, error_policy: ErrorPolicy) -> RunSettings {
    RunSettings {
        concurrency,
        error_policy,
        ..RunSettings::new(PROVIDER, MODEL)
    }
}

/// A running batch over a fresh dataset of `rows` one-column rows.
async fn start_batch(db: &Database, rows: i64, settings: RunSettings) -> i64 {
    let cells = (0..rows).map(|i| vec![format!("ticket number {i}")]);
    let dataset = datasets::create_from_cells(db, OWNER, "tickets", cells)
        .await
        .expect("dataset");
    let mapping = ColumnMapping::from_headers(&["text"]);
    let schema = schema();
    let config = BatchConfig {
        recipe: Recipe {
            prompt: PromptDraft::default_for(&mapping),
            mapping,
            schema: schema.clone(),
            settings,
        },
        dataset_name: "tickets".into(),
        columns: vec!["text".into()],
        json_schema: schema.to_json_schema(),
        provider_label: "Mock".into(),
        model_label: "Mock model".into(),
        rates: ModelRates {
            input_usd_per_mtok: 1.0,
            output_usd_per_mtok: 2.0,
            seconds_per_request: 0.1,
        },
    };
    let config = serde_json::to_value(config).expect("config serializes");
    batches::start_over_dataset(
        db,
        DatasetBatch {
            owner: OWNER,
            name: "run",
            dataset_id: dataset,
            first_rows: None,
            config: &config,
        },
    )
    .await
    .expect("query")
    .expect("batch starts")
}

/// Short leases and waits, so the tests spend their time on rows, not on timers.
fn fast() -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(3),
        heartbeat: Duration::from_secs(1),
        poll: Duration::from_millis(50),
        max_in_flight: 64,
        max_calls_per_row: 6,
        backoff: BackoffPolicy {
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
            max_retry_after: Duration::from_millis(100),
        },
        shutdown_grace: Duration::from_secs(2),
    }
}

fn spawn(
    db: &Database,
    catalog: Arc<Catalog>,
    config: WorkerConfig,
) -> (WorkerHandle, Arc<Notify>) {
    let wake = Arc::new(Notify::new());
    let handle = Worker::new(db.clone(), catalog, Arc::clone(&wake), config).spawn();
    (handle, wake)
}

async fn summary(db: &Database, id: i64) -> BatchSummary {
    batches::find(db, OWNER, id)
        .await
        .expect("query")
        .expect("batch exists")
        .summary
}

/// Polls the batch until `done` holds, failing the test after `within`.
async fn wait_for(
    db: &Database,
    id: i64,
    within: Duration,
    done: impl Fn(&BatchSummary) -> bool,
) -> BatchSummary {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = summary(db, id).await;
        if done(&now) {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch did not get there in {within:?}: {now:?}, rows {:?}",
            batches::row_counts(db, id).await
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn detail(db: &Database, id: i64, row_index: i64) -> RowDetail {
    queue::row_detail(db, OWNER, id, row_index)
        .await
        .expect("query")
        .expect("row exists")
}

async fn details(db: &Database, id: i64, rows: i64) -> Vec<RowDetail> {
    let mut all = Vec::new();
    for row_index in 0..rows {
        all.push(detail(db, id, row_index).await);
    }
    all
}

fn validator() -> AnswerValidator {
    AnswerValidator::new(&schema().to_json_schema()).expect("schema compiles")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequential_batch_runs_its_rows_strictly_in_order_and_completes_with_valid_answers() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig {
        latency_ms: 5,
        jitter_ms: 5,
        ..MockConfig::default()
    })
    .await;
    let id = start_batch(&db, 15, settings(1, ErrorPolicy::Continue)).await;
    let (worker, _wake) = spawn(
        &db,
        catalog(&mock, Duration::from_secs(2), RateLimit::default()),
        fast(),
    );

    let done = wait_for(&db, id, Duration::from_secs(20), |b| {
        b.status == BatchStatus::Completed
    })
    .await;
    worker.shutdown().await;

    assert_eq!((done.done_rows, done.failed_rows), (15, 0));
    let rows = details(&db, id, 15).await;
    let validator = validator();
    for row in &rows {
        let result = row.result.as_ref().expect("a succeeded row has a result");
        assert!(
            validator.is_valid(result),
            "row {}: {result}",
            row.row_index
        );
        assert_eq!(row.attempts.len(), 1);
        assert!(row.cost_usd.is_some_and(|c| c > 0.0));
    }
    for pair in rows.windows(2) {
        let finished = pair[0].finished_at.expect("finished");
        let started = pair[1].started_at.expect("started");
        assert!(
            started >= finished,
            "row {} started before row {} finished",
            pair[1].row_index,
            pair[0].row_index
        );
    }
    assert_eq!(mock.stats().requests, 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_mix_of_faults_every_row_ends_succeeded_or_failed_with_a_reason() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig {
        faults: FaultRates {
            server_error: 0.20,
            rate_limited: 0.10,
            hang: 0.05,
            invalid_json: 0.10,
            ..FaultRates::default()
        },
        seed: 7,
        hang_ms: 2_000,
        retry_after_ms: 20,
        ..MockConfig::default()
    })
    .await;
    let rows = 200;
    let id = start_batch(&db, rows, settings(8, ErrorPolicy::Continue)).await;
    let (worker, _wake) = spawn(
        &db,
        catalog(&mock, Duration::from_millis(500), RateLimit::default()),
        fast(),
    );

    let done = wait_for(&db, id, Duration::from_secs(60), |b| {
        b.status == BatchStatus::Completed
    })
    .await;
    worker.shutdown().await;

    assert_eq!(done.done_rows + done.failed_rows, rows);
    let validator = validator();
    let mut outcomes = Vec::new();
    for row in details(&db, id, rows).await {
        match row.status {
            RowStatus::Succeeded => {
                let result = row.result.as_ref().expect("result");
                assert!(
                    validator.is_valid(result),
                    "row {}: {result}",
                    row.row_index
                );
            }
            RowStatus::Failed => {
                assert!(
                    row.error.as_deref().is_some_and(|e| !e.is_empty()),
                    "row {}",
                    row.row_index
                );
            }
            other => panic!("row {} ended {other:?}", row.row_index),
        }
        assert!(
            !row.attempts.is_empty() && row.attempts.len() <= 6,
            "row {}: {} calls",
            row.row_index,
            row.attempts.len()
        );
        for call in &row.attempts {
            assert!(call.request.is_some(), "the request is kept");
            if call.outcome != AttemptOutcome::Ok {
                assert!(call.error.is_some(), "a failed call says why");
            }
        }
        outcomes.extend(row.attempts.iter().map(|call| call.outcome));
    }
    let count = |outcome| outcomes.iter().filter(|o| **o == outcome).count();
    assert!(count(AttemptOutcome::Retryable) > 20, "{outcomes:?}");
    assert!(count(AttemptOutcome::Invalid) > 5, "{outcomes:?}");
    let stats = mock.stats();
    assert!(
        stats.server_errors > 0
            && stats.rate_limited > 0
            && stats.hangs > 0
            && stats.invalid_json > 0
    );
    let totals = queue::totals(&db, id).await.expect("totals");
    assert_eq!(totals.calls, outcomes.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_pauses_the_batch_without_failing_rows_and_resuming_finishes_it() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig {
        faults: FaultRates {
            unauthorized: 1.0,
            ..FaultRates::default()
        },
        ..MockConfig::default()
    })
    .await;
    let id = start_batch(&db, 6, settings(2, ErrorPolicy::StopOnFirst)).await;
    let (worker, wake) = spawn(
        &db,
        catalog(&mock, Duration::from_secs(2), RateLimit::default()),
        fast(),
    );

    let paused = wait_for(&db, id, Duration::from_secs(10), |b| {
        b.status == BatchStatus::Paused
    })
    .await;
    assert_eq!(paused.failed_rows, 0);
    let reason = queue::totals(&db, id)
        .await
        .expect("totals")
        .pause_reason
        .expect("a reason");
    assert!(
        reason.starts_with("The provider refused the API key (HTTP 401)"),
        "{reason}"
    );
    assert!(
        reason.ends_with("Fix the key in the server configuration, then resume."),
        "{reason}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while batches::row_counts(&db, id).await.expect("counts").queued < 6 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "rows went back to the queue"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    mock.set_config(MockConfig::default());
    assert!(queue::resume(&db, OWNER, id).await.expect("resume"));
    wake.notify_one();
    let done = wait_for(&db, id, Duration::from_secs(10), |b| {
        b.status == BatchStatus::Completed
    })
    .await;
    worker.shutdown().await;
    assert_eq!((done.done_rows, done.failed_rows), (6, 0));
    let first = detail(&db, id, 0).await;
    assert_eq!(first.attempts[0].outcome, AttemptOutcome::Auth);
    assert_eq!(first.attempts[0].http_status, Some(401));
    assert_eq!(
        first.attempts.last().map(|a| a.outcome),
        Some(AttemptOutcome::Ok)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_after_n_errors_pauses_the_batch_once_n_rows_failed() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig {
        faults: FaultRates {
            schema_violation: 1.0,
            ..FaultRates::default()
        },
        ..MockConfig::default()
    })
    .await;
    let id = start_batch(&db, 10, settings(1, ErrorPolicy::StopAfter { errors: 2 })).await;
    let (worker, _wake) = spawn(
        &db,
        catalog(&mock, Duration::from_secs(2), RateLimit::default()),
        fast(),
    );

    let paused = wait_for(&db, id, Duration::from_secs(10), |b| {
        b.status == BatchStatus::Paused
    })
    .await;
    // The pause lands right after the second failure; give a stray claim time to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;

    assert_eq!((paused.done_rows, paused.failed_rows), (0, 2));
    assert_eq!(
        queue::totals(&db, id)
            .await
            .expect("totals")
            .pause_reason
            .as_deref(),
        Some("Paused after 2 failed rows (error policy).")
    );
    let counts = batches::row_counts(&db, id).await.expect("counts");
    assert_eq!((counts.failed, counts.queued), (2, 8));
    for row_index in 0..2 {
        let row = detail(&db, id, row_index).await;
        let error = row.error.expect("a reason");
        assert!(
            error.starts_with("The answer does not match the schema"),
            "{error}"
        );
        let outcomes: Vec<AttemptOutcome> = row.attempts.iter().map(|a| a.outcome).collect();
        assert_eq!(
            outcomes,
            [AttemptOutcome::Invalid, AttemptOutcome::Invalid],
            "one repair, then give up"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_lease_expired_cannot_overwrite_the_newer_claims_result() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig {
        latency_ms: 1_500,
        ..MockConfig::default()
    })
    .await;
    let id = start_batch(&db, 1, settings(1, ErrorPolicy::Continue)).await;
    // A worker whose heartbeat is far too slow for its lease: its slow call outlives its claim.
    let stalled = WorkerConfig {
        lease: Duration::from_millis(300),
        heartbeat: Duration::from_secs(60),
        ..fast()
    };
    let (worker, _wake) = spawn(
        &db,
        catalog(&mock, Duration::from_secs(5), RateLimit::default()),
        stalled,
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while mock.stats().requests < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first call arrives"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The claim made after the lease runs out gets a fast answer.
    mock.set_config(MockConfig::default());

    let done = wait_for(&db, id, Duration::from_secs(5), |b| {
        b.status == BatchStatus::Completed
    })
    .await;
    let newer = detail(&db, id, 0).await;
    assert_eq!(newer.attempt, 2, "the row was claimed a second time");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !detail(&db, id, 0)
        .await
        .attempts
        .iter()
        .any(|a| a.claim == 1)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stale call returns"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Room for the stale claim's write to be tried (and refused).
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;

    let after = detail(&db, id, 0).await;
    assert_eq!(after.finished_at, newer.finished_at);
    assert_eq!(after.result, newer.result);
    assert_eq!(after.attempt, 2);
    let stale = after
        .attempts
        .iter()
        .find(|a| a.claim == 1)
        .expect("stale call recorded");
    assert_eq!(
        stale.outcome,
        AttemptOutcome::Ok,
        "the stale call itself succeeded"
    );
    assert!(stale.started_at < after.finished_at.unwrap_or(Timestamp(0)));
    let summary = summary(&db, id).await;
    assert_eq!(
        (done.done_rows, summary.done_rows, summary.failed_rows),
        (1, 1, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_the_store_refuses_does_not_cost_the_rows_written_with_it_their_answers() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig {
        latency_ms: 20,
        ..MockConfig::default()
    })
    .await;
    let id = start_batch(&db, 24, settings(8, ErrorPolicy::Continue)).await;
    // Row 3's result is refused in whichever group of finished rows it comes.
    match db.engine() {
        Engine::Sqlite => {
            testing::execute(
                &db,
                "CREATE TRIGGER refuse_row_3 BEFORE UPDATE OF status ON batch_rows \
                 WHEN NEW.row_index = 3 AND NEW.status IN ('succeeded', 'failed') \
                 BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
                &[],
            )
            .await;
        }
        Engine::Postgres => {
            testing::execute(
                &db,
                "CREATE FUNCTION refuse_row_3() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'refused for the test'; END $$",
                &[],
            )
            .await;
            testing::execute(
                &db,
                "CREATE TRIGGER refuse_row_3 BEFORE UPDATE OF status ON batch_rows FOR EACH ROW \
                 WHEN (NEW.row_index = 3 AND NEW.status IN ('succeeded', 'failed')) \
                 EXECUTE FUNCTION refuse_row_3()",
                &[],
            )
            .await;
        }
    }
    let (worker, _wake) = spawn(
        &db,
        catalog(&mock, Duration::from_secs(5), RateLimit::default()),
        fast(),
    );
    wait_for(&db, id, Duration::from_secs(20), |b| b.done_rows == 23).await;
    worker.shutdown().await;

    let rows = details(&db, id, 24).await;
    for row in rows.iter().filter(|r| r.row_index != 3) {
        assert_eq!(
            (row.status, row.attempt, row.attempts.len()),
            (RowStatus::Succeeded, 1, 1),
            "row {} was answered by its first call",
            row.row_index
        );
    }
    assert_ne!(rows[3].status, RowStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_limited_to_600_requests_a_minute_gets_ten_a_second() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig::default()).await;
    let rows = 50;
    let id = start_batch(&db, rows, settings(16, ErrorPolicy::Continue)).await;
    let limit = RateLimit {
        requests_per_minute: Some(600),
        tokens_per_minute: None,
    };
    let (worker, _wake) = spawn(&db, catalog(&mock, Duration::from_secs(2), limit), fast());

    wait_for(&db, id, Duration::from_secs(20), |b| {
        b.status == BatchStatus::Completed
    })
    .await;
    worker.shutdown().await;

    let mut times = mock.stats().request_times_ms;
    times.sort_unstable();
    assert_eq!(times.len(), rows as usize);
    let span_ms = (times[times.len() - 1] - times[0]) as f64;
    let per_second = (times.len() - 1) as f64 * 1_000.0 / span_ms;
    assert!(
        (9.0..=11.0).contains(&per_second),
        "{per_second:.2} requests a second"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_a_batch_whose_provider_is_not_configured_fail_saying_so() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig::default()).await;
    let id = start_batch(
        &db,
        3,
        RunSettings {
            concurrency: 3,
            ..RunSettings::new("gone", MODEL)
        },
    )
    .await;
    let (worker, _wake) = spawn(
        &db,
        catalog(&mock, Duration::from_secs(2), RateLimit::default()),
        fast(),
    );

    let done = wait_for(&db, id, Duration::from_secs(10), |b| {
        b.status == BatchStatus::Completed
    })
    .await;
    worker.shutdown().await;
    assert_eq!(done.failed_rows, 3);
    let error = detail(&db, id, 0).await.error.expect("a reason");
    assert!(error.contains("`gone` is not configured"), "{error}");
    assert_eq!(mock.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_puts_rows_still_in_flight_after_the_grace_back_in_the_queue() {
    let (db, _dir) = database().await;
    let mock = mock(MockConfig {
        latency_ms: 10_000,
        ..MockConfig::default()
    })
    .await;
    let id = start_batch(&db, 3, settings(2, ErrorPolicy::Continue)).await;
    let config = WorkerConfig {
        shutdown_grace: Duration::from_millis(200),
        ..fast()
    };
    let (worker, _wake) = spawn(
        &db,
        catalog(&mock, Duration::from_secs(30), RateLimit::default()),
        config,
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while mock.stats().requests < 2 {
        assert!(tokio::time::Instant::now() < deadline, "two calls arrive");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = tokio::time::Instant::now();
    worker.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let counts = batches::row_counts(&db, id).await.expect("counts");
    assert_eq!((counts.queued, counts.running), (3, 0));
    assert_eq!(summary(&db, id).await.status, BatchStatus::Running);
}
