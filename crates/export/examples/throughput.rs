//! How fast the writer alone goes: `cargo run --release -p rowbench-export --example throughput
//! -- [ROWS] [csv|json|jsonl]` exports generated rows shaped like `.ci/bench-export`'s (8 cells,
//! 4 answer fields, metadata) to nowhere and prints rows/s. The database and HTTP costs of a real
//! export are measured by `.ci/bench-export`.

use std::time::Instant;

use rowbench_export::{ExportOptions, Exporter, Format, Layout, Row};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: i64 = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let format = match args.next() {
        Some(name) => Format::parse(&name).ok_or("format: csv, json or jsonl")?,
        None => Format::Csv,
    };
    let columns = [
        "id", "customer", "email", "city", "amount", "date", "rating", "comment",
    ];
    let layout = Layout::new(
        columns.iter().map(|c| c.to_string()).collect(),
        ["sentiment", "score", "tags", "flagged"]
            .iter()
            .map(|f| f.to_string())
            .collect(),
        "demo-synthetic",
        true,
    );
    let options = ExportOptions {
        format,
        formula_guard: true,
    };
    let mut counter = Counter(0);
    let mut exporter = Exporter::new(&mut counter, layout, options)?;
    let started = Instant::now();
    for i in 0..rows {
        let cells = vec![
            i.to_string(),
            format!("Customer {}", i % 9973),
            format!("user{i}@example.com"),
            "Zürich".to_string(),
            format!("-{}.{:02}", i % 999, i % 100),
            "2026-03-14".to_string(),
            (1 + i % 5).to_string(),
            format!("good \"quoted\", refund late, again {}", i % 97),
        ];
        let result = format!(
            r#"{{"sentiment":"positive","score":{}.5,"tags":["refund","late {}"],"flagged":true}}"#,
            i % 100,
            i % 7
        );
        exporter.write_row(&Row {
            result: Some(&result),
            attempts: 1,
            latency_ms: Some(150),
            input_tokens: Some(60),
            output_tokens: Some(12),
            cost_usd: Some(0.0000375),
            ..Row::new(i, &cells, "succeeded")
        })?;
    }
    exporter.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{rows} rows, {:.1} MB of {} in {seconds:.2} s = {:.0} rows/s",
        counter.0 as f64 / 1e6,
        format.as_str(),
        rows as f64 / seconds
    );
    Ok(())
}

/// Counts the bytes written and drops them.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0 += data.len() as u64;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
