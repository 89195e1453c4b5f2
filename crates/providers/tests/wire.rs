//! Every HTTP wire format against a fake server: request shape, answers and usage, and how each failure is classified.

mod common;

use std::time::{Duration, Instant};

use common::{KEY, KINDS, Reply, provider, provider_with_timeout, request, serve};
use rowbench_providers::catalog::ProviderKind;
use rowbench_providers::{
    CallError, CallFailure, ChatOutcome, MAX_RAW_RESPONSE_BYTES, Repair, StructuredOutput,
};
use serde_json::{Value, json};

async fn call(
    kind: ProviderKind,
    reply: Reply,
) -> (Result<ChatOutcome, CallFailure>, Vec<common::Seen>) {
    let fake = serve(reply).await;
    let result = provider(kind, &fake.origin)
        .chat(&request(StructuredOutput::Native))
        .await;
    (result, fake.seen())
}

async fn fail(kind: ProviderKind, reply: Reply) -> CallFailure {
    let (result, _) = call(kind, reply).await;
    result.expect_err("the call fails")
}

#[tokio::test]
async fn every_wire_format_reads_the_answer_and_usage() {
    for kind in KINDS {
        let (result, seen) = call(kind, Reply::json(200, common::success(kind))).await;
        let outcome = result.unwrap_or_else(|failure| panic!("{kind:?}: {failure}"));
        assert_eq!(outcome.answer, Ok(json!({"label": "fire"})), "{kind:?}");
        assert_eq!(outcome.input_tokens, Some(11), "{kind:?}");
        assert_eq!(outcome.output_tokens, Some(5), "{kind:?}");
        let exchange = &outcome.exchange;
        assert_eq!(exchange.http_status, Some(200));
        assert_eq!(
            serde_json::from_str::<Value>(&exchange.raw_response).ok(),
            Some(common::success(kind))
        );
        assert_eq!(seen.len(), 1);
        assert_eq!(
            exchange.request, seen[0].body,
            "{kind:?}: the exchange holds the body as sent"
        );
        assert!(
            exchange.url.ends_with(&seen[0].path),
            "{kind:?}: {}",
            exchange.url
        );
    }
}

