use rowbench_store::batches::{self, NewBatch};

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_of_a_fresh_install_shows_the_empty_state() {
    let app = spawn_app().await;
    let html = app.get_text("/", 200).await;
    assert!(html.contains("<title>Batches · Rowbench</title>"), "{html}");
    assert!(html.contains("No batches yet — start one"));
    assert!(
        html.contains(r#"href="/new""#),
        "the empty state links to the wizard"
    );
    assert!(!html.contains("<table"), "no table without batches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_lists_batches_newest_first_with_their_progress() {
    let app = spawn_app().await;
    let db = app.database().await;
    let config = serde_json::json!({});
    for (name, rows) in [("Older reviews", 10), ("Newer tickets", 40)] {
        batches::create(
            &db,
            NewBatch {
                owner: "local",
                name,
                total_rows: rows,
                config: &config,
            },
        )
        .await
        .expect("batch stored");
    }

    let html = app.get_text("/", 200).await;
    assert!(!html.contains("No batches yet"));
    let newer = html.find("Newer tickets").expect("newer batch listed");
    let older = html.find("Older reviews").expect("older batch listed");
    assert!(newer < older, "newest first");
    assert!(html.contains("0 / 40"));
    assert!(html.contains("Queued"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_names_are_shown_as_text_never_as_markup() {
    let app = spawn_app().await;
    let db = app.database().await;
    let config = serde_json::json!({});
    let name = "<script>alert('x')</script>";
    batches::create(
        &db,
        NewBatch {
            owner: "local",
            name,
            total_rows: 1,
            config: &config,
        },
    )
    .await
    .expect("batch stored");

    let html = app.get_text("/", 200).await;
    assert!(!html.contains(name));
    assert!(html.contains("&lt;script&gt;"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_address_answers_404_with_the_not_found_page() {
    let app = spawn_app().await;
    let html = app.get_text("/no/such/page", 404).await;
    assert!(html.contains("Page not found"));
    assert!(html.contains("/no/such/page"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_wizard_step_answers_404() {
    let app = spawn_app().await;
    let html = app.get_text("/new/bogus", 404).await;
    assert!(html.contains("Page not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wizard_step_renders_with_the_stepper_marking_it_current() {
    let app = spawn_app().await;
    let steps = [
        ("upload", "Upload"),
        ("columns", "Map columns"),
        ("prompt", "Prompt"),
        ("schema", "Response schema"),
        ("review", "Review"),
        ("run", "Run"),
    ];
    for (number, (slug, label)) in steps.iter().enumerate() {
        let html = app.get_text(&format!("/new/{slug}"), 200).await;
        assert!(
            html.contains(&format!("Step {} of 6", number + 1)),
            "{slug}"
        );
        assert!(
            html.contains(&format!(r#"<h2 id="step-title">{label}</h2>"#)),
            "{slug}"
        );
        assert!(
            html.contains(&format!(r#"href="/new/{slug}" aria-current="page""#)),
            "the stepper marks {slug} as the current page"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
}
