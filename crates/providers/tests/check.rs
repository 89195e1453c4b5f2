//! The connection check against the project's mock LLM over real HTTP: each thing that can be
//! wrong gets its own verdict and a message that says what to fix, never the key.

use std::time::Duration;

use rowbench_mock_llm::{FaultRates, MockConfig, MockServer};
use rowbench_providers::catalog::{ModelInfo, ProviderConfig, ProviderKind, RateLimit, Secret};
use rowbench_providers::check::CHECK_MAX_TOKENS;
use rowbench_providers::{CheckVerdict, StructuredOutput, check_connection};

const RIGHT_KEY: &str = "sk-right-0123456789";
const WRONG_KEY: &str = "sk-wrong-9876543210";

async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(MockConfig {
        api_key: Some(RIGHT_KEY.into()),
        models: vec!["mock-model".into()],
        ..config
    })
    .await
    .expect("the mock binds a loopback port")
}

fn provider(kind: ProviderKind, base_url: String, key: &str) -> ProviderConfig {
    ProviderConfig {
        id: "mock".into(),
        label: "Mock".into(),
        kind,
        base_url,
        api_key: Some(Secret::new(key)),
        models: vec![ModelInfo {
            id: "mock-model".into(),
            label: "Mock model".into(),
            input_usd_per_mtok: 0.0,
            output_usd_per_mtok: 0.0,
            structured: StructuredOutput::Native,
        }],
        rate_limit: RateLimit::default(),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
    }
}

fn openai(server: &MockServer, key: &str) -> ProviderConfig {
    provider(ProviderKind::OpenAi, format!("{}/v1", server.url()), key)
}

#[tokio::test]
async fn the_right_key_and_model_work_and_the_latency_is_measured() {
    let server = mock(MockConfig {
        latency_ms: 30,
        ..MockConfig::default()
    })
    .await;
    let check = check_connection(&openai(&server, RIGHT_KEY), "mock-model").await;
    let CheckVerdict::Ok { latency_ms } = check.verdict else {
        panic!("expected it to work: {check:?}");
    };
    assert!(latency_ms >= 30, "{latency_ms}");
    assert!(
        check.message.starts_with("It works: Mock answered"),
        "{}",
        check.message
    );
    assert_eq!(server.stats().requests, 1, "one call, no retries");
    server.shutdown().await;
}

