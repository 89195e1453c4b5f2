//! Team mode's JSON API: who am I (`GET /api/me`), my API tokens (`GET/POST /api/tokens`,
//! `DELETE /api/tokens/{id}`), and the members of the workspace I act in (`GET/PUT
//! /api/workspace/members`, `DELETE /api/workspace/members/{user_id}`, admins only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use rowbench_workbench::Workbench;
use rowbench_workbench::actor::Role;
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentActor;
use crate::routes::api_error::{ApiError, json_errors};
use crate::routes::extract::{ApiJson, ApiPath, RequestBody, UnknownField, check_keys};

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/api/me", get(me))
        .route("/api/tokens", get(tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
        .route("/api/workspace/members", get(members).put(set_member))
        .route("/api/workspace/members/{user_id}", delete(remove_member))
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