#[tokio::test]
async fn openai_requests_go_to_chat_completions_with_a_bearer_key() {
    let (_, seen) = call(
        ProviderKind::OpenAi,
        Reply::json(200, common::success(ProviderKind::OpenAi)),
    )
    .await;
    let sent = &seen[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(
        sent.body["messages"][1]["content"],
        "The printer is on fire"
    );
}

#[tokio::test]
async fn openai_strict_mode_gets_optional_fields_as_nullable_and_their_nulls_are_dropped() {
    let answer = json!({
        "choices": [{"message": {"role": "assistant", "content": "{\"label\":\"fire\",\"note\":null}"}}]
    });
    let fake = serve(Reply::json(200, answer)).await;
    let mut request = request(StructuredOutput::Native);
    request.schema["properties"]["note"] = json!({"type": "string"});
    let outcome = provider(ProviderKind::OpenAi, &fake.origin)
        .chat(&request)
        .await
        .expect("answered");
    assert_eq!(outcome.answer, Ok(json!({"label": "fire"})));
    let sent = &fake.seen()[0].body["response_format"]["json_schema"]["schema"];
    assert_eq!(sent["required"], json!(["label", "note"]));
    assert_eq!(
        sent["properties"]["note"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(sent["properties"]["label"]["type"], "string");
}

#[tokio::test]
async fn anthropic_requests_go_to_messages_with_key_and_version_headers() {
    let (_, seen) = call(
        ProviderKind::Anthropic,
        Reply::json(200, common::success(ProviderKind::Anthropic)),
    )
    .await;
    let sent = &seen[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert!(sent.header("authorization").is_none());
    assert_eq!(
        sent.body["tool_choice"],
        json!({"type": "tool", "name": "label"})
    );
    assert_eq!(sent.body["max_tokens"], 100);
}

#[tokio::test]
async fn gemini_requests_put_the_model_in_the_path_and_the_key_in_a_header() {
    let (result, seen) = call(
        ProviderKind::Gemini,
        Reply::json(200, common::success(ProviderKind::Gemini)),
    )
    .await;
    let sent = &seen[0];
    assert_eq!(sent.path, "/v1beta/models/some-model:generateContent");
    assert_eq!(sent.query, None, "no key in the URL");
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert_eq!(
        sent.body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert_eq!(
        sent.body["generationConfig"]["responseSchema"]["type"],
        "OBJECT"
    );
    let outcome = result.expect("success");
    assert!(!outcome.exchange.url.contains(KEY));
}

#[tokio::test]
async fn instructions_mode_sends_no_native_schema_and_extracts_json_from_prose() {
    for kind in KINDS {
        let fake = serve(Reply::json(200, common::prose_success(kind))).await;
        let outcome = provider(kind, &fake.origin)
            .chat(&request(StructuredOutput::Instructions))
            .await
            .unwrap_or_else(|failure| panic!("{kind:?}: {failure}"));
        assert_eq!(outcome.answer, Ok(json!({"label": "fire"})), "{kind:?}");
        let body = &fake.seen()[0].body;
        for native in ["response_format", "tools", "tool_choice"] {
            assert!(body.get(native).is_none(), "{kind:?} sent {native}");
        }
        assert!(
            body.pointer("/generationConfig/responseSchema").is_none(),
            "{kind:?}"
        );
        assert!(
            body.to_string().contains("only a JSON object"),
            "{kind:?}: the schema goes into the prompt"
        );
    }
}

#[tokio::test]
async fn a_repair_request_quotes_the_validation_errors() {
    for kind in KINDS {
        let fake = serve(Reply::json(200, common::success(kind))).await;
        let mut req = request(StructuredOutput::Native);
        req.repair = Some(Repair {
            previous_answer: "{\"lable\": \"fire\"}".into(),
            errors: vec!["\"label\" is a required property".into()],
        });
        provider(kind, &fake.origin)
            .chat(&req)
            .await
            .expect("success");
        let body = fake.seen()[0].body.to_string();
        assert!(body.contains("did not match the schema"), "{kind:?}");
        assert!(body.contains("is a required property"), "{kind:?}");
        assert!(
            body.contains("lable"),
            "{kind:?}: the previous answer is replayed"
        );
    }
}

#[tokio::test]
async fn prose_without_json_is_an_answer_error_not_a_failure() {
    let body = json!({"choices": [{"message": {"content": "I'd rather not."}}]});
    let (result, _) = call(ProviderKind::OpenAi, Reply::json(200, body)).await;
    let outcome = result.expect("the call itself worked");
    assert!(outcome.answer.expect_err("no JSON").contains("rather not"));
}

#[tokio::test]
async fn status_429_with_retry_after_seconds_is_rate_limited() {
    for kind in KINDS {
        let reply = Reply::json(429, json!({"error": {"message": "slow down"}}))
            .with_header("retry-after", "7");
        let failure = fail(kind, reply).await;
        assert_eq!(
            failure.error,
            CallError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            },
            "{kind:?}"
        );
        assert!(failure.error.is_retryable());
        assert_eq!(
            failure.exchange.as_ref().and_then(|e| e.http_status),
            Some(429)
        );
    }
}

#[tokio::test]
async fn status_429_with_retry_after_ms_uses_the_milliseconds() {
    for kind in KINDS {
        let reply = Reply::json(429, json!({}))
            .with_header("retry-after-ms", "250")
            .with_header("retry-after", "1");
        let failure = fail(kind, reply).await;
        assert_eq!(
            failure.error.retry_after(),
            Some(Duration::from_millis(250)),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn status_429_without_retry_after_is_still_retryable() {
    let failure = fail(ProviderKind::OpenAi, Reply::json(429, json!({}))).await;
    assert_eq!(failure.error, CallError::RateLimited { retry_after: None });
    assert!(failure.error.is_retryable());
}

#[tokio::test]
async fn server_errors_are_retryable() {
    for kind in KINDS {
        let failure = fail(
            kind,
            Reply::json(500, json!({"error": {"message": "boom"}})),
        )
        .await;
        assert_eq!(
            failure.error,
            CallError::Server {
                status: 500,
                retry_after: None
            },
            "{kind:?}"
        );
        assert!(failure.error.is_retryable());
        let exchange = failure.exchange.expect("the exchange is kept");
        assert!(exchange.raw_response.contains("boom"));
    }
    let overloaded = Reply::json(
        529,
        json!({"type": "error", "error": {"type": "overloaded_error"}}),
    )
    .with_header("retry-after", "3");
    let failure = fail(ProviderKind::Anthropic, overloaded).await;
    assert_eq!(
        failure.error,
        CallError::Server {
            status: 529,
            retry_after: Some(Duration::from_secs(3))
        }
    );
}

#[tokio::test]
async fn timeouts_and_conflicts_are_retryable() {
    for status in [408, 409] {
        let failure = fail(ProviderKind::OpenAi, Reply::json(status, json!({}))).await;
        assert!(failure.error.is_retryable(), "{status}");
    }
}

#[tokio::test]
async fn unauthorized_and_forbidden_are_auth_errors() {
    for kind in KINDS {
        for status in [401, 403] {
            let failure = fail(
                kind,
                Reply::json(status, json!({"error": {"message": "Invalid API key"}})),
            )
            .await;
            assert_eq!(
                failure.error,
                CallError::Auth {
                    status,
                    message: "Invalid API key".into()
                },
                "{kind:?}"
            );
            assert!(failure.error.is_auth());
            assert!(!failure.error.is_retryable());
        }
    }
}

#[tokio::test]
async fn gemini_invalid_key_400_is_an_auth_error() {
    let body = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT", "details": [{"reason": "API_KEY_INVALID"}]}});
    let failure = fail(ProviderKind::Gemini, Reply::json(400, body)).await;
    assert!(failure.error.is_auth(), "{:?}", failure.error);
}

#[tokio::test]
async fn bad_requests_are_rejected_with_the_providers_message() {
    for kind in KINDS {
        for status in [400, 404, 422] {
            let failure = fail(
                kind,
                Reply::json(status, json!({"error": {"message": "unknown model"}})),
            )
            .await;
            assert_eq!(
                failure.error,
                CallError::Rejected {
                    status,
                    message: "unknown model".into()
                },
                "{kind:?}"
            );
            assert!(!failure.error.is_retryable());
            assert!(!failure.error.is_auth());
        }
    }
}

#[tokio::test]
async fn a_plain_text_error_body_becomes_the_message() {
    let reply = Reply::Body {
        status: 404,
        headers: vec![],
        body: "404 page not found".into(),
    };
    let failure = fail(ProviderKind::OpenAi, reply).await;
    assert_eq!(
        failure.error,
        CallError::Rejected {
            status: 404,
            message: "404 page not found".into()
        }
    );
}

#[tokio::test]
async fn a_server_that_hangs_past_the_timeout_times_out() {
    for kind in KINDS {
        let fake = serve(Reply::Hang(Duration::from_secs(30))).await;
        let started = Instant::now();
        let failure = provider_with_timeout(kind, &fake.origin, Duration::from_millis(300))
            .chat(&request(StructuredOutput::Native))
            .await
            .expect_err("times out");
        assert_eq!(failure.error, CallError::Timeout, "{kind:?}");
        assert!(failure.error.is_retryable());
        assert!(started.elapsed() < Duration::from_secs(5));
        let exchange = failure.exchange.expect("the request is still shown");
        assert_eq!(exchange.http_status, None);
        assert!(exchange.latency_ms >= 250, "{}", exchange.latency_ms);
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let origin = format!("http://{}", listener.local_addr().expect("bound"));
    drop(listener);
    for kind in KINDS {
        let failure = provider(kind, &origin)
            .chat(&request(StructuredOutput::Native))
            .await
            .expect_err("nobody listens");
        assert!(
            matches!(failure.error, CallError::Connect(_)),
            "{kind:?}: {:?}",
            failure.error
        );
        assert!(failure.error.is_retryable());
    }
}

#[tokio::test]
async fn a_malformed_body_is_a_protocol_error_that_keeps_the_raw_text() {
    for kind in KINDS {
        let reply = Reply::Body {
            status: 200,
            headers: vec![],
            body: "<html>gateway</html>".into(),
        };
        let failure = fail(kind, reply).await;
        assert!(
            matches!(failure.error, CallError::Protocol(_)),
            "{kind:?}: {:?}",
            failure.error
        );
        assert!(!failure.error.is_retryable());
        assert_eq!(
            failure.exchange.expect("kept").raw_response,
            "<html>gateway</html>"
        );
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_protocol_error() {
    for kind in KINDS {
        let failure = fail(kind, Reply::json(200, json!({"unexpected": true}))).await;
        assert!(
            matches!(failure.error, CallError::Protocol(_)),
            "{kind:?}: {:?}",
            failure.error
        );
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    for kind in KINDS {
        let (result, seen) = call(kind, Reply::Redirect).await;
        let failure = result.expect_err("a redirect is refused");
        assert!(
            matches!(&failure.error, CallError::Rejected { status: 302, message } if message.contains("/elsewhere")),
            "{kind:?}: {:?}",
            failure.error
        );
        assert_eq!(
            seen.len(),
            1,
            "{kind:?}: the redirect target was never requested"
        );
    }
}

#[tokio::test]
async fn huge_responses_are_parsed_but_kept_capped() {
    let long = "x".repeat(2 * MAX_RAW_RESPONSE_BYTES);
    let body = json!({"choices": [{"message": {"content": json!({"label": long}).to_string()}}]});
    let (result, _) = call(ProviderKind::OpenAi, Reply::json(200, body)).await;
    let outcome = result.expect("success");
    assert!(outcome.exchange.raw_response.len() <= MAX_RAW_RESPONSE_BYTES);
    assert_eq!(
        outcome.answer.expect("parsed")["label"]
            .as_str()
            .map(str::len),
        Some(long.len())
    );
}

#[tokio::test]
async fn the_key_never_appears_in_exchanges_errors_or_debug_output() {
    let replies = [
        Reply::json(200, json!({})),
        Reply::json(401, json!({"error": {"message": "bad key"}})),
        Reply::json(500, json!({})),
        Reply::Redirect,
    ];
    for kind in KINDS {
        for reply in replies.clone() {
            let reply = match &reply {
                Reply::Body { status: 200, .. } => Reply::json(200, common::success(kind)),
                _ => reply,
            };
            let (result, seen) = call(kind, reply).await;
            assert!(
                seen[0].headers.iter().any(|(_, value)| value.contains(KEY)),
                "the key was sent"
            );
            let (text, exchange) = match &result {
                Ok(outcome) => (format!("{outcome:?}"), Some(outcome.exchange.clone())),
                Err(failure) => (format!("{failure:?} {failure}"), failure.exchange.clone()),
            };
            assert!(!text.contains(KEY), "{kind:?}: {text}");
            let exchange =
                serde_json::to_string(&exchange.expect("an exchange")).expect("serializable");
            assert!(!exchange.contains(KEY), "{kind:?}: {exchange}");
        }
    }
    let config = common::config(
        ProviderKind::Gemini,
        "http://127.0.0.1:1",
        Duration::from_secs(1),
    );
    assert!(!format!("{config:?}").contains(KEY));
    let openai = rowbench_providers::openai::OpenAiCompatible::new(
        "http://x/v1",
        config.api_key.clone(),
        reqwest::Client::new(),
    );
    assert!(!format!("{openai:?}").contains(KEY));
}
