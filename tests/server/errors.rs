//! Every refusal keeps the documented shape `{"error": {"code", "message", "details"}}`: bad path
//! ids and query values, bodies of the wrong type or shape, methods a route does not take,
//! unknown `/api/...` paths, bodies over the limit; bodies refuse fields they do not have and
//! keep the wizard's limits; server functions answer a client's mistake with a 4xx.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const CSV: &str = "id,review,lang\n1,Great phone,en\n2,Bad,en\n";

fn recipe(dataset_id: i64) -> Value {
    json!({
        "dataset_id": dataset_id,
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "review", "role": "include" },
            { "name": "lang", "role": "param", "key": "lang" }
        ]},
        "prompt": { "system": "Answer in {{ system_params.lang }}.", "user": "Review: {{ review }}" },
        "schema": { "fields": [
            { "name": "sentiment", "type": "enum", "options": ["positive", "negative"], "required": true },
            { "name": "score", "type": "number", "required": true }
        ]},
        "settings": { "provider": "demo", "model": "demo-synthetic",
                      "error_policy": { "kind": "continue" } }
    })
}

async fn dataset(app: &TestApp) -> i64 {
    let (status, dataset) = app.upload_csv("?name=reviews", CSV).await;
    assert_eq!(status, 201, "{dataset}");
    dataset["id"].as_i64().expect("dataset id")
}

/// A dataset and a batch over it.
async fn batch(app: &TestApp) -> (i64, i64) {
    let dataset = dataset(app).await;
    let (status, batch) = app.post_json("/api/batches", &recipe(dataset)).await;
    assert_eq!(status, 201, "{batch}");
    (dataset, batch["id"].as_i64().expect("batch id"))
}

/// An answer: status, headers, and the body as JSON (the test fails, naming `case` and showing
/// the body, when it is not JSON).
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn send(
    app: &TestApp,
    case: &str,
    method: Method,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("accept", "application/json");
    if let Some((content_type, bytes)) = body {
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        request = request.body(bytes);
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!("{case}: the answer ({status}) is not JSON: {text:?}");
    });
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &TestApp, case: &str, path: &str) -> Answer {
    send(app, case, Method::GET, path, None).await
}

async fn send_json(app: &TestApp, case: &str, method: Method, path: &str, body: &str) -> Answer {
    send(
        app,
        case,
        method,
        path,
        Some(("application/json", body.as_bytes().to_vec())),
    )
    .await
}

/// Asserts the documented error shape with this status and code; the error's details.
fn assert_error(case: &str, answer: &Answer, status: u16, code: &str) -> Value {
    let body = &answer.body;
    assert_eq!(answer.status, status, "{case}: status; body {body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{case}: code; body {body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{case}: a message; body {body}"
    );
    assert!(
        error.as_object().is_some_and(|e| e.contains_key("details")),
        "{case}: details; body {body}"
    );
    assert_eq!(
        answer.headers["content-type"], "application/json",
        "{case}: content type"
    );
    error["details"].clone()
}

// Path ids.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_word_as_a_dataset_id_answers_invalid_parameter_naming_id() {
    let app = spawn_app().await;
    for path in ["/api/datasets/abc", "/api/datasets/abc/rows"] {
        let answer = get(&app, path, path).await;
        let details = assert_error(path, &answer, 400, "invalid_parameter");
        assert_eq!(details["parameter"], "id", "{path}: {details}");
        assert_eq!(details["value"], "abc", "{path}: {details}");
    }
    let answer = send_json(
        &app,
        "PATCH /api/datasets/abc",
        Method::PATCH,
        "/api/datasets/abc",
        r#"{"name": "x"}"#,
    )
    .await;
    let details = assert_error("PATCH", &answer, 400, "invalid_parameter");
    assert_eq!(details["parameter"], "id", "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_beyond_i64_answers_invalid_parameter_instead_of_plain_text() {
    let app = spawn_app().await;
    for path in [
        "/api/datasets/18446744073709551616",
        "/api/datasets/9223372036854775808/rows",
        "/api/batches/18446744073709551616",
        "/api/batches/9223372036854775808/export",
    ] {
        let answer = get(&app, path, path).await;
        let details = assert_error(path, &answer, 400, "invalid_parameter");
        assert_eq!(details["parameter"], "id", "{path}: {details}");
        let message = answer.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("whole number"), "{path}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_word_as_a_batch_id_answers_invalid_parameter_on_every_batch_route() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/batches/abc"),
        (Method::DELETE, "/api/batches/abc"),
        (Method::GET, "/api/batches/abc/charts"),
        (Method::GET, "/api/batches/abc/rows"),
        (Method::GET, "/api/batches/abc/rows/0"),
        (Method::POST, "/api/batches/abc/pause"),
        (Method::POST, "/api/batches/abc/rows/0/retry"),
        (Method::GET, "/api/batches/abc/export"),
        (Method::GET, "/api/batches/abc/events"),
    ] {
        let case = format!("{method} {path}");
        let answer = send(&app, &case, method, path, None).await;
        let details = assert_error(&case, &answer, 400, "invalid_parameter");
        assert_eq!(details["parameter"], "id", "{case}: {details}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_word_as_a_row_number_names_the_row_parameter() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/batches/1/rows/first"),
        (Method::POST, "/api/batches/1/rows/first/retry"),
    ] {
        let case = format!("{method} {path}");
        let answer = send(&app, &case, method, path, None).await;
        let details = assert_error(&case, &answer, 400, "invalid_parameter");
        assert_eq!(details["parameter"], "row", "{case}: {details}");
        assert_eq!(details["value"], "first", "{case}: {details}");
    }
}

