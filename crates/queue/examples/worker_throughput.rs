//! Times the worker alone against the mock LLM (on its own runtime thread, as a separate server
//! would be): a fresh SQLite database, one batch, and rows/s with the spread of the gaps between
//! consecutive rows. The whole-server figure is `bash .ci/bench-queue`; this one isolates the
//! queue's own cost. Usage:
//! `cargo run --release -p rowbench-queue --example worker_throughput -- [ROWS] [CONCURRENCY] [LATENCY_MS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use rowbench_mapping::ColumnMapping;
use rowbench_mock_llm::{MockConfig, MockServer};
use rowbench_providers::{
    Catalog, ModelInfo, ProviderConfig, ProviderKind, RateLimit, StructuredOutput,
};
use rowbench_queue::{Worker, WorkerConfig};
use rowbench_recipe::estimate::ModelRates;
use rowbench_recipe::{BatchConfig, PromptDraft, Recipe, RunSettings};
use rowbench_schema::{FieldType, ResponseSchema, SchemaField};
use rowbench_store::batches::{self, BatchStatus, DatasetBatch};
use rowbench_store::datasets;
use rowbench_store::{Database, queue};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .map(|a| a.parse().expect("a whole number"))
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let rows = arg(1, 3000) as i64;
    let concurrency = arg(2, 1) as u32;
    let latency_ms = arg(3, 0);

    let (url_tx, url_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let mock = MockServer::start(MockConfig {
                latency_ms,
                ..MockConfig::default()
            })
            .await
            .expect("mock starts");
            url_tx.send(mock.url()).expect("send");
            std::future::pending::<()>().await;
        });
    });
    let mock_url = url_rx.recv().expect("mock url");

    let dir = tempfile::tempdir().expect("temporary directory");
    let db = Database::connect(&format!("sqlite://{}", dir.path().join("q.db").display()))
        .await
        .expect("database");
    db.migrate().await.expect("migrations");
    let catalog = Arc::new(Catalog {
        providers: vec![ProviderConfig {
            id: "mock".into(),
            label: "Mock".into(),
            kind: ProviderKind::OpenAi,
            base_url: format!("{mock_url}/v1"),
            api_key: None,
            models: vec![ModelInfo {
                id: "m".into(),
                label: "M".into(),
                input_usd_per_mtok: 0.0,
                output_usd_per_mtok: 0.0,
                structured: StructuredOutput::Native,
            }],
            rate_limit: RateLimit::default(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
        }],
    });

    let cells = (0..rows).map(|i| vec![i.to_string(), format!("item number {i}")]);
    let dataset = datasets::create_from_cells(&db, "bench", "items", cells)
        .await
        .expect("dataset");
    let mapping = ColumnMapping::from_headers(&["id", "text"]);
    let schema = ResponseSchema {
        fields: vec![SchemaField::new("label", FieldType::String)],
    };
    let config = BatchConfig {
        recipe: Recipe {
            prompt: PromptDraft::default_for(&mapping),
            mapping,
            schema: schema.clone(),
            settings: RunSettings {
                concurrency,
                ..RunSettings::new("mock", "m")
            },
        },
        dataset_name: "items".into(),
        columns: vec!["id".into(), "text".into()],
        json_schema: schema.to_json_schema(),
        provider_label: "Mock".into(),
        model_label: "M".into(),
        rates: ModelRates {
            input_usd_per_mtok: 0.0,
            output_usd_per_mtok: 0.0,
            seconds_per_request: 0.0,
        },
    };
    let config = serde_json::to_value(config).expect("config");

    let wake = Arc::new(tokio::sync::Notify::new());
    let worker = Worker::new(
        db.clone(),
        catalog,
        Arc::clone(&wake),
        WorkerConfig::default(),
    )
    .spawn();
    let started = Instant::now();
    let id = batches::start_over_dataset(
        &db,
        DatasetBatch {
            owner: "bench",
            name: "run",
            dataset_id: dataset,
            first_rows: None,
            config: &config,
        },
    )
    .await
    .expect("query")
    .expect("batch starts");
    wake.notify_one();
    loop {
        let batch = batches::find(&db, "bench", id)
            .await
            .expect("query")
            .expect("batch");
        if batch.summary.status == BatchStatus::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    worker.shutdown().await;

    let mut finished = Vec::new();
    let mut call_ms = Vec::new();
    let mut after = None;
    loop {
        let page = queue::rows_page(&db, "bench", id, None, after, 1000)
            .await
            .expect("query")
            .expect("batch");
        let Some(last) = page.last() else { break };
        after = Some(last.row_index);
        finished.extend(page.iter().filter_map(|r| r.finished_at));
        call_ms.extend(page.iter().filter_map(|r| r.latency_ms));
    }
    finished.sort_unstable();
    let mut gaps: Vec<i64> = finished.windows(2).map(|w| w[1].0 - w[0].0).collect();
    gaps.sort_unstable();
    let ideal = if latency_ms == 0 {
        f64::INFINITY
    } else {
        f64::from(concurrency) * 1000.0 / latency_ms as f64
    };
    let rate = rows as f64 / seconds;
    println!(
        "{rows} rows at concurrency {concurrency}, {latency_ms} ms: {seconds:.2} s = {rate:.0} rows/s \
         ({:.3} ms/row; {:.2} of ideal); gap p50 {} ms, p90 {} ms; provider call mean {:.2} ms",
        1000.0 / rate,
        rate / ideal,
        gaps.get(gaps.len() / 2).copied().unwrap_or(0),
        gaps.get(gaps.len() * 9 / 10).copied().unwrap_or(0),
        call_ms.iter().sum::<i64>() as f64 / call_ms.len().max(1) as f64,
    );
}
