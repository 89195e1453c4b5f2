//! temporary
use std::time::Instant;
#[tokio::main]
async fn main() {
    let db = rowbench_store::Database::connect("sqlite:///tmp/benchwork/data/rowbench.db").await.expect("db");
    let mut after = None; let mut n = 0;
    let started = Instant::now();
    loop {
        let page = rowbench_store::export::export_page(&db, 1, Some(1), after, 2000).await.expect("page");
        if page.is_empty() { break; }
        after = page.last_row(); n += page.len();
        if std::env::args().nth(1).is_some() { let _ = page.records().expect("p"); }
    }
    println!("{n} rows in {:.2}s", started.elapsed().as_secs_f64());
}
