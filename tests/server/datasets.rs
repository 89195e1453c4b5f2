use rowbench_store::testing;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// How many datasets and dataset rows the server has stored.
async fn stored_counts(app: &TestApp) -> (i64, i64) {
    let db = app.database().await;
    (
        testing::scalar_i64(&db, "SELECT count(*) FROM datasets", &[]).await,
        testing::scalar_i64(&db, "SELECT count(*) FROM dataset_rows", &[]).await,
    )
}

/// The error object of an API error answer.
fn error(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().expect("error code"),
        body["error"]["message"].as_str().expect("error message"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_semicolon_csv_with_quoted_newlines_becomes_a_dataset_with_stats_and_preview() {
    let app = spawn_app().await;
    let csv =
        "name;comment;stars\r\nAnn;\"Great; would buy\nagain\";5\r\nBob;\"said \"\"meh\"\"\";\r\n";
    let (status, body) = app.upload_csv("?filename=reviews.csv", csv).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "reviews");
    assert_eq!(body["delimiter"], "semicolon");
    assert_eq!(body["encoding"], "UTF-8");
    assert_eq!(body["row_count"], 2);
    assert_eq!(body["columns"][0]["name"], "name");
    assert_eq!(body["columns"][2]["fill_rate"], 0.5);
    assert_eq!(
        body["preview"][0]["cells"],
        json!(["Ann", "Great; would buy\nagain", "5"])
    );
    assert_eq!(
        body["preview"][1]["cells"],
        json!(["Bob", "said \"meh\"", ""])
    );
    assert_eq!(
        body["preview"][1]["line"], 4,
        "the second row starts on line 4"
    );

    let id = body["id"].as_i64().expect("id");
    let shown: Value = app
        .get(&format!("/api/datasets/{id}"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(shown, body, "GET answers what POST answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_takes_its_name_from_the_file() {
    let app = spawn_app().await;
    let part = reqwest::multipart::Part::bytes(b"a,b\n1,2\n".to_vec()).file_name("Q3 tickets.csv");
    let form = reqwest::multipart::Form::new()
        .text("note", "ignored")
        .part("file", part);
    let response = app
        .client
        .post(app.url("/api/datasets"))
        .multipart(form)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["name"], "Q3 tickets");
    assert_eq!(body["file_name"], "Q3 tickets.csv");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_form_without_a_file_field_is_refused() {
    let app = spawn_app().await;
    let form = reqwest::multipart::Form::new().text("other", "a,b\n1,2\n");
    let response = app
        .client
        .post(app.url("/api/datasets"))
        .multipart(form)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(error(&body).0, "missing_file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_1252_text_is_detected_and_decoded() {
    let app = spawn_app().await;
    let mut csv = b"city,country\n".to_vec();
    csv.extend_from_slice(b"K\xf6ln,Deutschland\nS\xe3o Paulo,Brasil\nZ\xfcrich,Schweiz\n");
    let (status, body) = app.upload_csv("", csv).await;
    assert_eq!(status, 201, "{body}");
    assert_ne!(body["encoding"], "UTF-8");
    assert_eq!(body["preview"][0]["cells"][0], "Köln");
    assert_eq!(body["preview"][1]["cells"][0], "São Paulo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blank_and_repeated_headers_are_renamed_and_reported() {
    let app = spawn_app().await;
    let (status, body) = app.upload_csv("", "id,,id\n1,2,3\n").await;
    assert_eq!(status, 201, "{body}");
    let names: Vec<&str> = body["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["id", "column_2", "id_2"]);
    assert_eq!(body["renames"].as_array().expect("renames").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_is_refused_with_its_reason() {
    let app = spawn_app().await;
    let (status, body) = app.upload_csv("", "").await;
    assert_eq!(status, 422);
    assert_eq!(error(&body), ("empty_file", "the file is empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_only_a_header_is_refused() {
    let app = spawn_app().await;
    let (status, body) = app.upload_csv("", "a,b,c\n").await;
    assert_eq!(status, 422);
    assert_eq!(
        error(&body),
        ("header_only", "the file has a header row but no data rows")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ragged_row_is_refused_naming_its_line_and_field_counts() {
    let app = spawn_app().await;
    let (status, body) = app.upload_csv("", "a,b,c\n1,2,3\n4,5\n").await;
    assert_eq!(status, 422);
    assert_eq!(
        error(&body),
        ("ragged_row", "line 3 has 2 fields but the header has 3")
    );
    assert_eq!(
        body["error"]["details"],
        json!({ "line": 3, "expected": 3, "found": 2 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ragged_rows_are_padded_or_truncated_when_asked() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_csv("?ragged=pad", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["fixed_rows"], 2);
    assert_eq!(body["preview"][1]["cells"], json!(["4", "5", ""]));
    assert_eq!(body["preview"][2]["cells"], json!(["6", "7", "8"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unterminated_quote_names_the_line_where_the_field_started() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_csv("", "a,b\n1,2\n3,\"never closed\n4,5\n")
        .await;
    assert_eq!(status, 422);
    let (code, message) = error(&body);
    assert_eq!(code, "unterminated_quote");
    assert!(
        message.starts_with("line 3 starts a quoted field that is never closed"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_file_is_refused_as_not_text() {
    let app = spawn_app().await;
    let png =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06".to_vec();
    let (status, body) = app.upload_csv("", png).await;
    assert_eq!(status, 415);
    let (code, message) = error(&body);
    assert_eq!(code, "not_text");
    assert!(
        message.starts_with("this is not a CSV text file"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_byte_limit_is_refused_with_the_limit() {
    let app = spawn_app_with(|c| c.limits.max_bytes = 1024).await;
    let mut csv = String::from("id,text\n");
    for i in 0..200 {
        csv.push_str(&format!("{i},some text here\n"));
    }
    let (status, body) = app.upload_csv("", csv).await;
    assert_eq!(status, 413);
    assert_eq!(
        error(&body),
        ("too_large", "the file is larger than the 1 KiB limit")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_columns_than_the_limit_are_refused() {
    let app = spawn_app_with(|c| c.limits.max_columns = 3).await;
    let (status, body) = app.upload_csv("", "a,b,c,d\n1,2,3,4\n").await;
    assert_eq!(status, 422);
    assert_eq!(
        error(&body),
        (
            "too_many_columns",
            "the header has 4 columns, more than the limit of 3"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_longer_than_the_limit_names_its_line_and_column() {
    let app = spawn_app_with(|c| c.limits.max_field_bytes = 10).await;
    let (status, body) = app
        .upload_csv("", "id,text\n1,short\n2,this is far too long\n")
        .await;
    assert_eq!(status, 422);
    let (code, message) = error(&body);
    assert_eq!(code, "field_too_long");
    assert!(
        message.starts_with("line 3: the value in column \"text\" is longer than"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upload_leaves_nothing_behind() {
    let app = spawn_app().await;
    let (status, _) = app.upload_csv("", "a,b\n1,2\n3\n").await;
    assert_eq!(status, 422);
    assert_eq!(stored_counts(&app).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_is_not_csv_is_refused_by_its_content_type() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/datasets"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 415);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(error(&body).0, "unsupported_media_type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_paged_by_keyset_with_a_cursor_to_the_next_page() {
    let app = spawn_app().await;
    let mut csv = String::from("n\n");
    for i in 0..250 {
        csv.push_str(&format!("{i}\n"));
    }
    let (status, body) = app.upload_csv("", csv).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().expect("id");

    let mut seen = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let query = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let page: Value = app
            .get(&format!("/api/datasets/{id}/rows?limit=100{query}"))
            .await
            .json()
            .await
            .expect("JSON");
        for row in page["rows"].as_array().expect("rows") {
            seen.push(row["cells"][0].as_str().expect("cell").to_string());
        }
        match page["next_after"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..250).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_page_size_and_an_unknown_dataset_get_clear_errors() {
    let app = spawn_app().await;
    let (_, body) = app.upload_csv("", "a\n1\n").await;
    let id = body["id"].as_i64().expect("id");

    let response = app.get(&format!("/api/datasets/{id}/rows?limit=0")).await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        error(&body),
        (
            "invalid_parameter",
            "limit must be between 1 and 1000, not 0"
        )
    );

    let response = app.get("/api/datasets/999").await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(error(&body), ("not_found", "The dataset was not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_can_be_renamed_but_not_to_nothing() {
    let app = spawn_app().await;
    let (_, body) = app.upload_csv("?filename=x.csv", "a\n1\n").await;
    let id = body["id"].as_i64().expect("id");
    let url = app.url(&format!("/api/datasets/{id}"));

    let renamed = app
        .client
        .patch(&url)
        .json(&json!({ "name": "  Support tickets Q3 " }))
        .send()
        .await
        .expect("answered");
    assert_eq!(renamed.status().as_u16(), 200);
    assert_eq!(
        renamed.json::<Value>().await.expect("JSON")["name"],
        "Support tickets Q3"
    );

    let refused = app
        .client
        .patch(&url)
        .json(&json!({ "name": "   " }))
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status().as_u16(), 422);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(error(&body).0, "invalid_name");
    let shown: Value = app
        .get(&format!("/api/datasets/{id}"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        shown["name"], "Support tickets Q3",
        "a refused rename loses nothing"
    );

    let missing = app
        .client
        .patch(app.url("/api/datasets/999"))
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_off_mid_stream_leaves_nothing_behind() {
    let app = spawn_app().await;
    let mut head = String::from("id,text\n");
    for i in 0..20_000 {
        head.push_str(&format!("{i},row number {i}\n"));
    }
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(head.into_bytes()),
        Err(std::io::Error::other("the client went away")),
    ];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let sent = app
        .client
        .post(app.url("/api/datasets"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await;
    if let Ok(response) = sent {
        assert!(!response.status().is_success(), "{}", response.status());
    }

    // The server notices the broken body, stops, and removes what it had stored.
    let mut left = (1, 1);
    for _ in 0..50 {
        left = stored_counts(&app).await;
        if left == (0, 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, (0, 0));
}
