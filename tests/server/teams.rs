//! Team mode: sign-in, sessions, API tokens, roles, throttling and the command line, against the
//! real server with accounts made the way an operator makes them (`rowbench::cli`).

use std::time::Duration;

use rowbench::config::Mode;
use rowbench_workbench::accounts::Throttle;
use serde_json::{Value, json};

use crate::helpers::{TestApp, browser, spawn_app_with};

pub const PASSWORD: &str = "correct horse battery";

/// A team-mode server whose sign-in locks last a second (doubling up to four).
pub async fn spawn_team_app() -> TestApp {
    spawn_app_with(|config| {
        config.access.mode = Mode::Team;
        config.access.throttle = Throttle {
            free_failures: 5,
            lock: Duration::from_secs(1),
            max_lock: Duration::from_secs(4),
        };
    })
    .await
}

/// Makes an account as `rowbench user add` does (without `--admin`: `role` is its role in
/// `workspace`, and it is no server admin).
pub async fn add_user(app: &TestApp, email: &str, workspace: &str, role: &str) {
    rowbench::cli::add_user(
        &app.config,
        email,
        PASSWORD,
        false,
        Some(workspace.to_string()),
        Some(role.to_string()),
    )
    .await
    .expect("the account is made");
}

/// A token as `rowbench token create` makes it.
pub async fn token(app: &TestApp, email: &str, name: &str) -> String {
    rowbench::cli::create_token(&app.config, email, name, None)
        .await
        .expect("the token is made")
}

/// Posts the sign-in form from `client`; the answer.
pub async fn post_login(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/login"))
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .expect("answered")
}

/// A browser signed in as `email`.
pub async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let client = browser();
    let response = post_login(app, &client, email, PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303, "sign-in of {email}");
    client
}

/// The session cookie a response sets, if it sets one.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .cookies()
        .find(|c| c.name() == "rowbench_session")
        .map(|c| c.value().to_string())
}

pub const CSV: &str = "id,review\n1,Great phone\n2,Broke in a week\n";

pub fn recipe(dataset_id: i64) -> Value {
    json!({
        "dataset_id": dataset_id,
        "mapping": { "columns": [
            { "name": "id", "role": "ignore", "is_key": true },
            { "name": "review", "role": "include" }
        ]},
        "prompt": { "system": "Classify.", "user": "Review: {{ review }}" },
        "schema": { "fields": [
            { "name": "sentiment", "type": "enum", "options": ["positive", "negative"], "required": true }
        ]},
        "settings": { "provider": "demo", "model": "demo-synthetic" }
    })
}

/// Uploads `csv` as `name` and runs it to the end with `client`; the dataset and batch ids.
pub async fn run_batch(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    csv: &str,
) -> (i64, i64) {
    let dataset_id = upload(app, client, name, csv).await;
    let batch_id = run_recipe(app, client, &recipe(dataset_id)).await;
    (dataset_id, batch_id)
}

/// Uploads `csv` as the dataset `name`; its id.
pub async fn upload(app: &TestApp, client: &reqwest::Client, name: &str, csv: &str) -> i64 {
    let dataset: Value = client
        .post(app.url(&format!("/api/datasets?name={name}")))
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    dataset["id"].as_i64().expect("dataset id")
}

