//! Team mode's cross-site request checks, over every state-changing path the server registers
//! (`rowbench::route_table`, so a new route is covered without editing this file): from a
//! signed-in browser, a foreign page's fetch and a cross-site form post are refused with
//! `403 cross_origin`; the same requests from the site itself pass that check; a script with
//! an API token is not a browser and is not checked.

use reqwest::Method;

use crate::teams::{add_user, run_batch, signed_in, spawn_team_app, token};

const FOREIGN: &str = "https://evil.example";

/// Every state-changing (method, path): each plain route with each writing method, and each
/// server function that is not a GET. Signing out goes last.
fn writes() -> Vec<(Method, String)> {
    let table = rowbench::route_table();
    let mut writes = Vec::new();
    for path in &table.routes {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            writes.push((method, fill(path)));
        }
    }
    for (path, method) in &table.server_functions {
        if *method != Method::GET {
            writes.push((method.clone(), path.clone()));
        }
    }
    writes.sort_by_key(|(_, path)| path == "/logout");
    writes
}

/// `path` with its parameters filled with 1 (and an action with `pause`).
fn fill(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{action}" => "pause",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn says_cross_origin(status: u16, body: &str) -> bool {
    status == 403 && body.contains("cross_origin")
}

#[tokio::test]
async fn a_foreign_fetch_and_a_cross_site_form_are_refused_on_every_write_and_the_site_itself_is_not()
 {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    let ann = signed_in(&app, "ann@example.com").await;
    run_batch(&app, &ann, "guarded", "id,review\n1,fine\n").await;
    let writes = writes();
    assert!(writes.len() > 60, "only {} writes", writes.len());
    assert!(writes.iter().any(|(_, p)| p == "/api/workspace/invites"));

    let mut wrong = Vec::new();
    for (method, path) in &writes {
        // A page elsewhere calling the API with the visitor's cookie.
        let fetch = ann
            .request(method.clone(), app.url(path))
            .header("origin", FOREIGN)
            .header("sec-fetch-site", "cross-site")
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("answered");
        let status = fetch.status().as_u16();
        let body = fetch.text().await.unwrap_or_default();
        if !says_cross_origin(status, &body) {
            wrong.push(format!("fetch {method} {path}: {status} {body:.120}"));
        }
        // A form on a page elsewhere, posted by the visitor's browser.
        let form = ann
            .request(method.clone(), app.url(path))
            .header("origin", FOREIGN)
            .header("sec-fetch-site", "cross-site")
            .form(&[("id", "1"), ("name", "pwned"), ("email", "x@evil.example")])
            .send()
            .await
            .expect("answered");
        let status = form.status().as_u16();
        let body = form.text().await.unwrap_or_default();
        if !says_cross_origin(status, &body) {
            wrong.push(format!("form {method} {path}: {status} {body:.120}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} not refused:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // Nothing was changed by them: the batch is still there and the session still works.
    let batch = ann
        .get(app.url("/api/batches/1"))
        .send()
        .await
        .expect("answered");
    assert_eq!(batch.status().as_u16(), 200);

    // The site's own requests pass the check (whatever the route then says of them).
    let mut refused = Vec::new();
    for (method, path) in &writes {
        let own = ann
            .request(method.clone(), app.url(path))
            .header("origin", &app.address)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("answered");
        let status = own.status().as_u16();
        let body = own.text().await.unwrap_or_default();
        if says_cross_origin(status, &body) {
            refused.push(format!("{method} {path}"));
        }
    }
    assert!(
        refused.is_empty(),
        "the site's own requests refused: {refused:?}"
    );
}

#[tokio::test]
async fn a_request_with_an_api_token_is_not_checked_for_its_origin() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let (_, batch) = run_batch(&app, &ann, "scripted", "id,review\n1,fine\n").await;
    let token = token(&app, "ann@example.com", "script").await;
    let script = reqwest::Client::new();
    let answer = script
        .delete(app.url(&format!("/api/batches/{batch}")))
        .bearer_auth(&token)
        .header("origin", FOREIGN)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 204);
    // A made-up token is no way around the check: it is refused as no login at all.
    let forged = script
        .post(app.url("/api/batches/1/pause"))
        .bearer_auth("rbt_made_up")
        .header("origin", FOREIGN)
        .send()
        .await
        .expect("answered");
    assert!(
        matches!(forged.status().as_u16(), 401 | 403),
        "{}",
        forged.status()
    );
}
