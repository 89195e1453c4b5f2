//! Team mode's JSON API: who am I (`GET /api/me`), my API tokens (`GET/POST /api/tokens`,
//! `DELETE /api/tokens/{id}`); for the admins of the workspace I act in, its members (`GET/PUT
//! /api/workspace/members`, `DELETE /api/workspace/members/{user_id}`), invitations (`GET/POST
//! /api/workspace/invites`, `DELETE /api/workspace/invites/{id}`), settings (`GET/PUT
//! /api/workspace/settings`) and audit log (`GET /api/workspace/audit`); for server admins,
//! every account (`GET /api/users`, `POST /api/users/{id}/disable` and `…/enable`).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use rowbench_workbench::Workbench;
use rowbench_workbench::actor::Role;
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{ApiJson, ApiPath, ApiQuery, RequestBody, UnknownField, check_keys};
use crate::startup::PublicOrigin;

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/api/me", get(me))
        .route("/api/tokens", get(tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
        .route("/api/workspace/members", get(members).put(set_member))
        .route("/api/workspace/members/{user_id}", delete(remove_member))
        .route("/api/workspace/invites", get(invites).post(invite))
        .route("/api/workspace/invites/{id}", delete(revoke_invite))
        .route(
            "/api/workspace/settings",
            get(workspace_settings).put(set_workspace_settings),
        )
        .route("/api/workspace/audit", get(audit_log))
        .route("/api/users", get(users))
        .route("/api/users/{id}/disable", post(disable_user))
        .route("/api/users/{id}/enable", post(enable_user))
        .wrap(|r| r.layer(axum::middleware::from_fn(json_errors)))
}

async fn me(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(match workbench.account(&actor).await? {
        Some(account) => json!({
            "mode": "team",
            "email": account.email,
            "is_admin": account.is_admin,
            "workspace": { "id": account.workspace_id, "name": account.workspace_name() },
            "role": account.role,
            "workspaces": account.workspaces,
        }),
        None => json!({ "mode": "local", "role": actor.role() }),
    }))
}

async fn tokens(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(json!({ "tokens": workbench.tokens(&actor).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
}

impl RequestBody for NewToken {
    fn unknown_field(body: &serde_json::Value) -> Option<UnknownField> {
        check_keys(body, "", &["name"])
    }
}

async fn create_token(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<impl IntoResponse, ApiError> {
    let token = workbench.create_token(&actor, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "name": body.name.trim(),
            "token": token,
            "note": "Shown only this once: only its hash is kept.",
        })),
    ))
}

async fn revoke_token(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    workbench.revoke_token(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn members(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(json!({ "members": workbench.members(&actor).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetMember {
    email: String,
    role: Role,
}

impl RequestBody for SetMember {
    fn unknown_field(body: &serde_json::Value) -> Option<UnknownField> {
        check_keys(body, "", &["email", "role"])
    }
}

async fn set_member(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiJson(body): ApiJson<SetMember>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        workbench.set_member(&actor, &body.email, body.role).await?,
    ))
}

async fn remove_member(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    workbench.remove_member(&actor, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn invites(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(json!({ "invites": workbench.invites(&actor).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvite {
    email: String,
    role: Role,
}

impl RequestBody for NewInvite {
    fn unknown_field(body: &serde_json::Value) -> Option<UnknownField> {
        check_keys(body, "", &["email", "role"])
    }
}

/// Where the invitee's browser reaches this server: the configured public URL, else the
/// address this request came to (its `Host` passed the allowed-hosts check already).
fn origin_of(public: &PublicOrigin, headers: &HeaderMap) -> String {
    if let Some(origin) = &public.0 {
        return origin.to_string();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn invite(
    State(workbench): State<Workbench>,
    State(public): State<PublicOrigin>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewInvite>,
) -> Result<impl IntoResponse, ApiError> {
    let made = workbench.invite(&actor, &body.email, body.role).await?;
    let url = format!("{}/invite/{}", origin_of(&public, &headers), made.code);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": made.id,
            "email": made.email,
            "role": made.role,
            "workspace": made.workspace,
            "expires": made.expires,
            "url": url,
            "note": "Send this link to the person invited; it works once and is shown only now.",
        })),
    ))
}

async fn revoke_invite(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    workbench.revoke_invite(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn workspace_settings(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(workbench.workspace_settings(&actor).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSettings {
    /// `null` allows every provider the server has.
    providers: Option<Vec<String>>,
}

impl RequestBody for SetSettings {
    fn unknown_field(body: &serde_json::Value) -> Option<UnknownField> {
        check_keys(body, "", &["providers"])
    }
}

async fn set_workspace_settings(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiJson(body): ApiJson<SetSettings>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        workbench
            .set_workspace_providers(&actor, body.providers)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    /// Lines from before this id (the last `id` of the previous page).
    before: Option<i64>,
    limit: Option<i64>,
}

async fn audit_log(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<impl IntoResponse, ApiError> {
    let limit = params.limit.unwrap_or(100);
    let events = workbench.audit_log(&actor, params.before, limit).await?;
    let next_before = (events.len() as i64
        >= limit.clamp(1, rowbench_workbench::audit::MAX_AUDIT_PAGE))
    .then(|| events.last().map(|e| e.id))
    .flatten();
    Ok(Json(
        json!({ "events": events, "next_before": next_before }),
    ))
}

async fn users(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(json!({ "users": workbench.users(&actor).await? })))
}

async fn disable_user(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(workbench.set_user_disabled(&actor, id, true).await?))
}

async fn enable_user(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(workbench.set_user_disabled(&actor, id, false).await?))
}
