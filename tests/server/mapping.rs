use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn call(app: &TestApp, endpoint: &str, body: Value) -> (u16, String) {
    let response = app
        .client
        .post(app.url(&format!("/rpc/{endpoint}")))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("answered");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

fn mapping(lang_key: &str) -> Value {
    json!({ "mapping": { "columns": [
        { "name": "body", "role": "include", "is_key": false },
        { "name": "lang", "role": "param", "key": lang_key, "is_key": false },
    ] } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_cannot_be_saved_before_a_file_is_uploaded() {
    let app = spawn_app().await;
    let (status, body) = call(&app, "save_mapping", mapping("lang")).await;
    assert!(status >= 400, "{status}");
    assert!(
        body.contains("Upload a file before mapping its columns"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_checks_the_mapping_again_and_keeps_a_valid_one() {
    let app = spawn_app().await;
    let (_, dataset) = app.upload_csv("", "body,lang\nhello,en\n").await;
    let id = dataset["id"].as_i64().expect("id");
    let attached = app
        .client
        .post(app.url("/rpc/use_dataset"))
        .header("accept", "application/json")
        .form(&[("id", id.to_string())])
        .send()
        .await
        .expect("answered");
    assert_eq!(attached.status().as_u16(), 200);

    let (status, body) = call(&app, "save_mapping", mapping("2lang")).await;
    assert!(status >= 400, "{status}");
    assert!(
        body.contains("column 2: the parameter key \\\"2lang\\\" must start with a letter"),
        "{body}"
    );

    let (status, body) = call(&app, "save_mapping", mapping("lang")).await;
    assert_eq!(status, 200, "{body}");
    let db = app.database().await;
    let state = rowbench_store::testing::texts(&db, "SELECT state FROM drafts", &[])
        .await
        .remove(0)
        .expect("draft");
    let state: Value = serde_json::from_str(&state).expect("JSON");
    assert_eq!(state["mapping"]["columns"][1]["key"], "lang");
}
