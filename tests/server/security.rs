//! Other web pages cannot steer the server: foreign `Host` names are refused (DNS rebinding),
//! state-changing requests from other origins are refused (cross-site forms and fetches), and
//! every response carries the security headers, with a CSP whose nonce signs every inline script.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const FOREIGN: &str = "http://evil.example";

/// A dataset long enough that a batch over it at concurrency 1 is still running when the test
/// is over (the demo provider takes 150 ms a row).
fn long_csv() -> String {
    let mut csv = String::from("id,review\n");
    for i in 0..300 {
        csv.push_str(&format!("{i},review number {i}\n"));
    }
    csv
}

fn recipe(dataset_id: i64) -> Value {
    json!({
        "dataset_id": dataset_id,
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "review", "role": "include" }
        ]},
        "prompt": { "system": "Classify the review.", "user": "Review: {{ review }}" },
        "schema": { "fields": [
            { "name": "sentiment", "type": "enum", "options": ["positive", "negative"], "required": true }
        ]},
        "settings": { "provider": "demo", "model": "demo-synthetic", "concurrency": 1 }
    })
}

/// A dataset and a batch over it, running.
async fn running_batch(app: &TestApp) -> (i64, i64) {
    let (status, dataset) = app.upload_csv("?name=reviews", long_csv()).await;
    assert_eq!(status, 201, "{dataset}");
    let dataset = dataset["id"].as_i64().expect("dataset id");
    let (status, batch) = app.post_json("/api/batches", &recipe(dataset)).await;
    assert_eq!(status, 201, "{batch}");
    (dataset, batch["id"].as_i64().expect("batch id"))
}

