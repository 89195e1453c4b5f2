//! Who a request is from. Local mode: always the one local user. Team mode: the account of a
//! signed-in session, or of an `Authorization: Bearer` API token, acting in one workspace;
//! without either, the JSON API and the server functions answer `401 unauthenticated` and pages
//! redirect to `/login`. The [`Actor`] found is put in the request's extensions, where the
//! routes ([`CurrentActor`]) and the server functions (`app::server::actor`) take it.

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use rowbench_store::Timestamp;
use rowbench_workbench::{Actor, Workbench};
use tower_sessions::Session;

use crate::config::Mode;
use crate::routes::api_error::ApiError;

/// The session keys of a signed-in browser.
pub const USER_KEY: &str = "user_id";
pub const WORKSPACE_KEY: &str = "workspace_id";
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// How requests prove who they are.
#[derive(Clone)]
pub struct Gate {
    pub mode: Mode,
    pub workbench: Workbench,
    /// A session ends this long after sign-in.
    pub session_max: Duration,
}

/// Marks a request that came with an API token: it has no session to change.
#[derive(Debug, Clone, Copy)]
pub struct ViaToken;

/// Puts the gate in front of `router`; the session layer must run before it.
pub fn guard(router: Router, gate: Gate) -> Router {
    router.layer(middleware::from_fn_with_state(gate, authenticate))
}

/// Paths anyone may reach in team mode: signing in, setting up the first account, accepting an
/// invite, the health check, and the files the sign-in page itself needs.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/setup" | "/healthz" | "/favicon.svg")
        || path.starts_with("/invite/")
        || path.starts_with("/pkg/")
}

/// The JSON API and the server functions answer in JSON; everything else is a page.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api" || path.starts_with("/rpc/")
}

async fn authenticate(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    if gate.mode == Mode::Local {
        request.extensions_mut().insert(Actor::local());
        return next.run(request).await;
    }
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        return match bearer(value) {
            Some(token) => match gate.workbench.token_actor(token).await {
                Ok(Some(actor)) => {
                    request.extensions_mut().insert(actor);
                    request.extensions_mut().insert(ViaToken);
                    next.run(request).await
                }
                Ok(None) => unauthenticated(
                    "The API token is not valid: unknown, revoked, or its owner lost access.",
                )
                .into_response(),
                Err(err) => crate::routes::api_error::ApiError::from(err).into_response(),
            },
            None => unauthenticated(
                "The Authorization header must be \"Bearer\" followed by an API token.",
            )
            .into_response(),
        };
    }
    let session = request.extensions().get::<Session>().cloned();
    if let Some(session) = session {
        match session_actor(&gate, &session).await {
            Ok(Some(actor)) => {
                request.extensions_mut().insert(actor);
                return next.run(request).await;
            }
            Ok(None) => {}
            Err(response) => return response,
        }
    }
    let path = request.uri().path();
    if is_public(path) {
        return next.run(request).await;
    }
    if is_api(path) {
        return unauthenticated("Sign in, or send an API token as \"Authorization: Bearer …\".")
            .into_response();
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let wanted = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let target = if wanted == "/" {
            "/login".to_string()
        } else {
            format!("/login?next={}", encode_query(&wanted))
        };
        return Redirect::to(&target).into_response();
    }
    unauthenticated("Sign in first.").into_response()
}

/// The session's actor, ending the session when it outlived its absolute lifetime or its
/// account lost access.
async fn session_actor(gate: &Gate, session: &Session) -> Result<Option<Actor>, Response> {
    let internal = |err: &dyn std::fmt::Display| ApiError::internal(err).into_response();
    let user = session
        .get::<i64>(USER_KEY)
        .await
        .map_err(|e| internal(&e))?;
    let Some(user) = user else {
        return Ok(None);
    };
    let since = session
        .get::<i64>(SIGNED_IN_AT_KEY)
        .await
        .map_err(|e| internal(&e))?
        .unwrap_or(0);
    let age = Timestamp::now().as_millis().saturating_sub(since);
    let max = i64::try_from(gate.session_max.as_millis()).unwrap_or(i64::MAX);
    let actor = if age > max {
        None
    } else {
        let workspace = session
            .get::<i64>(WORKSPACE_KEY)
            .await
            .map_err(|e| internal(&e))?;
        gate.workbench
            .session_actor(user, workspace)
            .await
            .map_err(|e| ApiError::from(e).into_response())?
    };
    if actor.is_none() {
        session.flush().await.map_err(|e| internal(&e))?;
    }
    Ok(actor)
}

fn bearer(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

/// `text` made safe as one query-string value.
pub fn encode_query(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The actor the gate found, for axum handlers. Missing only when a route outside the gate asks,
/// which is a bug: it answers 401 rather than act for nobody.
#[derive(Debug, Clone)]
pub struct CurrentActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for CurrentActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .map(CurrentActor)
            .ok_or_else(|| unauthenticated("Sign in first."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_header_gives_its_token_and_any_other_scheme_none() {
        let value = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(bearer(&value("Bearer rbt_abc")), Some("rbt_abc"));
        assert_eq!(bearer(&value("bearer  rbt_abc ")), Some("rbt_abc"));
        assert_eq!(bearer(&value("Basic dXNlcg==")), None);
        assert_eq!(bearer(&value("Bearer ")), None);
    }

    #[test]
    fn only_sign_in_setup_invites_health_and_the_sites_files_are_public() {
        for open in [
            "/login",
            "/setup",
            "/invite/abc",
            "/healthz",
            "/pkg/rowbench.css",
        ] {
            assert!(is_public(open), "{open}");
        }
        for closed in [
            "/",
            "/batches/1",
            "/api/batches",
            "/rpc/load_batch",
            "/loginx",
        ] {
            assert!(!is_public(closed), "{closed}");
        }
    }
}
