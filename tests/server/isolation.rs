//! The isolation sweep: every path the server registers (plain routes, Leptos pages and server
//! functions, read from the routers themselves by `rowbench::route_table`), called by user B
//! with user A's ids, by session and by token, then with nobody signed in.
//!
//! A's ids must answer exactly as ids that exist nowhere do (the same status; a 404 for every
//! route with an id in its path), and no answer may carry any of A's data. Without a login,
//! every path but the public ones answers 401 (API, server functions) or redirects to `/login`.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::teams::{add_user, run_batch, signed_in, spawn_team_app, token};

/// Cells, names and the email only A's workspace holds.
const A_MARKERS: [&str; 4] = [
    "ZEBRA-SECRET-CELL",
    "alpha-private-set",
    "ann@alpha.example",
    "Alpha Labs",
];

const A_CSV: &str = "id,review\n1,ZEBRA-SECRET-CELL one\n2,ZEBRA-SECRET-CELL two\n";

/// An id no table holds.
const NOWHERE: i64 = 987_654;

/// Paths anyone may reach; the sweep without a login leaves them out.
const PUBLIC: [&str; 5] = ["/login", "/setup", "/healthz", "/logout", "/invite/{code}"];

/// `path` with every parameter filled: ids with `id`, a row with 0, an action with `pause`.
fn fill(path: &str, id: i64) -> String {
    path.split('/')
        .map(|segment| {
            let name = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .or_else(|| segment.strip_prefix(':'));
            match name {
                Some("row") => "0".to_string(),
                Some("action") => "pause".to_string(),
                Some("step") => "review".to_string(),
                Some(rest) if rest.starts_with('*') => "batches".to_string(),
                Some(_) => id.to_string(),
                None => segment.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `path` names something by id (a row number, an action or a wizard step is not one).
fn has_parameter(path: &str) -> bool {
    path.split('/')
        .any(|s| matches!(s, "{id}" | "{user_id}" | ":id"))
}

/// One call: the status and the body (an open event stream is cut after its first bytes).
async fn call(
    client: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    id: i64,
    bearer: Option<&str>,
) -> (u16, String) {
    let url = app.url(path);
    let mut request = client
        .request(method.clone(), &url)
        .timeout(std::time::Duration::from_secs(10));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if path.starts_with("/rpc/") {
        let form = [
            ("id", id.to_string()),
            ("row", "0".to_string()),
            ("index", "0".to_string()),
            ("action", "pause".to_string()),
            ("metadata", "false".to_string()),
            ("name", "sweep".to_string()),
        ];
        request = if method == Method::GET {
            request.query(&form)
        } else {
            request.form(&form)
        };
    } else if method != Method::GET && method != Method::DELETE {
        if path == "/login" || path == "/setup" || path == "/workspace" {
            request = request.form(&[
                ("workspace", id.to_string()),
                ("email", "sweep@example.com".to_string()),
                ("password", "not the password".to_string()),
            ]);
        } else {
            request = request.json(&json!({
                "dataset_id": id, "id": id, "name": "sweep", "email": "sweep@example.com",
                "role": "viewer", "provider": "demo", "model": "demo-synthetic",
            }));
        }
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let mut response = response;
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(std::time::Duration::from_secs(2), response.chunk()).await
    {
        body.extend_from_slice(&chunk);
        if body.len() > 1 << 20 {
            break;
        }
    }
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Every (method, path template) to sweep: each plain route with each method it answers, the
/// pages with GET, and each server function with its own method.
fn targets() -> Vec<(Method, String)> {
    let table = rowbench::route_table();
    let mut targets = Vec::new();
    for path in &table.routes {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            targets.push((method, path.to_string()));
        }
    }
    for page in &table.pages {
        let page = if page.is_empty() { "/" } else { page };
        targets.push((Method::GET, page.to_string()));
    }
    for (path, method) in &table.server_functions {
        targets.push((method.clone(), path.clone()));
    }
    // Signing out ends the sweeping session: last.
    targets.sort_by_key(|(_, path)| path == "/logout");
    targets
}

#[tokio::test]
async fn no_route_page_or_server_function_shows_one_workspace_anything_of_another() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@alpha.example", "Alpha Labs", "admin").await;
    add_user(&app, "ben@beta.example", "Beta", "admin").await;
    let ann = signed_in(&app, "ann@alpha.example").await;
    let (a_dataset, a_batch) = run_batch(&app, &ann, "alpha-private-set", A_CSV).await;
    let a_token = token(&app, "ann@alpha.example", "alpha-ci").await;
    let a_token_id = 1;
    // Invitation 1 is A's too (B's own, made by the sweep, come after it).
    let a_invite = ann
        .post(app.url("/api/workspace/invites"))
        .json(&json!({"email": "zed@alpha.example", "role": "viewer"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(a_invite.status().as_u16(), 201);
    // B has data of its own, so that "nothing" is not the whole answer.
    let ben = signed_in(&app, "ben@beta.example").await;
    run_batch(&app, &ben, "beta-set", "id,review\n1,hello\n").await;
    let ben_token = token(&app, "ben@beta.example", "beta-ci").await;
    assert_eq!(
        (a_dataset, a_batch),
        (1, 1),
        "A's ids are the ids swept with"
    );
    assert!(!a_token.is_empty() && a_token_id == 1);

    let targets = targets();
    let table = rowbench::route_table();
    assert!(table.routes.contains(&"/api/batches/{id}/export"));
    assert!(
        table.pages.iter().any(|p| p == "/batches/{id}"),
        "{:?}",
        table.pages
    );
    assert!(
        table.server_functions.len() >= 25,
        "{:?}",
        table.server_functions
    );

    let mut leaks = Vec::new();
    let mut differ = Vec::new();
    let mut swept = 0;
    let mut refused_404 = 0;
    for bearer in [None, Some(ben_token.as_str())] {
        let client = if bearer.is_some() {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client")
        } else {
            ben.clone()
        };
        for (method, template) in &targets {
            let theirs = fill(template, 1);
            let nowhere = fill(template, NOWHERE);
            let (status, body) = call(&client, &app, method.clone(), &theirs, 1, bearer).await;
            let (status_nowhere, _) =
                call(&client, &app, method.clone(), &nowhere, NOWHERE, bearer).await;
            if status == 405 && status_nowhere == 405 {
                continue;
            }
            swept += 1;
            let by = if bearer.is_some() { "token" } else { "session" };
            for marker in A_MARKERS {
                if body.contains(marker) {
                    leaks.push(format!(
                        "{by} {method} {theirs} ({status}) shows {marker:?}"
                    ));
                }
            }
            let public = PUBLIC.contains(&template.as_str()) || template == "/workspace";
            if public {
                continue;
            }
            if status != status_nowhere {
                differ.push(format!(
                    "{by} {method} {theirs}: {status}, but {status_nowhere} for an id of nothing"
                ));
            }
            // A body refused for its own shape (the sweep's is generic), or a route refused to
            // B whatever it names (403: only server admins manage accounts), is refused before
            // any id is looked at, the same for every id; anything else with an id must be 404.
            let shape_refused = matches!(status, 400 | 403 | 415 | 422) && status == status_nowhere;
            if has_parameter(template) && !shape_refused && status != 404 {
                differ.push(format!("{by} {method} {theirs}: {status}, not 404"));
            }
            if status == 404 {
                refused_404 += 1;
            }
        }
        if bearer.is_none() {
            // The sweep signed B out at the end; sign in again for the rest of the test.
            assert_eq!(
                ben.get(app.url("/api/me"))
                    .send()
                    .await
                    .expect("answered")
                    .status()
                    .as_u16(),
                401
            );
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    assert!(
        differ.is_empty(),
        "{} answers tell:\n{}",
        differ.len(),
        differ.join("\n")
    );
    assert!(swept > 80, "only {swept} calls were swept");
    assert!(refused_404 > 40, "only {refused_404} answers were 404");

    // A still has everything.
    let own: serde_json::Value = ann
        .get(app.url(&format!("/api/batches/{a_batch}")))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(own["status"], "completed", "{own}");
    assert_eq!(own["name"], "alpha-private-set");
}

#[tokio::test]
async fn without_a_login_every_path_but_the_public_ones_is_refused() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@alpha.example", "Alpha Labs", "admin").await;
    let ann = signed_in(&app, "ann@alpha.example").await;
    run_batch(&app, &ann, "alpha-private-set", A_CSV).await;
    let nobody = crate::helpers::browser();
    let mut wrong: BTreeMap<String, String> = BTreeMap::new();
    let mut swept = 0;
    for (method, template) in targets() {
        if PUBLIC.contains(&template.as_str()) {
            continue;
        }
        let path = fill(&template, 1);
        let (status, body) = call(&nobody, &app, method.clone(), &path, 1, None).await;
        if status == 405 {
            continue;
        }
        swept += 1;
        for marker in A_MARKERS {
            assert!(!body.contains(marker), "{method} {path} shows {marker}");
        }
        let api = path.starts_with("/api") || path.starts_with("/rpc/");
        let ok = if api || method != Method::GET {
            status == 401 && (body.contains("\"unauthenticated\"") || !api)
        } else {
            status == 303
        };
        if !ok {
            wrong.insert(format!("{method} {path}"), format!("{status} {body:.200}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(swept > 50, "only {swept} calls were swept");
}