#[tokio::test]
async fn the_check_is_one_small_structured_request_for_the_chosen_model() {
    use std::sync::{Arc, Mutex};

    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let record = record.clone();
            async move {
                record.lock().expect("not poisoned").push(body);
                axum::Json(serde_json::json!({
                    "choices": [{"message": {"content": "{\"ok\":true}"}, "finish_reason": "stop"}]
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let origin = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let config = provider(ProviderKind::OpenAi, format!("{origin}/v1"), RIGHT_KEY);
    assert!(check_connection(&config, "mock-model").await.is_ok());
    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["model"], "mock-model");
    assert_eq!(seen[0]["max_tokens"], CHECK_MAX_TOKENS);
    assert_eq!(seen[0]["response_format"]["type"], "json_schema");
}

#[tokio::test]
async fn a_wrong_key_is_a_key_refusal_that_names_where_to_fix_it_and_never_the_key() {
    let server = mock(MockConfig::default()).await;
    let check = check_connection(&openai(&server, WRONG_KEY), "mock-model").await;
    assert_eq!(
        check.verdict,
        CheckVerdict::KeyRefused {
            status: 401,
            detail: "Incorrect API key provided".into(),
            key_set: true
        }
    );
    assert!(
        check
            .message
            .starts_with("Mock refused the API key (HTTP 401"),
        "{}",
        check.message
    );
    assert!(check.message.contains("api_key_env"), "{}", check.message);
    let json = serde_json::to_string(&check).expect("serializes");
    assert!(!json.contains(WRONG_KEY) && !json.contains(RIGHT_KEY));
    server.shutdown().await;
}

#[tokio::test]
async fn an_anthropic_provider_with_a_wrong_key_is_refused_too() {
    let server = mock(MockConfig::default()).await;
    let config = provider(ProviderKind::Anthropic, server.url(), WRONG_KEY);
    let check = check_connection(&config, "mock-model").await;
    assert!(
        matches!(check.verdict, CheckVerdict::KeyRefused { status: 401, .. }),
        "{check:?}"
    );
    let right = provider(ProviderKind::Anthropic, server.url(), RIGHT_KEY);
    assert!(check_connection(&right, "mock-model").await.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn a_model_the_provider_does_not_have_is_an_unknown_model() {
    let server = mock(MockConfig::default()).await;
    let check = check_connection(&openai(&server, RIGHT_KEY), "gpt-nope").await;
    assert!(
        matches!(
            check.verdict,
            CheckVerdict::UnknownModel { status: 404, .. }
        ),
        "{check:?}"
    );
    assert!(
        check
            .message
            .starts_with("Mock does not know the model \"gpt-nope\" (HTTP 404"),
        "{}",
        check.message
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_base_url_where_nothing_listens_is_unreachable() {
    // Bind a port, then free it: nothing listens there any more.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    };
    let config = provider(
        ProviderKind::OpenAi,
        format!("http://127.0.0.1:{port}/v1"),
        RIGHT_KEY,
    );
    let check = check_connection(&config, "mock-model").await;
    assert_eq!(
        check.verdict,
        CheckVerdict::Unreachable {
            detail: "nothing is listening at that address (connection refused)".into()
        }
    );
    assert!(
        check.message.starts_with(&format!(
            "Could not reach Mock at http://127.0.0.1:{port}/v1: nothing is listening"
        )),
        "{}",
        check.message
    );
}

#[tokio::test]
async fn a_host_name_that_does_not_resolve_is_unreachable() {
    let config = provider(
        ProviderKind::OpenAi,
        "http://rowbench-no-such-host.invalid/v1".into(),
        RIGHT_KEY,
    );
    let check = check_connection(&config, "mock-model").await;
    assert!(
        matches!(check.verdict, CheckVerdict::Unreachable { .. }),
        "{check:?}"
    );
}

#[tokio::test]
async fn a_base_url_without_the_api_path_is_not_an_api() {
    let server = mock(MockConfig::default()).await;
    // Missing the /v1: the mock has no /chat/completions and answers 404 with no body.
    let config = provider(ProviderKind::OpenAi, server.url(), RIGHT_KEY);
    let check = check_connection(&config, "mock-model").await;
    assert!(
        matches!(
            check.verdict,
            CheckVerdict::NotAnApi {
                status: Some(404),
                ..
            }
        ),
        "{check:?}"
    );
    assert!(check.message.contains("end in /v1"), "{}", check.message);
    server.shutdown().await;
}

#[tokio::test]
async fn a_provider_that_does_not_answer_in_time_timed_out() {
    let server = mock(MockConfig {
        faults: FaultRates {
            hang: 1.0,
            ..FaultRates::default()
        },
        ..MockConfig::default()
    })
    .await;
    let mut config = openai(&server, RIGHT_KEY);
    config.timeout = Duration::from_millis(300);
    let check = check_connection(&config, "mock-model").await;
    assert_eq!(check.verdict, CheckVerdict::TimedOut { seconds: 1 });
    assert!(check.message.contains("did not answer within 1 s"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_rate_limit_says_the_key_works_and_how_long_to_wait() {
    let server = mock(MockConfig {
        faults: FaultRates {
            rate_limited: 1.0,
            ..FaultRates::default()
        },
        retry_after_ms: 2_500,
        ..MockConfig::default()
    })
    .await;
    let check = check_connection(&openai(&server, RIGHT_KEY), "mock-model").await;
    let CheckVerdict::RateLimited {
        retry_after_secs,
        detail,
    } = &check.verdict
    else {
        panic!("expected a rate limit: {check:?}");
    };
    assert_eq!(*retry_after_secs, Some(3));
    assert!(detail.starts_with("Rate limit reached"), "{detail}");
    assert!(check.message.contains("Wait 3 s"), "{}", check.message);
    assert_eq!(server.stats().requests, 1, "the check does not retry");
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_error_gives_the_status_and_the_providers_words() {
    let server = mock(MockConfig {
        faults: FaultRates {
            server_error: 1.0,
            ..FaultRates::default()
        },
        ..MockConfig::default()
    })
    .await;
    let check = check_connection(&openai(&server, RIGHT_KEY), "mock-model").await;
    let CheckVerdict::Failed {
        status: Some(500),
        detail,
    } = &check.verdict
    else {
        panic!("expected a failure: {check:?}");
    };
    assert!(detail.contains("mock fault"), "{detail}");
    assert!(
        check
            .message
            .starts_with("Mock failed on its side (HTTP 500:"),
        "{}",
        check.message
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_answer_that_is_not_json_still_proves_the_connection() {
    let server = mock(MockConfig {
        faults: FaultRates {
            invalid_json: 1.0,
            ..FaultRates::default()
        },
        ..MockConfig::default()
    })
    .await;
    let check = check_connection(&openai(&server, RIGHT_KEY), "mock-model").await;
    assert!(check.is_ok(), "{check:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_offline_demo_answers_at_once_without_a_call() {
    let demo = rowbench_providers::Catalog::from_env(&|_| None)
        .expect("demo catalog")
        .providers
        .remove(0);
    let started = std::time::Instant::now();
    let check = check_connection(&demo, "demo-synthetic").await;
    assert_eq!(check.verdict, CheckVerdict::Ok { latency_ms: 0 });
    assert!(started.elapsed() < Duration::from_millis(100));
    assert!(check.message.contains("offline demo"), "{}", check.message);
}