/// Starts a batch of `recipe` and waits until it has completed; its id.
pub async fn run_recipe(app: &TestApp, client: &reqwest::Client, recipe: &Value) -> i64 {
    let response = client
        .post(app.url("/api/batches"))
        .json(recipe)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 201);
    let batch: Value = response.json().await.expect("JSON");
    let batch_id = batch["id"].as_i64().expect("batch id");
    let started = std::time::Instant::now();
    loop {
        let batch: Value = client
            .get(app.url(&format!("/api/batches/{batch_id}")))
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
        if batch["status"] == "completed" {
            return batch_id;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{batch}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn without_a_session_or_token_the_api_answers_401_unauthenticated_and_pages_go_to_sign_in() {
    let app = spawn_team_app().await;
    for path in [
        "/api/batches",
        "/api/batches/1",
        "/api/me",
        "/api/nothing-here",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 401, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "unauthenticated", "{path}: {body}");
    }
    let rpc = app
        .client
        .post(app.url("/rpc/list_batches"))
        .send()
        .await
        .expect("answered");
    assert_eq!(rpc.status().as_u16(), 401);
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    let home = app.get("/").await;
    assert_eq!(home.status().as_u16(), 303);
    assert_eq!(home.headers()["location"], "/login");
    let batch = app.get("/batches/3?tab=rows").await;
    assert_eq!(
        batch.headers()["location"],
        "/login?next=%2Fbatches%2F3%3Ftab%3Drows"
    );
    let login = app.get_text("/login", 200).await;
    assert!(login.contains("name=\"password\""), "{login}");
}

#[tokio::test]
async fn signing_in_gives_a_new_session_id_and_signing_out_ends_it() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    add_user(&app, "bob@example.com", "Alpha", "editor").await;

    // An id planted before sign-in (say, by someone who set the cookie) is not the one after it.
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let base: reqwest::Url = app.address.parse().expect("URL");
    jar.add_cookie_str(&format!("rowbench_session={planted}"), &base);
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = post_login(&app, &client, "ann@example.com", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    let first = session_cookie(&response).expect("a session cookie");
    assert_ne!(first, planted);
    let me: Value = client
        .get(app.url("/api/me"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["workspace"]["name"], "Alpha");

    // Signing in again, as someone else, cycles the id too, and the old one is worth nothing.
    let again = post_login(&app, &client, "bob@example.com", PASSWORD).await;
    let second = session_cookie(&again).expect("a session cookie");
    assert_ne!(second, first);
    let stale = browser();
    let with_old = stale
        .get(app.url("/api/me"))
        .header("cookie", format!("rowbench_session={first}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(with_old.status().as_u16(), 401);

    let out = client
        .post(app.url("/logout"))
        .send()
        .await
        .expect("answered");
    assert_eq!(out.status().as_u16(), 303);
    let after = client
        .get(app.url("/api/me"))
        .send()
        .await
        .expect("answered");
    assert_eq!(after.status().as_u16(), 401);
    let with_second = stale
        .get(app.url("/api/me"))
        .header("cookie", format!("rowbench_session={second}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(with_second.status().as_u16(), 401);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    let response = post_login(&app, &browser(), "ann@example.com", PASSWORD).await;
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .find(|v| v.starts_with("rowbench_session="))
        .expect("a session cookie");
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    // Plain HTTP here: a Secure cookie would never come back.
    assert!(!header.contains("Secure"), "{header}");
}

#[tokio::test]
async fn a_token_reaches_the_json_api_as_its_owner_until_it_is_revoked() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "editor").await;
    let token = token(&app, "ann@example.com", "ci").await;
    assert!(token.starts_with("rbt_") && token.len() > 40, "{token}");
    let api = reqwest::Client::new();
    let me: Value = api
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["role"], "editor");

    // A token's requests are not a browser's: no Origin check, and no session cookie.
    let (dataset, batch) = {
        let client = reqwest::Client::builder()
            .default_headers({
                let mut headers = reqwest::header::HeaderMap::new();
                headers.insert(
                    "authorization",
                    format!("Bearer {token}").parse().expect("header"),
                );
                headers.insert(
                    "origin",
                    "https://elsewhere.example".parse().expect("header"),
                );
                headers
            })
            .build()
            .expect("client");
        run_batch(&app, &client, "tokened", CSV).await
    };
    assert!(dataset > 0 && batch > 0);

    let listed: Value = api
        .get(app.url("/api/tokens"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    let entry = &listed["tokens"][0];
    assert_eq!(entry["name"], "ci");
    assert!(entry["last_used"].is_string(), "{listed}");
    assert!(
        !listed.to_string().contains(&token[4..]),
        "the token itself is never listed"
    );
    let id = entry["id"].as_i64().expect("id");

    let wrong = api
        .get(app.url("/api/me"))
        .bearer_auth("rbt_0000")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong.status().as_u16(), 401);
    let revoked = api
        .delete(app.url(&format!("/api/tokens/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered");
    assert_eq!(revoked.status().as_u16(), 204);
    let after = api
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered");
    assert_eq!(after.status().as_u16(), 401);
    let body: Value = after.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn a_viewer_reads_and_exports_but_every_write_is_refused_with_403() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "editor").await;
    add_user(&app, "vic@example.com", "Alpha", "viewer").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let (dataset, batch) = run_batch(&app, &ann, "shared", CSV).await;
    let vic = signed_in(&app, "vic@example.com").await;

    let read = vic
        .get(app.url(&format!("/api/batches/{batch}")))
        .send()
        .await
        .expect("answered");
    assert_eq!(read.status().as_u16(), 200);
    let export = vic
        .get(app.url(&format!("/api/batches/{batch}/export?format=csv")))
        .send()
        .await
        .expect("answered");
    assert_eq!(export.status().as_u16(), 200);
    assert!(export.text().await.expect("body").contains("Great phone"));

    let writes: Vec<reqwest::RequestBuilder> = vec![
        vic.post(app.url("/api/datasets?name=mine"))
            .header("content-type", "text/csv")
            .body(CSV),
        vic.patch(app.url(&format!("/api/datasets/{dataset}")))
            .json(&json!({"name": "renamed"})),
        vic.post(app.url("/api/batches")).json(&recipe(dataset)),
        vic.post(app.url(&format!("/api/batches/{batch}/retry-failed"))),
        vic.post(app.url(&format!("/api/batches/{batch}/cancel"))),
        vic.post(app.url(&format!("/api/batches/{batch}/rows/0/retry"))),
        vic.delete(app.url(&format!("/api/batches/{batch}"))),
        vic.post(app.url("/api/providers/check"))
            .json(&json!({"provider": "demo", "model": "demo-synthetic"})),
        vic.post(app.url("/rpc/control_batch"))
            .form(&[("id", batch.to_string()), ("action", "pause".into())]),
        vic.post(app.url("/rpc/delete_batch"))
            .form(&[("id", batch.to_string())]),
        vic.post(app.url("/rpc/clone_batch"))
            .form(&[("id", batch.to_string())]),
        vic.post(app.url("/rpc/use_dataset"))
            .form(&[("id", dataset.to_string())]),
        vic.post(app.url("/rpc/reset_draft")),
        vic.put(app.url("/api/workspace/members"))
            .json(&json!({"email": "vic@example.com", "role": "admin"})),
    ];
    for write in writes {
        let request = write.build().expect("request");
        let what = format!("{} {}", request.method(), request.url().path());
        let response = vic.execute(request).await.expect("answered");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        assert_eq!(status, 403, "{what}: {body}");
        assert!(
            body.contains("Viewers cannot") || body.contains("Only an admin"),
            "{what}: {body}"
        );
    }
    // Nothing changed.
    let after: Value = ann
        .get(app.url(&format!("/api/batches/{batch}")))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(after["status"], "completed");
}

#[tokio::test]
async fn an_editor_cannot_manage_members_and_an_admin_can() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    add_user(&app, "eve@example.com", "Alpha", "editor").await;
    add_user(&app, "sam@example.com", "Beta", "editor").await;
    let eve = signed_in(&app, "eve@example.com").await;
    for request in [
        eve.get(app.url("/api/workspace/members")),
        eve.put(app.url("/api/workspace/members"))
            .json(&json!({"email": "sam@example.com", "role": "viewer"})),
        eve.delete(app.url("/api/workspace/members/1")),
    ] {
        let response = request.send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 403);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "forbidden", "{body}");
    }
    let ann = signed_in(&app, "ann@example.com").await;
    let added = ann
        .put(app.url("/api/workspace/members"))
        .json(&json!({"email": "sam@example.com", "role": "viewer"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(added.status().as_u16(), 200);
    let members: Value = ann
        .get(app.url("/api/workspace/members"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    let emails: Vec<&str> = members["members"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["email"].as_str())
        .collect();
    assert_eq!(
        emails,
        ["ann@example.com", "eve@example.com", "sam@example.com"]
    );
    let own = ann
        .put(app.url("/api/workspace/members"))
        .json(&json!({"email": "ann@example.com", "role": "editor"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(
        own.status().as_u16(),
        409,
        "an admin cannot demote themselves"
    );
}

#[tokio::test]
async fn twenty_wrong_passwords_lock_the_account_briefly_and_the_right_one_works_after_the_lock() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "editor").await;
    let client = browser();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = post_login(&app, &client, "ann@example.com", "wrong password!").await;
        let status = response.status().as_u16();
        if status == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        let body = response.text().await.expect("body");
        assert!(
            body.contains("Wrong email or password") || body.contains("Too many wrong passwords"),
            "{body}"
        );
        statuses.push(status);
    }
    // Four free tries, the fifth locks; while locked no password is even looked at.
    assert_eq!(&statuses[..5], &[401; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");

    // An unknown account is answered the same way: the answers do not tell which exists.
    let unknown = post_login(&app, &browser(), "nobody@example.com", "wrong password!").await;
    assert_eq!(unknown.status().as_u16(), 401);
    assert!(
        unknown
            .text()
            .await
            .expect("body")
            .contains("Wrong email or password")
    );

    // The right password is refused too while the lock lasts, then works.
    let locked = post_login(&app, &client, "ann@example.com", PASSWORD).await;
    assert_eq!(locked.status().as_u16(), 429);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let right = post_login(&app, &client, "ann@example.com", PASSWORD).await;
    assert_eq!(right.status().as_u16(), 303);
}

#[tokio::test]
async fn the_setup_page_makes_the_first_admin_once_and_is_gone_after() {
    let app = spawn_team_app().await;
    let page = app.get_text("/setup", 200).await;
    assert!(page.contains("Make the first admin"), "{page}");
    let client = browser();
    let weak = client
        .post(app.url("/setup"))
        .form(&[
            ("email", "ann@example.com"),
            ("password", "short"),
            ("workspace", "Alpha"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(weak.status().as_u16(), 422);
    let kept = weak.text().await.expect("body");
    assert!(
        kept.contains("at least 10 characters") && kept.contains("ann@example.com"),
        "{kept}"
    );
    let made = client
        .post(app.url("/setup"))
        .form(&[
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("workspace", "Alpha"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(made.status().as_u16(), 303);
    let me: Value = client
        .get(app.url("/api/me"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["is_admin"], true);
    assert_eq!(app.get("/setup").await.status().as_u16(), 404);
    let again = browser()
        .post(app.url("/setup"))
        .form(&[
            ("email", "eve@example.com"),
            ("password", PASSWORD),
            ("workspace", "Evil"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(again.status().as_u16(), 404);
}

#[tokio::test]
async fn the_command_line_makes_an_account_from_stdin_and_prints_a_token_alone_while_the_server_runs()
 {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let app = spawn_team_app().await;
    let mut envs: Vec<(&str, String)> = vec![
        ("DATABASE_URL", app.config.database_url.clone()),
        (
            "ROWBENCH_DATA_DIR",
            app.config.data_dir.display().to_string(),
        ),
    ];
    envs.push(("ROWBENCH_MODE", "team".into()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rowbench"))
        .args([
            "user",
            "add",
            "cli@example.com",
            "--workspace",
            "Ops",
            "--role",
            "editor",
        ])
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rowbench runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password sent");
    let out = child.wait_with_output().expect("it ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("cli@example.com") && said.contains("Ops"),
        "{said}"
    );
    assert!(!said.contains(PASSWORD));

    let out = Command::new(env!("CARGO_BIN_EXE_rowbench"))
        .args(["token", "create", "cli@example.com", "deploy"])
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("rowbench runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("UTF-8");
    let token = printed.trim_end_matches('\n');
    assert!(
        token.starts_with("rbt_") && !token.contains(char::is_whitespace),
        "{printed:?}"
    );

    let me: Value = reqwest::Client::new()
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["email"], "cli@example.com");
    assert_eq!(me["workspace"]["name"], "Ops");

    let taken = Command::new(env!("CARGO_BIN_EXE_rowbench"))
        .args(["user", "add", "cli@example.com"])
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("rowbench runs");
    assert!(!taken.status.success());
}
