use crate::helpers::{browser, spawn_app};

/// The draft id the wizard page shows.
fn draft_id(html: &str) -> i64 {
    let start = html
        .find("data-draft-id=\"")
        .expect("the page shows its draft")
        + 15;
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].parse().expect("numeric draft id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_the_wizard_creates_a_draft_and_a_session_cookie() {
    let app = spawn_app().await;
    let response = app.get("/new/upload").await;
    assert_eq!(response.status().as_u16(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie is set")
        .to_string();
    assert!(cookie.starts_with("rowbench_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let html = response.text().await.expect("body");
    assert!(draft_id(&html) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_browser_gets_the_same_draft_after_a_reload() {
    let app = spawn_app().await;
    let first = draft_id(&app.get_text("/new/upload", 200).await);
    let again = draft_id(&app.get_text("/new/schema", 200).await);
    assert_eq!(first, again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_browser_gets_a_draft_of_its_own() {
    let app = spawn_app().await;
    let mine = draft_id(&app.get_text("/new/upload", 200).await);
    let other = browser()
        .get(app.url("/new/upload"))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("body");
    assert_ne!(mine, draft_id(&other));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_entrance_resumes_the_step_the_draft_was_left_on() {
    let app = spawn_app().await;
    let response = app.get("/new").await;
    assert_eq!(
        response.status().as_u16(),
        302,
        "a new draft starts at upload"
    );
    assert_eq!(response.headers()["location"], "/new/upload");

    let saved = app
        .client
        .post(app.url("/rpc/save_step"))
        .header("accept", "application/json")
        .form(&[("step", "prompt")])
        .send()
        .await
        .expect("answered");
    assert_eq!(saved.status().as_u16(), 200, "{:?}", saved.text().await);

    let response = app.get("/new").await;
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(response.headers()["location"], "/new/prompt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_an_unknown_step_is_refused() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/rpc/save_step"))
        .header("accept", "application/json")
        .form(&[("step", "nowhere")])
        .send()
        .await
        .expect("answered");
    assert!(!response.status().is_success(), "{}", response.status());
    let body = response.text().await.expect("body");
    assert!(
        body.contains("`nowhere`") && body.contains("expected one of"),
        "{body}"
    );
    let response = app.get("/new").await;
    assert_eq!(response.headers()["location"], "/new/upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_visit_creates_exactly_one_draft_however_many_parts_ask_for_it() {
    let app = spawn_app().await;
    // The upload step asks for the draft twice while rendering (frame and step).
    let html = app.get_text("/new/upload", 200).await;
    let db = app.database().await;
    let ids: Vec<i64> = rowbench_store::testing::numbers(&db, "SELECT id FROM drafts", &[])
        .await
        .into_iter()
        .filter_map(|row| row[0])
        .collect();
    assert_eq!(ids, vec![draft_id(&html)]);
}
