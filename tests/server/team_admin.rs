//! Running a team: invitations, disabling an account, the audit log, which providers a
//! workspace may run, and the Settings page, against the real server in team mode.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, browser, spawn_app_with};
use crate::teams::{PASSWORD, add_user, post_login, run_batch, signed_in, spawn_team_app, token};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON")
}

/// Invites `email` as `role` into the workspace `admin` acts in; the link's path.
async fn invite(app: &TestApp, admin: &reqwest::Client, email: &str, role: &str) -> String {
    let response = admin
        .post(app.url("/api/workspace/invites"))
        .json(&json!({"email": email, "role": role}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::CREATED);
    let made = json_of(response).await;
    let url = made["url"].as_str().expect("a link").to_string();
    assert!(url.starts_with(&app.address), "{url}");
    url[app.address.len()..].to_string()
}

/// `path`'s JSON as `client` gets it.
async fn get_json(app: &TestApp, client: &reqwest::Client, path: &str) -> Value {
    json_of(client.get(app.url(path)).send().await.expect("answered")).await
}

async fn me(app: &TestApp, client: &reqwest::Client) -> (StatusCode, Value) {
    let response = client
        .get(app.url("/api/me"))
        .send()
        .await
        .expect("answered");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_invited_person_makes_their_account_with_the_link_which_then_works_no_more() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let link = invite(&app, &ann, "New.Person@Example.com", "viewer").await;

    let guest = browser();
    let page = guest.get(app.url(&link)).send().await.expect("answered");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("text");
    assert!(html.contains("Join Alpha") && html.contains("new.person@example.com"));
    assert!(
        html.contains("Make my account"),
        "a new account sets a password"
    );

    let mismatch = guest
        .post(app.url(&link))
        .form(&[
            ("password", PASSWORD),
            ("confirm", "something else entirely"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        mismatch
            .text()
            .await
            .expect("text")
            .contains("not the same")
    );
    let short = guest
        .post(app.url(&link))
        .form(&[("password", "short"), ("confirm", "short")])
        .send()
        .await
        .expect("answered");
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let joined = guest
        .post(app.url(&link))
        .form(&[("password", PASSWORD), ("confirm", PASSWORD)])
        .send()
        .await
        .expect("answered");
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    let (status, who) = me(&app, &guest).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(who["email"], "new.person@example.com");
    assert_eq!(who["role"], "viewer");
    assert_eq!(who["workspace"]["name"], "Alpha");

    for again in [
        browser().get(app.url(&link)).send().await,
        browser()
            .post(app.url(&link))
            .form(&[("password", PASSWORD), ("confirm", PASSWORD)])
            .send()
            .await,
    ] {
        let again = again.expect("answered");
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
        assert!(again.text().await.expect("text").contains("not valid"));
    }
    // The new account signs in like any other.
    let later = browser();
    let response = post_login(&app, &later, "new.person@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_invitation_for_an_existing_account_asks_for_its_password_and_adds_the_workspace() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    add_user(&app, "ben@example.com", "Beta", "editor").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let link = invite(&app, &ann, "ben@example.com", "editor").await;
    let ben = browser();
    let html = ben
        .get(app.url(&link))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("text");
    assert!(html.contains("Join the workspace"), "{html:.400}");
    let wrong = ben
        .post(app.url(&link))
        .form(&[("password", "not his password at all")])
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let joined = ben
        .post(app.url(&link))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .expect("answered");
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    let (_, who) = me(&app, &ben).await;
    assert_eq!(who["workspace"]["name"], "Alpha", "{who}");
    let names: Vec<&str> = who["workspaces"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|w| w["name"].as_str())
        .collect();
    assert_eq!(names, ["Alpha", "Beta"]);

    // Someone in the workspace already is not invited again.
    let twice = ann
        .post(app.url("/api/workspace/invites"))
        .json(&json!({"email": "ben@example.com", "role": "viewer"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(twice.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_withdrawn_invitation_is_not_valid_and_only_admins_invite() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    add_user(&app, "eve@example.com", "Alpha", "editor").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let link = invite(&app, &ann, "zoe@example.com", "editor").await;
    let open = get_json(&app, &ann, "/api/workspace/invites").await;
    let listed = open["invites"].as_array().expect("list");
    assert_eq!(listed.len(), 1, "{open}");
    assert_eq!(listed[0]["email"], "zoe@example.com");
    assert!(
        !open.to_string().contains(&link["/invite/".len()..]),
        "the list never shows a link's code"
    );
    let id = listed[0]["id"].as_i64().expect("id");
    let withdrawn = ann
        .delete(app.url(&format!("/api/workspace/invites/{id}")))
        .send()
        .await
        .expect("answered");
    assert_eq!(withdrawn.status(), StatusCode::NO_CONTENT);
    let gone = browser()
        .get(app.url(&link))
        .send()
        .await
        .expect("answered");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    let eve = signed_in(&app, "eve@example.com").await;
    let refused = eve
        .post(app.url("/api/workspace/invites"))
        .json(&json!({"email": "x@example.com", "role": "admin"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A made-up code and a malformed one read the same.
    for code in ["0".repeat(64), "nothing".to_string()] {
        let answer = browser()
            .get(app.url(&format!("/invite/{code}")))
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_its_session_and_token_stop_working_at_once() {
    let app = spawn_team_app().await;
    rowbench::cli::add_user(
        &app.config,
        "root@example.com",
        PASSWORD,
        true,
        Some("Ops".to_string()),
        None,
    )
    .await
    .expect("server admin");
    add_user(&app, "eve@example.com", "Alpha", "admin").await;
    let eve = signed_in(&app, "eve@example.com").await;
    let eve_token = token(&app, "eve@example.com", "ci").await;
    let bearer = reqwest::Client::new();
    let by_token = |path: &str| bearer.get(app.url(path)).bearer_auth(&eve_token).send();
    assert_eq!(by_token("/api/me").await.expect("answered").status(), 200);

    // A workspace admin is not a server admin.
    for answer in [
        eve.get(app.url("/api/users")).send().await,
        eve.post(app.url("/api/users/1/disable")).send().await,
    ] {
        assert_eq!(answer.expect("answered").status(), StatusCode::FORBIDDEN);
    }

    let root = signed_in(&app, "root@example.com").await;
    let users = get_json(&app, &root, "/api/users").await;
    let eve_id = users["users"]
        .as_array()
        .expect("list")
        .iter()
        .find(|u| u["email"] == "eve@example.com")
        .and_then(|u| u["id"].as_i64())
        .expect("eve is listed");
    let own = root
        .post(app.url("/api/users/1/disable"))
        .send()
        .await
        .expect("answered");
    assert_eq!(own.status(), StatusCode::CONFLICT, "not one's own account");
    let disabled = root
        .post(app.url(&format!("/api/users/{eve_id}/disable")))
        .send()
        .await
        .expect("answered");
    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(json_of(disabled).await["disabled"], true);

    assert_eq!(me(&app, &eve).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(by_token("/api/me").await.expect("answered").status(), 401);
    let again = post_login(&app, &browser(), "eve@example.com", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(
        again
            .text()
            .await
            .expect("text")
            .contains("Wrong email or password")
    );

    let enabled = root
        .post(app.url(&format!("/api/users/{eve_id}/enable")))
        .send()
        .await
        .expect("answered");
    assert_eq!(enabled.status(), StatusCode::OK);
    assert_eq!(by_token("/api/me").await.expect("answered").status(), 200);
    signed_in(&app, "eve@example.com").await;
    let missing = root
        .post(app.url("/api/users/987654/disable"))
        .send()
        .await
        .expect("answered");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_log_says_who_started_cancelled_exported_and_deleted_which_batch() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    add_user(&app, "eve@example.com", "Alpha", "editor").await;
    add_user(&app, "vic@example.com", "Alpha", "viewer").await;
    add_user(&app, "ben@example.com", "Beta", "admin").await;
    let eve = signed_in(&app, "eve@example.com").await;
    let (_, batch) = run_batch(&app, &eve, "audited-set", "id,review\n1,fine\n").await;
    let export = eve
        .get(app.url(&format!("/api/batches/{batch}/export?format=jsonl")))
        .send()
        .await
        .expect("answered");
    assert_eq!(export.status(), StatusCode::OK);
    export.bytes().await.expect("the whole export");
    let cancel = eve
        .post(app.url(&format!("/api/batches/{batch}/cancel")))
        .send()
        .await
        .expect("answered");
    assert_eq!(cancel.status(), StatusCode::CONFLICT, "a finished batch");
    let deleted = eve
        .delete(app.url(&format!("/api/batches/{batch}")))
        .send()
        .await
        .expect("answered");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let ann = signed_in(&app, "ann@example.com").await;
    let log = get_json(&app, &ann, "/api/workspace/audit").await;
    let lines: Vec<(String, String, String)> = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default().to_string(),
                e["action"].as_str().unwrap_or_default().to_string(),
                e["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let target = format!("batch {batch}");
    let eve_did = |action: &str| {
        (
            "eve@example.com".to_string(),
            action.to_string(),
            target.clone(),
        )
    };
    // Newest first; a refused cancel changed nothing, so it is not in the log.
    assert_eq!(
        lines,
        [
            eve_did("batch.delete"),
            eve_did("batch.export"),
            eve_did("batch.start")
        ],
        "{log}"
    );
    assert!(
        log["events"][1]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("jsonl")
    );
    assert!(log["events"][0]["at_ms"].as_i64().unwrap_or_default() > 0);

    let vic = signed_in(&app, "vic@example.com").await;
    let refused = vic
        .get(app.url("/api/workspace/audit"))
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let ben = signed_in(&app, "ben@example.com").await;
    let theirs = get_json(&app, &ben, "/api/workspace/audit").await;
    assert_eq!(
        theirs["events"],
        json!([]),
        "another workspace's log is its own"
    );
}

/// A team server with a second provider configured (never called: its address is closed).
async fn spawn_two_provider_app() -> TestApp {
    spawn_app_with(|config| {
        config.access.mode = rowbench::config::Mode::Team;
        config.catalog = rowbench_providers::catalog::Catalog::from_env(&|name| match name {
            "OPENAI_API_KEY" => Some("sk-never-shown-0123".to_string()),
            "OPENAI_BASE_URL" => Some("http://127.0.0.1:1/v1".to_string()),
            _ => None,
        })
        .expect("catalog");
    })
    .await
}

#[tokio::test]
async fn a_workspace_limited_to_some_providers_cannot_start_or_check_another() {
    let app = spawn_two_provider_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    add_user(&app, "eve@example.com", "Alpha", "editor").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let settings = get_json(&app, &ann, "/api/workspace/settings").await;
    assert_eq!(
        settings["providers"],
        Value::Null,
        "every provider at first"
    );
    let ids: Vec<&str> = settings["available"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["demo", "openai"]);
    assert!(!settings.to_string().contains("sk-never-shown"), "no key");

    let unknown = ann
        .put(app.url("/api/workspace/settings"))
        .json(&json!({"providers": ["nope"]}))
        .send()
        .await
        .expect("answered");
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let limited = ann
        .put(app.url("/api/workspace/settings"))
        .json(&json!({"providers": ["demo"]}))
        .send()
        .await
        .expect("answered");
    assert_eq!(limited.status(), StatusCode::OK);
    assert_eq!(json_of(limited).await["providers"], json!(["demo"]));

    let eve = signed_in(&app, "eve@example.com").await;
    let refused = eve
        .put(app.url("/api/workspace/settings"))
        .json(&json!({"providers": null}))
        .send()
        .await
        .expect("answered");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "editors change no settings"
    );

    // The demo still runs; openai is refused at the start and at the check.
    run_batch(&app, &eve, "allowed", "id,review\n1,ok\n").await;
    let dataset = json_of(
        eve.post(app.url("/api/datasets?name=other"))
            .header("content-type", "text/csv")
            .body("id,review\n1,ok\n")
            .send()
            .await
            .expect("answered"),
    )
    .await;
    let mut recipe = crate::teams::recipe(dataset["id"].as_i64().expect("id"));
    recipe["settings"] = json!({"provider": "openai", "model": "gpt-4o-mini"});
    let start = eve
        .post(app.url("/api/batches"))
        .json(&recipe)
        .send()
        .await
        .expect("answered");
    assert_eq!(start.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(start).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("may not run provider \"openai\""),
        "{body}"
    );
    let check = eve
        .post(app.url("/api/providers/check"))
        .json(&json!({"provider": "openai", "model": "gpt-4o-mini"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(check.status(), StatusCode::NOT_FOUND);

    let audit = get_json(&app, &ann, "/api/workspace/audit").await;
    assert!(audit.to_string().contains("settings.providers"), "{audit}");
}

#[tokio::test]
async fn the_settings_page_shows_a_viewer_their_tokens_but_not_the_members_or_the_log() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "admin").await;
    add_user(&app, "vic@example.com", "Alpha", "viewer").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let page = ann
        .get(app.url("/settings"))
        .send()
        .await
        .expect("answered");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("text");
    for section in [
        "Password",
        "API tokens",
        "Members",
        "Invite someone",
        "Audit log",
    ] {
        assert!(html.contains(section), "an admin sees {section}");
    }
    let vic = signed_in(&app, "vic@example.com").await;
    let html = vic
        .get(app.url("/settings"))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("text");
    assert!(html.contains("API tokens") && html.contains("Password"));
    for hidden in ["Members", "Invite someone", "Audit log", "ann@example.com"] {
        assert!(!html.contains(hidden), "a viewer does not see {hidden}");
    }
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_the_new_one_twice() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "editor").await;
    let ann = signed_in(&app, "ann@example.com").await;
    let change = |current: &str, new: &str, confirm: &str| {
        ann.post(app.url("/rpc/change_password"))
            .header("origin", &app.address)
            .header("accept", "application/json")
            .form(&[("current", current), ("new", new), ("confirm", confirm)])
            .send()
    };
    let wrong = change("not it at all", "a brand new secret", "a brand new secret")
        .await
        .expect("answered");
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .text()
            .await
            .expect("text")
            .contains("current password is not right")
    );
    let differ = change(PASSWORD, "a brand new secret", "another new secret")
        .await
        .expect("answered");
    assert_eq!(differ.status(), StatusCode::BAD_REQUEST);
    let short = change(PASSWORD, "short", "short").await.expect("answered");
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(
        short
            .text()
            .await
            .expect("text")
            .contains("at least 10 characters")
    );
    let done = change(PASSWORD, "a brand new secret", "a brand new secret")
        .await
        .expect("answered");
    assert_eq!(done.status(), StatusCode::OK);
    let old = post_login(&app, &browser(), "ann@example.com", PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = post_login(&app, &browser(), "ann@example.com", "a brand new secret").await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn each_workspace_keeps_its_own_draft_across_a_switch() {
    let app = spawn_team_app().await;
    add_user(&app, "ann@example.com", "Alpha", "editor").await;
    add_user(&app, "ben@example.com", "Beta", "admin").await;
    let ben = signed_in(&app, "ben@example.com").await;
    let added = ben
        .put(app.url("/api/workspace/members"))
        .json(&json!({"email": "ann@example.com", "role": "editor"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(added.status(), StatusCode::OK);
    let ann = signed_in(&app, "ann@example.com").await;
    let draft = || async {
        let answer = ann
            .post(app.url("/rpc/current_draft"))
            .header("origin", &app.address)
            .header("accept", "application/json")
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), StatusCode::OK);
        json_of(answer).await["id"].as_i64().expect("draft id")
    };
    let (_, who) = me(&app, &ann).await;
    let workspace = |name: &str| {
        who["workspaces"]
            .as_array()
            .expect("list")
            .iter()
            .find(|w| w["name"] == name)
            .and_then(|w| w["id"].as_i64())
            .expect("a workspace")
    };
    let (alpha, beta) = (workspace("Alpha"), workspace("Beta"));
    let switch = |id: i64| {
        ann.post(app.url("/workspace"))
            .header("origin", &app.address)
            .form(&[("workspace", id.to_string())])
            .send()
    };
    assert_eq!(
        switch(alpha).await.expect("answered").status(),
        StatusCode::SEE_OTHER
    );
    let in_alpha = draft().await;
    assert_eq!(draft().await, in_alpha, "the same draft on the next visit");
    assert_eq!(
        switch(beta).await.expect("answered").status(),
        StatusCode::SEE_OTHER
    );
    let in_beta = draft().await;
    assert_ne!(in_beta, in_alpha);
    assert_eq!(
        switch(alpha).await.expect("answered").status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        draft().await,
        in_alpha,
        "Alpha's draft is still there after Beta"
    );
}
