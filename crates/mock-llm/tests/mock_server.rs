//! The mock server over real HTTP: both wire formats, every fault, latency, stats and live
//! reconfiguration.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rowbench_mock_llm::{FaultRates, MockConfig, MockServer, MockStats};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": ["spam", "ham"]},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "reasons": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["label", "score", "reasons"],
        "additionalProperties": false
    })
}

/// A hand-written check of [`schema`], enough to tell a valid answer from a broken one.
fn follows_schema(answer: &Value) -> bool {
    let Some(object) = answer.as_object() else {
        return false;
    };
    let label_ok = object
        .get("label")
        .and_then(Value::as_str)
        .is_some_and(|label| ["spam", "ham"].contains(&label));
    let score_ok = object.get("score").is_some_and(Value::is_number);
    let reasons_ok = object
        .get("reasons")
        .and_then(Value::as_array)
        .is_some_and(|reasons| reasons.iter().all(Value::is_string));
    label_ok && score_ok && reasons_ok && object.len() == 3
}

fn has_required_keys(answer: &Value) -> bool {
    ["label", "score", "reasons"]
        .iter()
        .all(|key| answer.get(key).is_some())
}

fn openai_request(row: &str) -> Value {
    json!({
        "model": "gpt-mock",
        "messages": [
            {"role": "system", "content": "Classify the message."},
            {"role": "user", "content": row}
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "strict": true, "schema": schema()}
        }
    })
}

fn anthropic_request(row: &str) -> Value {
    json!({
        "model": "claude-mock",
        "max_tokens": 512,
        "system": "Classify the message.",
        "messages": [{"role": "user", "content": row}],
        "tools": [
            {"name": "other", "input_schema": {"type": "object"}},
            {"name": "answer", "description": "Record the answer", "input_schema": schema()}
        ],
        "tool_choice": {"type": "tool", "name": "answer"}
    })
}

async fn start(config: MockConfig) -> MockServer {
    MockServer::start(config)
        .await
        .expect("the mock binds a loopback port")
}

fn faulty(faults: FaultRates) -> MockConfig {
    MockConfig {
        faults,
        ..MockConfig::default()
    }
}

async fn post_openai(server: &MockServer, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url()))
        .bearer_auth("sk-anything")
        .json(body)
        .send()
        .await
        .expect("the mock answers")
}

async fn post_anthropic(server: &MockServer, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/messages", server.url()))
        .header("x-api-key", "sk-ant-anything")
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .expect("the mock answers")
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("the body is JSON")
}

/// The assistant's text from an OpenAI-shaped 200.
async fn openai_content(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;
    body["choices"][0]["message"]["content"]
        .as_str()
        .expect("the content is a string")
        .to_owned()
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("the answer text is JSON")
}

#[tokio::test]
async fn the_openai_route_answers_schema_shaped_json() {
    let server = start(MockConfig::default()).await;
    let response = post_openai(&server, &openai_request("Win a free cruise!")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;

    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-mock");
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("mock-"))
    );
    assert!(body["created"].is_u64());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["role"], "assistant");
    let content = choice["message"]["content"]
        .as_str()
        .expect("the content is a string");
    let answer = parse(content);
    assert!(has_required_keys(&answer), "{answer}");
    assert!(follows_schema(&answer), "{answer}");

    let usage = &body["usage"];
    let prompt = usage["prompt_tokens"].as_u64().expect("prompt_tokens");
    let completion = usage["completion_tokens"]
        .as_u64()
        .expect("completion_tokens");
    assert_eq!(
        prompt,
        ("Classify the message.".len() + "Win a free cruise!".len()).div_ceil(4) as u64
    );
    assert_eq!(completion, content.chars().count().div_ceil(4) as u64);
    assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));
    server.shutdown().await;
}

