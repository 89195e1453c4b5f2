//! `POST /api/providers/check`: one small call with a configured provider and model, answered
//! as a verdict a person can act on, without the key.

use rowbench_mock_llm::{MockConfig, MockServer};
use rowbench_providers::Catalog;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};

const RIGHT_KEY: &str = "sk-right-0123456789";
const WRONG_KEY: &str = "sk-wrong-9876543210";

/// The demo, plus providers as a providers file would declare them: `good` and `badkey` at the
/// mock (which takes only [`RIGHT_KEY`] and knows only `mock-model`), `nowhere` at a port where
/// nothing listens.
async fn app_with_providers(mock: &MockServer) -> TestApp {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    };
    let entry = |id: &str, base_url: &str, key: &str, model: &str| {
        format!(
            "[[providers]]\nid = \"{id}\"\nkind = \"openai\"\nbase_url = \"{base_url}\"\n\
             api_key = \"{key}\"\ntimeout_secs = 10\n\n[[providers.models]]\nid = \"{model}\"\n\
             input_usd_per_mtok = 0\noutput_usd_per_mtok = 0\n\n"
        )
    };
    let mock_url = format!("{}/v1", mock.url());
    let text = [
        entry("good", &mock_url, RIGHT_KEY, "mock-model"),
        entry("badkey", &mock_url, WRONG_KEY, "mock-model"),
        entry("retired", &mock_url, RIGHT_KEY, "gpt-retired"),
        entry(
            "nowhere",
            &format!("http://127.0.0.1:{closed_port}/v1"),
            RIGHT_KEY,
            "mock-model",
        ),
    ]
    .concat();
    let from_file = Catalog::from_toml(&text, &|_| None).expect("providers file parses");
    spawn_app_with(move |config| config.catalog.providers.extend(from_file)).await
}

async fn mock() -> MockServer {
    MockServer::start(MockConfig {
        api_key: Some(RIGHT_KEY.into()),
        models: vec!["mock-model".into()],
        ..MockConfig::default()
    })
    .await
    .expect("mock starts")
}

async fn check(app: &TestApp, provider: &str, model: &str) -> (u16, serde_json::Value) {
    app.post_json(
        "/api/providers/check",
        &json!({ "provider": provider, "model": model }),
    )
    .await
}

#[tokio::test]
async fn the_offline_demo_checks_ok_at_once() {
    let mock = mock().await;
    let app = app_with_providers(&mock).await;
    let (status, body) = check(&app, "demo", "demo-synthetic").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["code"], "ok");
    assert_eq!(body["latency_ms"], 0);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("It works: the offline demo")),
        "{body}"
    );
}

#[tokio::test]
async fn a_working_provider_checks_ok_with_its_latency() {
    let mock = mock().await;
    let app = app_with_providers(&mock).await;
    let (status, body) = check(&app, "good", "mock-model").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true, "{body}");
    assert!(body["latency_ms"].is_u64(), "{body}");
    assert_eq!(mock.stats().requests, 1);
}

#[tokio::test]
async fn a_refused_key_says_so_and_where_to_fix_it_without_the_key() {
    let mock = mock().await;
    let app = app_with_providers(&mock).await;
    let response = app
        .client
        .post(app.url("/api/providers/check"))
        .json(&json!({ "provider": "badkey", "model": "mock-model" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("body");
    assert!(
        !text.contains(WRONG_KEY),
        "the key stays on the server: {text}"
    );
    let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["ok"], false);
    assert_eq!(body["code"], "key_refused");
    assert_eq!(body["http_status"], 401);
    assert_eq!(
        body["message"],
        "badkey refused the API key (HTTP 401: Incorrect API key provided). Check the key of \
         provider `badkey` in the providers file (`api_key_env` or `api_key`): is it current, and may \
         it use \"mock-model\"? Then restart Rowbench."
    );
}

#[tokio::test]
async fn a_model_the_provider_does_not_have_is_named() {
    let mock = mock().await;
    let app = app_with_providers(&mock).await;
    let (status, body) = check(&app, "retired", "gpt-retired").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "unknown_model", "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("retired does not know the model \"gpt-retired\"")),
        "{body}"
    );
}

#[tokio::test]
async fn an_unreachable_base_url_says_nothing_listens_there() {
    let mock = mock().await;
    let app = app_with_providers(&mock).await;
    let (status, body) = check(&app, "nowhere", "mock-model").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], false);
    assert_eq!(body["code"], "unreachable");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with("Could not reach nowhere at http://127.0.0.1:")
            && message.contains("nothing is listening at that address (connection refused)")
            && message.ends_with("Check the base URL, that the server there is running, and this machine's network or proxy."),
        "{message}"
    );
}

#[tokio::test]
async fn a_provider_or_model_the_server_does_not_have_is_refused() {
    let mock = mock().await;
    let app = app_with_providers(&mock).await;
    let (status, body) = check(&app, "openai", "gpt-4o-mini").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["details"]["field"], "provider");
    let (status, body) = check(&app, "good", "other-model").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "model_not_configured");
    assert_eq!(body["error"]["details"]["field"], "model");
    let (status, body) = app
        .post_json(
            "/api/providers/check",
            &json!({ "provider": "demo", "model": "demo-synthetic", "key": "x" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "unknown_field");
    assert_eq!(mock.stats().requests, 0, "nothing was called");
}