/// A request body: its content type and its text.
type Body = Option<(&'static str, String)>;

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// `method path` with `headers` and an optional (content type, body).
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Answer {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some((content_type, body)) = body {
        request = request.header("content-type", content_type).body(body);
    }
    let response = request.send().await.expect("answered");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

fn port(app: &TestApp) -> u16 {
    app.address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port in the address")
}

/// The error code of a refusal, checking the documented error shape on the way.
fn error_code(answer: &Answer) -> String {
    let body = answer.json();
    let error = &body["error"];
    assert!(
        error["message"].is_string() && error.get("details").is_some(),
        "the documented error shape: {body}"
    );
    error["code"].as_str().expect("code").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_a_foreign_host_is_refused_with_421_naming_the_host_and_how_to_allow_it() {
    let app = spawn_app().await;
    let other_port = format!("localhost:{}", port(&app) + 1);
    let evil_with_port = format!("evil.example:{}", port(&app));
    for host in ["evil.example", evil_with_port.as_str(), other_port.as_str()] {
        for path in [
            "/",
            "/healthz",
            "/api/batches",
            "/favicon.svg",
            "/pkg/rowbench.js",
        ] {
            let answer = send(&app, Method::GET, path, &[("host", host)], None).await;
            assert_eq!(answer.status, 421, "GET {path} for {host}: {}", answer.body);
            assert_eq!(error_code(&answer), "unknown_host");
            let message = answer.json()["error"]["message"].to_string();
            assert!(
                message.contains(host) && message.contains("ROWBENCH_ALLOWED_HOSTS"),
                "{message}"
            );
            assert_eq!(answer.json()["error"]["details"]["host"], host);
        }
    }
    let answer = send(
        &app,
        Method::POST,
        "/api/datasets",
        &[("host", "evil.example")],
        Some(("text/csv", "a,b\n1,2\n".into())),
    )
    .await;
    assert_eq!(answer.status, 421, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localhost_127_0_0_1_and_ipv6_loopback_are_answered_with_the_bound_port_only() {
    let app = spawn_app().await;
    let port = port(&app);
    for name in ["localhost", "LocalHost", "127.0.0.1", "[::1]"] {
        for path in ["/healthz", "/"] {
            let host = format!("{name}:{port}");
            let answer = send(&app, Method::GET, path, &[("host", &host)], None).await;
            assert_eq!(answer.status, 200, "{path} for {host}: {}", answer.body);
            // Another port is another server's, or a rebinding page's way in.
            let host = format!("{name}:{}", port + 1);
            let answer = send(&app, Method::GET, path, &[("host", &host)], None).await;
            assert_eq!(answer.status, 421, "{path} for {host}: {}", answer.body);
            let answer = send(&app, Method::GET, path, &[("host", name)], None).await;
            assert_eq!(answer.status, 421, "{path} for {name}: {}", answer.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_in_the_allowlist_is_answered_and_may_post_from_its_own_origin() {
    let app = spawn_app_with(|config| {
        config.allowed_hosts = vec![
            "rowbench.lan".parse().expect("host"),
            "proxy.example:8443".parse().expect("host"),
        ];
    })
    .await;
    for host in ["rowbench.lan", "rowbench.lan:3000", "proxy.example:8443"] {
        let answer = send(&app, Method::GET, "/healthz", &[("host", host)], None).await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.body);
    }
    let answer = send(
        &app,
        Method::GET,
        "/healthz",
        &[("host", "proxy.example")],
        None,
    )
    .await;
    assert_eq!(answer.status, 421, "a listed port is the only port");

    let answer = send(
        &app,
        Method::POST,
        "/api/datasets?filename=a.csv",
        &[("host", "rowbench.lan"), ("origin", "http://rowbench.lan")],
        Some(("text/csv", "a,b\n1,2\n".into())),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let answer = send(
        &app,
        Method::POST,
        "/api/datasets?filename=a.csv",
        &[
            ("host", "rowbench.lan"),
            ("origin", "http://proxy.example:8443"),
        ],
        Some(("text/csv", "a,b\n1,2\n".into())),
    )
    .await;
    assert_eq!(
        answer.status, 403,
        "another allowed name is still another origin: {}",
        answer.body
    );
}

/// Every `endpoint = "..."` of a `#[server]` function in the app, read from its sources so a
/// new server function is covered without editing this test.
fn server_functions() -> Vec<String> {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("app sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("source");
                for line in source
                    .lines()
                    .filter(|l| l.trim_start().starts_with("#[server"))
                {
                    let endpoint = line
                        .split("endpoint = \"")
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                        .unwrap_or_else(|| {
                            panic!(
                                "{}: a server function without an endpoint: {line}",
                                path.display()
                            )
                        });
                    found.push(endpoint.to_string());
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("app/src"),
        &mut found,
    );
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_refused_with_403_on_every_state_changing_route() {
    let app = spawn_app().await;
    let (dataset, batch) = running_batch(&app).await;
    let json_body = || Some(("application/json", "{}".to_string()));
    let mut routes: Vec<(Method, String, Body)> = vec![
        (
            Method::POST,
            "/api/datasets?filename=x.csv".into(),
            Some(("text/plain", "a,b\n1,2\n".into())),
        ),
        (
            Method::POST,
            "/api/datasets".into(),
            Some(("text/csv", "a,b\n1,2\n".into())),
        ),
        (
            Method::PATCH,
            format!("/api/datasets/{dataset}"),
            Some(("application/json", r#"{"name":"pwned"}"#.into())),
        ),
        (
            Method::POST,
            "/api/batches".into(),
            Some(("application/json", recipe(dataset).to_string())),
        ),
        (
            Method::POST,
            format!("/api/batches/{batch}/rows/0/retry"),
            json_body(),
        ),
        (Method::DELETE, format!("/api/batches/{batch}"), None),
    ];
    for action in [
        "start",
        "pause",
        "resume",
        "cancel",
        "retry-failed",
        "run-remaining",
    ] {
        routes.push((
            Method::POST,
            format!("/api/batches/{batch}/{action}"),
            json_body(),
        ));
    }
    let functions = server_functions();
    assert!(
        functions.len() >= 20 && functions.iter().any(|f| f == "control_batch"),
        "{functions:?}"
    );
    for function in &functions {
        routes.push((
            Method::POST,
            format!("/rpc/{function}"),
            Some((
                "application/x-www-form-urlencoded",
                format!("id={batch}&action=cancel&step=prompt&name=pwned"),
            )),
        ));
    }

    for origin in [FOREIGN, "null", "http://127.0.0.1:1"] {
        for (method, path, body) in &routes {
            let answer = send(
                &app,
                method.clone(),
                path,
                &[("origin", origin)],
                body.clone(),
            )
            .await;
            assert_eq!(
                answer.status, 403,
                "{method} {path} from {origin}: {}",
                answer.body
            );
            assert_eq!(error_code(&answer), "cross_origin", "{method} {path}");
        }
    }

    let after = app.get_json(&format!("/api/batches/{batch}")).await;
    assert_eq!(after["status"], "running", "{after}");
    let dataset = app.get_json(&format!("/api/datasets/{dataset}")).await;
    assert_eq!(dataset["name"], "reviews");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_or_same_site_fetch_without_an_origin_is_refused() {
    let app = spawn_app().await;
    let (_, batch) = running_batch(&app).await;
    for site in ["cross-site", "same-site"] {
        let answer = send(
            &app,
            Method::POST,
            &format!("/api/batches/{batch}/cancel"),
            &[("sec-fetch-site", site)],
            None,
        )
        .await;
        assert_eq!(answer.status, 403, "{site}: {}", answer.body);
        assert_eq!(error_code(&answer), "cross_origin");
        let message = answer.json()["error"]["message"].to_string();
        assert!(message.contains(site), "{message}");
    }
    let after = app.get_json(&format!("/api/batches/{batch}")).await;
    assert_eq!(after["status"], "running", "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn its_own_pages_and_tools_may_make_changes_that_a_foreign_page_may_not() {
    let app = spawn_app().await;
    let (_, batch) = running_batch(&app).await;
    let own = app.address.clone();
    let localhost = format!("localhost:{}", port(&app));
    let localhost_origin = format!("http://{localhost}");
    let cases: [&[(&str, &str)]; 5] = [
        &[("origin", &own)],
        &[("origin", &own), ("sec-fetch-site", "same-origin")],
        &[("sec-fetch-site", "same-origin")],
        &[("sec-fetch-site", "none")],
        &[("host", &localhost), ("origin", &localhost_origin)],
    ];
    for headers in cases {
        let answer = send(
            &app,
            Method::POST,
            "/api/datasets?filename=ok.csv",
            headers,
            Some(("text/csv", "a,b\n1,2\n".into())),
        )
        .await;
        assert_eq!(answer.status, 201, "{headers:?}: {}", answer.body);

        // The same request sent by a page elsewhere.
        let foreign: Vec<(&str, &str)> = headers
            .iter()
            .map(|&(name, value)| match name {
                "origin" => (name, FOREIGN),
                "sec-fetch-site" => (name, "cross-site"),
                _ => (name, value),
            })
            .collect();
        let answer = send(
            &app,
            Method::POST,
            "/api/datasets?filename=ok.csv",
            &foreign,
            Some(("text/csv", "a,b\n1,2\n".into())),
        )
        .await;
        assert_eq!(answer.status, 403, "{foreign:?}: {}", answer.body);
    }
    let answer = send(
        &app,
        Method::POST,
        "/rpc/save_step",
        &[("origin", &own), ("accept", "application/json")],
        Some(("application/x-www-form-urlencoded", "step=prompt".into())),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = send(
        &app,
        Method::POST,
        &format!("/api/batches/{batch}/pause"),
        &[("origin", &own)],
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["status"], "paused");
    let answer = send(
        &app,
        Method::GET,
        "/api/batches",
        &[("origin", FOREIGN)],
        None,
    )
    .await;
    assert_eq!(
        answer.status, 200,
        "reading is not a change: {}",
        answer.body
    );
}

/// The nonce of a response's CSP, checking the rest of the security headers on the way.
fn security_headers(what: &str, answer: &Answer) -> String {
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what} has no {name} header"))
            .to_string()
    };
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp}");
    }
    assert!(!csp.contains("'unsafe-eval'"), "{what}: {csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("{what}: no script-src in {csp}"));
    assert!(!script_src.contains("'unsafe-inline'"), "{what}: {csp}");
    script_src
        .split_whitespace()
        .find_map(|s| s.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{what}: no nonce in {csp}"))
        .to_string()
}

/// Every inline `<script>` of `html` is signed with `nonce`; the rest load from the server.
fn scripts_are_signed(what: &str, html: &str, nonce: &str) {
    let signed = format!("nonce=\"{nonce}\"");
    let mut inline = 0;
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        if open.contains(" src=") {
            assert!(
                open.contains("src=\"/"),
                "{what}: a foreign script: <script{open}>"
            );
            continue;
        }
        inline += 1;
        assert!(
            open.contains(&signed),
            "{what}: an unsigned script <script{open}>"
        );
    }
    assert!(inline > 0, "{what}: the hydration script is inline: {html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_file_api_answer_and_refusal_carries_the_security_headers() {
    let app = spawn_app().await;
    std::fs::create_dir_all(&app.config.site_root).expect("site root");
    std::fs::write(app.config.site_root.join("favicon.svg"), "<svg/>").expect("static file");
    let (_, batch) = running_batch(&app).await;

    let mut nonces = std::collections::HashSet::new();
    let batch_page = format!("/batches/{batch}");
    for path in [
        "/",
        "/new",
        "/new/upload",
        "/new/columns",
        "/new/prompt",
        "/new/schema",
        "/new/review",
        "/batches",
        batch_page.as_str(),
        "/no/such/page",
    ] {
        let answer = send(&app, Method::GET, path, &[], None).await;
        assert!(answer.status < 500, "GET {path}: {}", answer.status);
        let nonce = security_headers(path, &answer);
        assert!(
            nonces.insert(nonce.clone()),
            "a fresh nonce for each response"
        );
        if answer.status != 302 {
            assert!(answer.body.contains("<html"), "{path} is a page");
            scripts_are_signed(path, &answer.body, &nonce);
        }
    }

    let favicon = send(&app, Method::GET, "/favicon.svg", &[], None).await;
    assert_eq!(favicon.status, 200);
    security_headers("a static file", &favicon);
    for path in ["/api/batches", "/healthz", &format!("/api/batches/{batch}")] {
        let answer = send(&app, Method::GET, path, &[], None).await;
        assert_eq!(answer.status, 200, "{path}");
        security_headers(path, &answer);
    }
    let refused = send(&app, Method::GET, "/", &[("host", "evil.example")], None).await;
    security_headers("a refused host", &refused);
    let refused = send(
        &app,
        Method::POST,
        &format!("/api/batches/{batch}/cancel"),
        &[("origin", FOREIGN)],
        None,
    )
    .await;
    security_headers("a refused origin", &refused);
}