// Query values.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_size_or_cursor_that_is_not_a_number_names_the_query_parameter() {
    let app = spawn_app().await;
    let (dataset, batch) = batch(&app).await;
    for (path, parameter) in [
        (format!("/api/datasets/{dataset}/rows?limit=ten"), "limit"),
        (format!("/api/datasets/{dataset}/rows?limit=-1"), "limit"),
        (format!("/api/datasets/{dataset}/rows?after=x"), "after"),
        (
            format!("/api/datasets/{dataset}/rows?limit=1&limit=2"),
            "limit",
        ),
        (format!("/api/batches/{batch}/rows?limit=ten"), "limit"),
        (format!("/api/batches/{batch}/rows?after=x"), "after"),
        (
            format!("/api/batches/{batch}/rows?after=18446744073709551616"),
            "after",
        ),
    ] {
        let answer = get(&app, &path, &path).await;
        let details = assert_error(&path, &answer, 400, "invalid_parameter");
        assert_eq!(details["parameter"], parameter, "{path}: {details}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_delimiter_on_upload_names_the_parameter() {
    let app = spawn_app().await;
    let (status, body) = app.upload_csv("?delimiter=colon", "a:b\n1:2\n").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_parameter", "{body}");
    assert_eq!(body["error"]["details"]["parameter"], "delimiter", "{body}");
}

// Bodies: type, syntax, shape.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_without_a_json_content_type_answers_415_json() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let path = format!("/api/datasets/{id}");
    for content_type in ["", "text/plain"] {
        let case = format!("PATCH with content-type {content_type:?}");
        let body = Some((content_type, br#"{"name":"x"}"#.to_vec()));
        let answer = send(&app, &case, Method::PATCH, &path, body).await;
        assert_error(&case, &answer, 415, "unsupported_media_type");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_body_without_a_json_content_type_answers_415() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let body = Some(("text/plain", recipe(id).to_string().into_bytes()));
    let answer = send(&app, "POST text/plain", Method::POST, "/api/batches", body).await;
    let details = assert_error("POST text/plain", &answer, 415, "unsupported_media_type");
    assert_eq!(details["content_type"], "text/plain", "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_answers_invalid_json_with_its_line_and_column() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let rename = format!("/api/datasets/{id}");
    for (case, method, path, body, line) in [
        (
            "rename, trailing comma",
            Method::PATCH,
            rename.as_str(),
            "{\"name\": \"x\",\n}",
            2,
        ),
        ("rename, empty body", Method::PATCH, rename.as_str(), "", 1),
        (
            "batch, unclosed",
            Method::POST,
            "/api/batches",
            "{\n\"dataset_id\": 1,\n",
            3,
        ),
    ] {
        let answer = send_json(&app, case, method, path, body).await;
        let details = assert_error(case, &answer, 400, "invalid_json");
        assert_eq!(details["line"], line, "{case}: {details}");
        assert!(details["column"].is_u64(), "{case}: {details}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_with_the_wrong_type_or_no_name_names_the_field() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let path = format!("/api/datasets/{id}");
    let answer = send_json(&app, "number", Method::PATCH, &path, r#"{"name": 5}"#).await;
    let details = assert_error("a number as name", &answer, 422, "invalid_field");
    assert_eq!(details["field"], "name", "{details}");

    let answer = send_json(&app, "no name", Method::PATCH, &path, "{}").await;
    let details = assert_error("no name", &answer, 422, "missing_field");
    assert_eq!(details["field"], "name", "{details}");

    let answer = send_json(&app, "array", Method::PATCH, &path, r#"["x"]"#).await;
    assert_error("an array as body", &answer, 422, "invalid_field");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_deep_in_a_batch_body_names_the_field() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let mut too_big = recipe(id);
    too_big["dataset_id"] = json!(18446744073709551616_f64);
    let mut concurrency = recipe(id);
    concurrency["settings"]["concurrency"] = json!("two");
    let mut required = recipe(id);
    required["schema"]["fields"][1]["required"] = json!("yes");
    let mut prompt_list = recipe(id);
    prompt_list["prompt"] = json!(["system", "user"]);
    let mut no_prompt = recipe(id);
    no_prompt.as_object_mut().expect("object").remove("prompt");
    for (case, body, code, field) in [
        (
            "a dataset id beyond i64",
            too_big,
            "invalid_field",
            "dataset_id",
        ),
        (
            "concurrency as text",
            concurrency,
            "invalid_field",
            "settings.concurrency",
        ),
        (
            "required as text",
            required,
            "invalid_field",
            "schema.fields[1].required",
        ),
        (
            "the prompt as an array",
            prompt_list,
            "invalid_field",
            "prompt",
        ),
        ("no prompt", no_prompt, "missing_field", "prompt"),
    ] {
        let answer = send_json(&app, case, Method::POST, "/api/batches", &body.to_string()).await;
        let details = assert_error(case, &answer, 422, code);
        assert_eq!(details["field"], field, "{case}: {details}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_over_the_limit_answers_413_json() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let name = "x".repeat(3 * 1024 * 1024);
    let body = json!({ "name": name }).to_string();
    let path = format!("/api/datasets/{id}");
    let answer = send_json(&app, "3 MB rename", Method::PATCH, &path, &body).await;
    let details = assert_error("3 MB rename", &answer, 413, "too_large");
    assert!(details["limit_bytes"].is_u64(), "{details}");

    let body = json!({ "dataset_id": id, "pad": name }).to_string();
    let answer = send_json(&app, "3 MB batch", Method::POST, "/api/batches", &body).await;
    assert_error("3 MB batch", &answer, 413, "too_large");
}

// Unknown fields.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_with_an_unknown_field_is_refused_naming_it() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let path = format!("/api/datasets/{id}");
    let body = r#"{"name": "Renamed", "file_name": "other.csv"}"#;
    let answer = send_json(&app, "rename", Method::PATCH, &path, body).await;
    let details = assert_error("rename", &answer, 422, "unknown_field");
    assert_eq!(details["field"], "file_name", "{details}");
    let dataset = app.get_json(&path).await;
    assert_eq!(dataset["name"], "reviews", "nothing was renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_anywhere_in_a_batch_body_are_refused_naming_them() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    // (case, the object given the field as a JSON pointer, the field, its value, its path)
    for (case, object, key, value, field) in [
        ("at the top", "", "name", json!("x"), "name"),
        (
            "in a column",
            "/mapping/columns/1",
            "colour",
            json!("red"),
            "mapping.columns[1].colour",
        ),
        (
            "a key on an included column",
            "/mapping/columns/1",
            "key",
            json!("review"),
            "mapping.columns[1].key",
        ),
        (
            "in the mapping",
            "/mapping",
            "keys",
            json!([]),
            "mapping.keys",
        ),
        (
            "in the prompt",
            "/prompt",
            "assistant",
            json!("x"),
            "prompt.assistant",
        ),
        (
            "in the schema",
            "/schema",
            "strict",
            json!(true),
            "schema.strict",
        ),
        (
            "options on a number field",
            "/schema/fields/1",
            "options",
            json!(["1"]),
            "schema.fields[1].options",
        ),
        (
            "in a field",
            "/schema/fields/0",
            "min",
            json!(1),
            "schema.fields[0].min",
        ),
        (
            "a misspelt setting",
            "/settings",
            "temprature",
            json!(0.5),
            "settings.temprature",
        ),
        (
            "in the error policy",
            "/settings/error_policy",
            "errors",
            json!(3),
            "settings.error_policy.errors",
        ),
    ] {
        let mut body = recipe(id);
        body.pointer_mut(object)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{case}: {object} is an object"))
            .insert(key.to_string(), value);
        let answer = send_json(&app, case, Method::POST, "/api/batches", &body.to_string()).await;
        let details = assert_error(case, &answer, 422, "unknown_field");
        assert_eq!(details["field"], field, "{case}: {details}");
    }
    let list = app.get_json("/api/batches").await;
    assert_eq!(list["batches"], json!([]), "no batch was started");
}

// The wizard's limits.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_with_more_fields_than_the_wizard_allows_is_refused() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let mut body = recipe(id);
    let fields: Vec<Value> = (0..101)
        .map(|i| json!({ "name": format!("f{i}"), "type": "string" }))
        .collect();
    body["schema"]["fields"] = json!(fields);
    let answer = send_json(
        &app,
        "101 fields",
        Method::POST,
        "/api/batches",
        &body.to_string(),
    )
    .await;
    let details = assert_error("101 fields", &answer, 422, "too_many_fields");
    assert_eq!(details["field"], "schema.fields", "{details}");
    assert_eq!(details["limit"], 100, "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_larger_than_the_wizard_allows_are_refused() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let mut body = recipe(id);
    body["prompt"]["system"] = json!("x".repeat(200_001));
    let answer = send_json(
        &app,
        "200 KB",
        Method::POST,
        "/api/batches",
        &body.to_string(),
    )
    .await;
    let details = assert_error("200 KB system prompt", &answer, 422, "template_too_large");
    assert_eq!(details["field"], "prompt", "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipe_the_wizard_would_block_names_the_part_to_fix() {
    let app = spawn_app().await;
    let id = dataset(&app).await;
    let mut body = recipe(id);
    body["schema"]["fields"][0]["name"] = json!("n".repeat(65));
    let answer = send_json(
        &app,
        "long name",
        Method::POST,
        "/api/batches",
        &body.to_string(),
    )
    .await;
    let details = assert_error("a 65-character field name", &answer, 422, "invalid_recipe");
    assert_eq!(details["field"], "schema", "{details}");

    let mut body = recipe(id);
    body["settings"]["concurrency"] = json!(65);
    let answer = send_json(
        &app,
        "concurrency",
        Method::POST,
        "/api/batches",
        &body.to_string(),
    )
    .await;
    let details = assert_error("concurrency 65", &answer, 422, "invalid_recipe");
    assert_eq!(details["field"], "settings", "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_name_longer_than_the_pages_allow_is_refused() {
    let app = spawn_app().await;
    let name = "n".repeat(201);
    let (status, body) = app.upload_csv(&format!("?name={name}"), CSV).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_name", "{body}");
    assert_eq!(body["error"]["details"]["parameter"], "name", "{body}");
}

// Methods and paths.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_route_does_not_take_answers_405_json_and_keeps_allow() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::PUT, "/api/batches"),
        (Method::GET, "/api/datasets"),
        (Method::DELETE, "/api/datasets/1"),
        (Method::POST, "/api/batches/1"),
        (Method::GET, "/api/batches/1/pause"),
        (Method::DELETE, "/api/batches/1/rows"),
        (Method::POST, "/api/batches/1/export"),
        (Method::POST, "/api/batches/1/events"),
    ] {
        let case = format!("{method} {path}");
        let answer = send(&app, &case, method.clone(), path, None).await;
        let details = assert_error(&case, &answer, 405, "method_not_allowed");
        assert_eq!(details["method"], method.as_str(), "{case}: {details}");
        let allow = answer
            .headers
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{case}: an Allow header"));
        assert!(!allow.is_empty(), "{case}: Allow");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_api_path_answers_json_404_instead_of_the_html_page() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::GET, "/api"),
        (Method::GET, "/api/"),
        (Method::POST, "/api/nope"),
        (Method::GET, "/api/datasets/1/columns"),
        (Method::GET, "/api/batches/1/rows/0/attempts"),
    ] {
        let case = format!("{method} {path}");
        let answer = send(&app, &case, method, path, None).await;
        let details = assert_error(&case, &answer, 404, "not_found");
        assert_eq!(details["path"], path, "{case}: {details}");
    }
    // Pages are unchanged.
    assert!(app.get_text("/nope", 404).await.contains("<html"));
}

// Server functions.

async fn rpc(app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .client
        .post(app.url(&format!("/rpc/{endpoint}")))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .expect("answered");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

async fn rpc_json(app: &TestApp, endpoint: &str, body: &Value) -> (u16, String) {
    let response = app
        .client
        .post(app.url(&format!("/rpc/{endpoint}")))
        .header("accept", "application/json")
        .json(body)
        .send()
        .await
        .expect("answered");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_404_for_a_missing_batch_or_dataset() {
    let app = spawn_app().await;
    for (endpoint, form, text) in [
        ("load_batch", [("id", "999")], "Batch 999"),
        ("delete_batch", [("id", "999")], "Batch 999"),
        ("batch_facts", [("id", "999")], "999"),
        ("use_dataset", [("id", "999")], "The dataset"),
    ] {
        let (status, body) = rpc(&app, endpoint, &form).await;
        assert_eq!(status, 404, "{endpoint}: {body}");
        assert!(body.contains(text), "{endpoint}: {body}");
    }
    let (status, body) = rpc(&app, "rename_dataset", &[("id", "999"), ("name", "x")]).await;
    assert_eq!(status, 404, "rename_dataset: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_400_for_invalid_input_with_its_message() {
    let app = spawn_app().await;
    let fields: Vec<Value> = (0..101)
        .map(|i| json!({ "name": format!("f{i}"), "type": "string" }))
        .collect();
    let (status, body) = rpc_json(
        &app,
        "save_schema",
        &json!({ "schema": { "fields": fields } }),
    )
    .await;
    assert_eq!(status, 400, "save_schema: {body}");
    assert!(body.contains("at most 100 fields"), "{body}");

    let id = dataset(&app).await.to_string();
    let long = "n".repeat(201);
    let (status, body) = rpc(&app, "rename_dataset", &[("id", &id), ("name", &long)]).await;
    assert_eq!(status, 400, "rename_dataset: {body}");
    assert!(body.contains("1 to 200 characters"), "{body}");

    let (status, body) = rpc(&app, "save_step", &[("step", "nowhere")]).await;
    assert_eq!(status, 400, "save_step: {body}");
    assert!(body.contains("`nowhere`"), "{body}");

    let (status, body) = rpc(&app, "load_batch", &[("id", "abc")]).await;
    assert_eq!(status, 400, "load_batch id=abc: {body}");

    let (status, body) = rpc_json(&app, "save_schema", &json!({ "schema": 5 })).await;
    assert_eq!(status, 400, "save_schema with a number: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_html_form_that_fails_is_still_sent_back_to_its_page() {
    let app = spawn_app().await;
    let referer = app.url("/batches/999");
    let response = app
        .client
        .post(app.url("/rpc/load_batch"))
        .header("accept", "text/html")
        .header("referer", &referer)
        .form(&[("id", "999")])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 302, "the redirect stays");
    let location = response.headers()["location"].to_str().expect("location");
    assert!(location.starts_with(&referer), "{location}");
}

/// What the server answers to `request` sent as raw bytes on a connection of its own.
async fn raw_answer(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn json_body(answer: &str) -> Value {
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_64_kb_is_refused_with_414_in_the_json_error_shape() {
    let app = spawn_app().await;
    let path = format!("/api/batches?q={}", "a".repeat(70_000));
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\n\r\n",
        app.address.trim_start_matches("http://")
    );
    let answer = raw_answer(&app, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    assert_eq!(json_body(&answer)["error"]["code"], "uri_too_long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_not_http_are_refused_with_400_in_the_json_error_shape() {
    let app = spawn_app().await;
    let answer = raw_answer(&app, b"HELLO\x01 there\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(json_body(&answer)["error"]["code"], "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_headers_are_refused_with_431_in_the_json_error_shape() {
    let app = spawn_app().await;
    let mut request = format!(
        "GET /api/batches HTTP/1.1\r\nhost: {}\r\n",
        app.address.trim_start_matches("http://")
    );
    for i in 0..150 {
        request += &format!("x-filler-{i}: {i}\r\n");
    }
    request += "\r\n";
    let answer = raw_answer(&app, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert_eq!(json_body(&answer)["error"]["code"], "headers_too_large");
}