#[tokio::test]
async fn the_openai_route_finds_a_schema_fenced_in_the_system_message() {
    let server = start(MockConfig::default()).await;
    let system = format!(
        "Classify the message. Reply with JSON matching this schema:\n```json\n{:#}\n```\nNo prose.",
        schema()
    );
    let request = json!({
        "model": "local",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": "hello"}]
    });
    let answer = parse(&openai_content(post_openai(&server, &request).await).await);
    assert!(follows_schema(&answer), "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_openai_route_finds_a_bare_schema_in_the_system_message() {
    let server = start(MockConfig::default()).await;
    let system = format!(
        "Example of a message: {{\"text\": \"hi\"}}. Answer as {} and nothing else.",
        schema()
    );
    let request = json!({
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": "hello"}]
    });
    let answer = parse(&openai_content(post_openai(&server, &request).await).await);
    assert!(follows_schema(&answer), "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn without_any_schema_the_answer_is_an_object_with_an_answer_key() {
    let server = start(MockConfig::default()).await;
    let request = json!({"messages": [{"role": "user", "content": "Say something."}]});
    let answer = parse(&openai_content(post_openai(&server, &request).await).await);
    assert!(answer["answer"].is_string(), "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_anthropic_route_calls_the_chosen_tool_with_a_schema_valid_input() {
    let server = start(MockConfig::default()).await;
    let response = post_anthropic(&server, &anthropic_request("Win a free cruise!")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;

    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "claude-mock");
    assert_eq!(body["stop_reason"], "tool_use");
    let block = &body["content"][0];
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["name"], "answer");
    assert!(
        block["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("toolu_"))
    );
    assert!(follows_schema(&block["input"]), "{}", block["input"]);
    assert!(
        body["usage"]["input_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    assert!(
        body["usage"]["output_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_anthropic_route_answers_in_text_without_a_forced_tool() {
    let server = start(MockConfig::default()).await;
    let request = json!({
        "model": "claude-mock",
        "max_tokens": 512,
        "system": [{"type": "text", "text": format!("Answer with JSON for this schema: {}", schema())}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    });
    let body = json_of(post_anthropic(&server, &request).await).await;
    assert_eq!(body["stop_reason"], "end_turn");
    let block = &body["content"][0];
    assert_eq!(block["type"], "text");
    let answer = parse(block["text"].as_str().expect("a text block has text"));
    assert!(follows_schema(&answer), "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_anthropic_route_refuses_a_request_without_an_api_key_unless_told_not_to() {
    let server = start(MockConfig::default()).await;
    let send = || {
        reqwest::Client::new()
            .post(format!("{}/v1/messages", server.url()))
            .json(&anthropic_request("row"))
            .send()
    };
    let response = send().await.expect("the mock answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = json_of(response).await;
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");

    server.set_config(MockConfig {
        require_anthropic_key: false,
        ..MockConfig::default()
    });
    let response = send().await.expect("the mock answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.stats().unauthorized, 1);
    assert_eq!(server.stats().ok, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn the_same_row_always_gets_the_same_answer() {
    let first = start(MockConfig::default()).await;
    let second = start(MockConfig {
        seed: 99,
        ..MockConfig::default()
    })
    .await;
    let rows = ["row one", "row two", "row three"];
    let mut answers = Vec::new();
    for row in rows {
        let a = openai_content(post_openai(&first, &openai_request(row)).await).await;
        let again = openai_content(post_openai(&first, &openai_request(row)).await).await;
        let b = openai_content(post_openai(&second, &openai_request(row)).await).await;
        assert_eq!(a, again);
        assert_eq!(a, b);
        answers.push(a);
    }
    answers.dedup();
    assert!(
        answers.len() > 1,
        "different rows should not all get one answer"
    );
    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test]
async fn a_server_error_is_a_500_with_a_json_error_body() {
    let server = start(faulty(FaultRates {
        server_error: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let response = post_openai(&server, &openai_request("row")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = json_of(response).await;
    assert_eq!(body["error"]["type"], "server_error");
    assert!(body["error"]["message"].is_string());

    let response = post_anthropic(&server, &anthropic_request("row")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json_of(response).await["error"]["type"], "api_error");
    assert_eq!(server.stats().server_errors, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_rate_limit_is_a_429_with_retry_after_headers() {
    let server = start(faulty(FaultRates {
        rate_limited: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let response = post_openai(&server, &openai_request("row")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after-ms"], "50");
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        json_of(response).await["error"]["code"],
        "rate_limit_exceeded"
    );

    server.set_config(MockConfig {
        retry_after_ms: 2_500,
        ..server.config()
    });
    let response = post_anthropic(&server, &anthropic_request("row")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after-ms"], "2500");
    assert_eq!(response.headers()["retry-after"], "3");
    assert_eq!(json_of(response).await["error"]["type"], "rate_limit_error");
    server.shutdown().await;
}

#[tokio::test]
async fn rate_limit_next_refuses_exactly_that_many_requests_then_answers_again() {
    let server = start(MockConfig {
        retry_after_ms: 1_200,
        ..MockConfig::default()
    })
    .await;
    assert_eq!(
        post_openai(&server, &openai_request("row")).await.status(),
        StatusCode::OK
    );
    server.rate_limit_next(2);
    for _ in 0..2 {
        let response = post_openai(&server, &openai_request("row")).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after-ms"], "1200");
    }
    assert_eq!(
        post_openai(&server, &openai_request("row")).await.status(),
        StatusCode::OK
    );
    let stats = server.stats();
    assert_eq!(stats.rate_limited, 2);
    assert_eq!(
        stats.rate_limited_times_ms,
        stats.request_times_ms[1..3].to_vec()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_hang_answers_500_only_after_hang_ms() {
    let server = start(MockConfig {
        hang_ms: 300,
        ..faulty(FaultRates {
            hang: 1.0,
            ..FaultRates::default()
        })
    })
    .await;
    let started = Instant::now();
    let response = post_openai(&server, &openai_request("row")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(server.stats().hangs, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_hang_outlasts_a_client_timeout() {
    let server = start(faulty(FaultRates {
        hang: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let result = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url()))
        .timeout(Duration::from_millis(200))
        .json(&openai_request("row"))
        .send()
        .await;
    let error = result.expect_err("the client gives up first");
    assert!(error.is_timeout(), "{error}");
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_hang_to_end() {
    let server = start(faulty(FaultRates {
        hang: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let url = format!("{}/v1/chat/completions", server.url());
    let request = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&openai_request("row"))
            .send()
            .await
    });
    while server.stats().hangs == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown cuts the 30 s hang short");
    let response = request
        .await
        .expect("the request task ends")
        .expect("the hang still answers");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn unauthorized_is_a_401_with_an_openai_shaped_error() {
    let server = start(faulty(FaultRates {
        unauthorized: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let response = post_openai(&server, &openai_request("row")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json_of(response).await,
        json!({"error": {
            "message": "Incorrect API key provided",
            "type": "invalid_request_error",
            "code": "invalid_api_key"
        }})
    );
    let response = post_anthropic(&server, &anthropic_request("row")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.stats().unauthorized, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn with_a_required_key_only_that_key_is_accepted_on_both_routes() {
    let server = start(MockConfig {
        api_key: Some("sk-right".into()),
        ..MockConfig::default()
    })
    .await;
    // post_openai and post_anthropic send some other key.
    let response = post_openai(&server, &openai_request("row")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(response).await["error"]["code"], "invalid_api_key");
    let response = post_anthropic(&server, &anthropic_request("row")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json_of(response).await["error"]["type"],
        "authentication_error"
    );
    let without_key = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url()))
        .json(&openai_request("row"))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(without_key.status(), StatusCode::UNAUTHORIZED);

    let right = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url()))
        .bearer_auth("sk-right")
        .json(&openai_request("row"))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(right.status(), StatusCode::OK);
    let right = reqwest::Client::new()
        .post(format!("{}/v1/messages", server.url()))
        .header("x-api-key", "sk-right")
        .json(&anthropic_request("row"))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(right.status(), StatusCode::OK);
    assert_eq!(server.stats().unauthorized, 3);
    assert_eq!(server.stats().ok, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_model_outside_the_known_models_is_a_404_model_not_found() {
    let server = start(MockConfig {
        models: vec!["gpt-mock".into()],
        ..MockConfig::default()
    })
    .await;
    let response = post_openai(&server, &openai_request("row")).await;
    assert_eq!(response.status(), StatusCode::OK, "gpt-mock exists");

    let mut request = openai_request("row");
    request["model"] = json!("gpt-nope");
    let response = post_openai(&server, &request).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = json_of(response).await;
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`gpt-nope` does not exist")),
        "{body}"
    );

    // claude-mock is not in the list either.
    let response = post_anthropic(&server, &anthropic_request("row")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(response).await["error"]["type"], "not_found_error");
    assert_eq!(server.stats().unknown_model, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_key_is_refused_before_an_unknown_model() {
    let server = start(MockConfig {
        api_key: Some("sk-right".into()),
        models: vec!["only-this".into()],
        ..MockConfig::default()
    })
    .await;
    let response = post_openai(&server, &openai_request("row")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_json_is_a_200_whose_answer_does_not_parse() {
    let server = start(faulty(FaultRates {
        invalid_json: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let content = openai_content(post_openai(&server, &openai_request("row")).await).await;
    assert_eq!(content, "Sure! Here is the answer: {not json");
    assert!(serde_json::from_str::<Value>(&content).is_err());

    // A tool call cannot carry broken JSON, so the model "forgets" the tool and writes text.
    let body = json_of(post_anthropic(&server, &anthropic_request("row")).await).await;
    assert_eq!(body["content"][0]["type"], "text");
    assert_eq!(
        body["content"][0]["text"],
        "Sure! Here is the answer: {not json"
    );
    assert_eq!(server.stats().invalid_json, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_schema_violation_is_json_that_breaks_the_schema() {
    let server = start(faulty(FaultRates {
        schema_violation: 1.0,
        ..FaultRates::default()
    }))
    .await;
    for row in 0..20 {
        let request = openai_request(&format!("row {row}"));
        let answer = parse(&openai_content(post_openai(&server, &request).await).await);
        assert!(!follows_schema(&answer), "{answer} should break the schema");
    }
    let body = json_of(post_anthropic(&server, &anthropic_request("row")).await).await;
    assert_eq!(body["content"][0]["type"], "tool_use");
    assert!(!follows_schema(&body["content"][0]["input"]));
    assert_eq!(server.stats().schema_violations, 21);
    server.shutdown().await;
}

#[tokio::test]
async fn a_fenced_answer_wraps_valid_json_in_prose() {
    let server = start(faulty(FaultRates {
        fenced_json: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let content = openai_content(post_openai(&server, &openai_request("row")).await).await;
    let inner = content
        .strip_prefix("Here you go:\n```json\n")
        .and_then(|rest| rest.strip_suffix("\n```\nAnything else?"))
        .expect("the answer is fenced with prose around it");
    assert!(follows_schema(&parse(inner)), "{inner}");
    assert_eq!(server.stats().fenced, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn rates_of_a_fifth_land_near_a_fifth_of_500_requests() {
    let server = start(MockConfig {
        seed: 42,
        ..faulty(FaultRates {
            server_error: 0.2,
            rate_limited: 0.2,
            invalid_json: 0.2,
            fenced_json: 0.2,
            ..FaultRates::default()
        })
    })
    .await;
    let client = reqwest::Client::new();
    let mut statuses: HashMap<u16, u64> = HashMap::new();
    for row in 0..500 {
        let response = client
            .post(format!("{}/v1/chat/completions", server.url()))
            .json(&openai_request(&format!("row {row}")))
            .send()
            .await
            .expect("the mock answers");
        *statuses.entry(response.status().as_u16()).or_default() += 1;
    }
    let stats = server.stats();
    // 100 expected each, with a standard deviation of about 9.
    for (name, count) in [
        ("server errors", stats.server_errors),
        ("rate limits", stats.rate_limited),
        ("invalid JSON", stats.invalid_json),
        ("fenced", stats.fenced),
        ("ok", stats.ok),
    ] {
        assert!((60..=140).contains(&count), "{name}: {count} of 500");
    }
    assert_eq!(stats.requests, 500);
    assert_eq!(statuses.get(&500).copied(), Some(stats.server_errors));
    assert_eq!(statuses.get(&429).copied(), Some(stats.rate_limited));
    assert_eq!(
        statuses.get(&200).copied(),
        Some(stats.ok + stats.invalid_json + stats.fenced)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_seed_gives_the_same_fault_sequence_every_time() {
    let config = MockConfig {
        seed: 7,
        ..faulty(FaultRates {
            server_error: 0.5,
            ..FaultRates::default()
        })
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let server = start(config.clone()).await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(post_openai(&server, &openai_request("row")).await.status());
        }
        runs.push(statuses);
        server.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn latency_is_applied_before_answering() {
    let server = start(MockConfig {
        latency_ms: 150,
        ..MockConfig::default()
    })
    .await;
    let started = Instant::now();
    openai_content(post_openai(&server, &openai_request("row")).await).await;
    assert!(started.elapsed() >= Duration::from_millis(150));

    server.set_config(MockConfig {
        latency_ms: 60,
        jitter_ms: 40,
        ..MockConfig::default()
    });
    for _ in 0..5 {
        let started = Instant::now();
        openai_content(post_openai(&server, &openai_request("row")).await).await;
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn stats_count_each_outcome_and_when_requests_arrived() {
    let server = start(MockConfig::default()).await;
    let all_faults = [
        FaultRates {
            server_error: 1.0,
            ..FaultRates::default()
        },
        FaultRates {
            rate_limited: 1.0,
            ..FaultRates::default()
        },
        FaultRates {
            invalid_json: 1.0,
            ..FaultRates::default()
        },
        FaultRates {
            schema_violation: 1.0,
            ..FaultRates::default()
        },
        FaultRates {
            fenced_json: 1.0,
            ..FaultRates::default()
        },
        FaultRates {
            unauthorized: 1.0,
            ..FaultRates::default()
        },
        FaultRates {
            hang: 1.0,
            ..FaultRates::default()
        },
        FaultRates::default(),
        FaultRates::default(),
    ];
    for faults in all_faults {
        server.set_config(MockConfig {
            hang_ms: 1,
            ..faulty(faults)
        });
        post_openai(&server, &openai_request("row")).await;
    }
    reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url()))
        .body("not json")
        .send()
        .await
        .expect("the mock answers");

    let stats = server.stats();
    let expected = MockStats {
        requests: 10,
        ok: 2,
        server_errors: 1,
        rate_limited: 1,
        hangs: 1,
        invalid_json: 1,
        schema_violations: 1,
        fenced: 1,
        unauthorized: 1,
        unknown_model: 0,
        bad_requests: 1,
        calls_per_prompt: HashMap::from([("row".to_owned(), 9)]),
        request_times_ms: stats.request_times_ms.clone(),
        // The one 429 arrived as the second request.
        rate_limited_times_ms: vec![stats.request_times_ms[1]],
        in_flight: 0,
        // One request at a time (each awaited before the next).
        max_in_flight: 1,
    };
    assert_eq!(stats, expected);
    assert_eq!(stats.request_times_ms.len(), 10);
    assert!(stats.request_times_ms.is_sorted());

    let over_http: MockStats = reqwest::get(format!("{}/stats", server.url()))
        .await
        .expect("the mock answers")
        .json()
        .await
        .expect("/stats is JSON");
    assert_eq!(over_http, stats);

    server.reset_stats();
    assert_eq!(server.stats(), MockStats::default());
    server.shutdown().await;
}

#[tokio::test]
async fn set_config_takes_effect_for_the_next_request() {
    let server = start(faulty(FaultRates {
        unauthorized: 1.0,
        ..FaultRates::default()
    }))
    .await;
    let status = post_openai(&server, &openai_request("row")).await.status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    server.set_config(MockConfig::default());
    let status = post_openai(&server, &openai_request("row")).await.status();
    assert_eq!(status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn the_config_route_reads_and_replaces_the_configuration() {
    let server = start(MockConfig::default()).await;
    let client = reqwest::Client::new();
    let config_url = format!("{}/config", server.url());

    let response = client
        .post(&config_url)
        .json(&json!({"latency_ms": 5, "faults": {"server_error": 1.0}}))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.config().latency_ms, 5);
    let status = post_openai(&server, &openai_request("row")).await.status();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    let shown = json_of(
        client
            .get(&config_url)
            .send()
            .await
            .expect("the mock answers"),
    )
    .await;
    assert_eq!(shown["latency_ms"], 5);
    assert_eq!(shown["hang_ms"], 30_000);

    let response = client
        .post(&config_url)
        .json(&json!({"latncy_ms": 5}))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(server.config().latency_ms, 5);
    server.shutdown().await;
}

#[tokio::test]
async fn calls_per_prompt_counts_rows_answered_more_than_once() {
    let server = start(MockConfig::default()).await;
    for row in ["row 1", "row 2", "row 1", "row 3", "row 1"] {
        post_openai(&server, &openai_request(row)).await;
    }
    post_anthropic(&server, &anthropic_request("row 2")).await;
    let calls = server.stats().calls_per_prompt;
    assert_eq!(
        calls,
        HashMap::from([
            ("row 1".to_owned(), 3),
            ("row 2".to_owned(), 2),
            ("row 3".to_owned(), 1),
        ])
    );
    let repeated: Vec<&String> = calls
        .iter()
        .filter(|(_, count)| **count > 1)
        .map(|(row, _)| row)
        .collect();
    assert_eq!(repeated.len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_that_is_not_a_chat_request_is_a_400() {
    let server = start(MockConfig::default()).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", server.url()))
        .header("x-api-key", "k")
        .json(&json!({
            "messages": [{"role": "user", "content": "row"}],
            "tools": [{"name": "a", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "tool", "name": "missing"}
        }))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(response).await["error"]["type"],
        "invalid_request_error"
    );
    assert_eq!(server.stats().bad_requests, 1);
    server.shutdown().await;
}
