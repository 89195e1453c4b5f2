//! Team mode's doors, as plain HTML forms that work without the app's script: `GET/POST /login`,
//! `POST /logout`, the one-time `GET/POST /setup` (only while no account exists, only from
//! loopback), `GET/POST /invite/{code}` (an invitation link: a new account sets its password,
//! an existing one gives it) and `POST /workspace` (the header's workspace switcher).
//!
//! Signing in cycles the session id (so an id planted before sign-in is worthless after it) and
//! records when, for the session's absolute lifetime; signing out deletes the session.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rowbench_store::Timestamp;
use rowbench_workbench::accounts::{DEFAULT_WORKSPACE, SignInError};
use rowbench_workbench::actor::Role;
use rowbench_workbench::invites::{AcceptError, Invitation};
use rowbench_workbench::{Error, Workbench};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::{CurrentActor, SIGNED_IN_AT_KEY, USER_KEY, WORKSPACE_KEY};
use crate::routes::api_error::ApiError;
use crate::wire_errors::Peer;

pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/setup", get(setup_page).post(setup))
        .route("/workspace", post(switch_workspace))
        .route("/invite/{code}", get(invite_page).post(accept_invite))
}

/// Starts a signed-in session for `user_id` (in `workspace_id`, else their first): a fresh id
/// and nothing from before, so whoever planted or saw the old id gets nothing from it.
async fn start_session(
    session: &Session,
    user_id: i64,
    workspace_id: Option<i64>,
) -> Result<(), ApiError> {
    session.clear().await;
    session
        .cycle_id()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    session
        .insert(USER_KEY, user_id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if let Some(id) = workspace_id {
        session
            .insert(WORKSPACE_KEY, id)
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    session
        .insert(SIGNED_IN_AT_KEY, Timestamp::now().as_millis())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Where to go after signing in: a path of this site only, never `//elsewhere` or a URL.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

async fn login_page(Query(query): Query<NextQuery>) -> Html<String> {
    Html(login_html(None, "", safe_next(query.next.as_deref())))
}

async fn login(
    State(workbench): State<Workbench>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(form.next.as_deref()).to_string();
    match workbench
        .sign_in(&form.email, &form.password, Some(peer.ip()))
        .await
    {
        Ok(user) => {
            start_session(&session, user.id, None).await?;
            tracing::info!(user_id = user.id, "signed in");
            Ok(Redirect::to(&next).into_response())
        }
        Err(refused) => {
            let status = match &refused {
                SignInError::Wrong => StatusCode::UNAUTHORIZED,
                SignInError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
                SignInError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let mut response = (
                status,
                Html(login_html(Some(&refused.to_string()), &form.email, &next)),
            )
                .into_response();
            if let SignInError::Locked { retry_after } = refused
                && let Ok(value) = retry_after.as_secs().max(1).to_string().parse()
            {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

async fn logout(session: Session) -> Result<Redirect, ApiError> {
    session.flush().await.map_err(|e| ApiError::internal(&e))?;
    Ok(Redirect::to("/login"))
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    workspace: String,
}

/// The setup page exists only while no account does, and only for someone on this machine.
async fn setup_allowed(workbench: &Workbench, peer: SocketAddr) -> Result<bool, ApiError> {
    Ok(peer.ip().is_loopback() && !workbench.has_accounts().await?)
}

async fn setup_page(
    State(workbench): State<Workbench>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
) -> Result<Response, ApiError> {
    if !setup_allowed(&workbench, peer).await? {
        return Ok(setup_gone());
    }
    Ok(Html(setup_html(None, "", DEFAULT_WORKSPACE)).into_response())
}

async fn setup(
    State(workbench): State<Workbench>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Result<Response, ApiError> {
    if !setup_allowed(&workbench, peer).await? {
        return Ok(setup_gone());
    }
    let workspace = match form.workspace.trim() {
        "" => DEFAULT_WORKSPACE,
        name => name,
    };
    match workbench
        .add_user(
            &form.email,
            &form.password,
            true,
            Some(workspace),
            Role::Admin,
        )
        .await
    {
        Ok(made) => {
            start_session(&session, made.user.id, None).await?;
            tracing::info!(user_id = made.user.id, "the first admin was set up");
            Ok(Redirect::to("/").into_response())
        }
        Err(Error::Invalid { message, .. } | Error::Conflict { message, .. }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(setup_html(Some(&message), &form.email, workspace)),
        )
            .into_response()),
        Err(other) => Err(other.into()),
    }
}

fn setup_gone() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Setup",
            "<div class=\"card auth-card\"><h1>Setup is done</h1>\
             <p class=\"muted\">This page exists only until the first account is made, and only \
             for someone on the server itself. <a href=\"/login\">Sign in</a>, or ask an admin \
             for an invite.</p></div>",
        )),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: Option<String>,
}

async fn invite_page(
    State(workbench): State<Workbench>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    Ok(match workbench.invitation(&code).await? {
        Some(invitation) => Html(invite_html(&code, &invitation, None)).into_response(),
        None => invite_gone(),
    })
}

async fn accept_invite(
    State(workbench): State<Workbench>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    Path(code): Path<String>,
    session: Session,
    Form(form): Form<InviteForm>,
) -> Result<Response, ApiError> {
    let Some(invitation) = workbench.invitation(&code).await? else {
        return Ok(invite_gone());
    };
    match workbench
        .accept_invite(
            &code,
            &form.password,
            form.confirm.as_deref(),
            Some(peer.ip()),
        )
        .await
    {
        Ok((user, workspace_id)) => {
            start_session(&session, user.id, Some(workspace_id)).await?;
            tracing::info!(
                user_id = user.id,
                workspace_id,
                "an invitation was taken up"
            );
            Ok(Redirect::to("/").into_response())
        }
        Err(AcceptError::Gone) => Ok(invite_gone()),
        Err(refused) => {
            let status = match &refused {
                AcceptError::Password(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AcceptError::SignIn(SignInError::Locked { .. }) => StatusCode::TOO_MANY_REQUESTS,
                AcceptError::SignIn(SignInError::Internal) => StatusCode::INTERNAL_SERVER_ERROR,
                AcceptError::SignIn(SignInError::Wrong) | AcceptError::Gone => {
                    StatusCode::UNAUTHORIZED
                }
            };
            let html = invite_html(&code, &invitation, Some(&refused.to_string()));
            Ok((status, Html(html)).into_response())
        }
    }
}

fn invite_gone() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Invitation",
            "<div class=\"card auth-card\"><h1>This invitation is not valid</h1>\
             <p class=\"muted\">It was used already, it expired, or it was withdrawn. Ask an \
             admin of the workspace for a new one, or <a href=\"/login\">sign in</a> if you \
             have an account.</p></div>",
        )),
    )
        .into_response()
}

fn invite_html(code: &str, invitation: &Invitation, error: Option<&str>) -> String {
    let fields = if invitation.has_account {
        "<label class=\"field\"><span class=\"field__label\">Your password</span>\
         <input class=\"input\" type=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required autofocus>\
         <span class=\"field__help\">You have an account: give its password to join.</span>\
         </label>"
            .to_string()
    } else {
        format!(
            "<label class=\"field\"><span class=\"field__label\">Choose a password</span>\
             <input class=\"input\" type=\"password\" name=\"password\" minlength=\"{min}\" \
             autocomplete=\"new-password\" required autofocus>\
             <span class=\"field__help\">At least {min} characters.</span></label>\
             <label class=\"field\"><span class=\"field__label\">The same password again</span>\
             <input class=\"input\" type=\"password\" name=\"confirm\" minlength=\"{min}\" \
             autocomplete=\"new-password\" required></label>",
            min = rowbench_workbench::accounts::MIN_PASSWORD_CHARS
        )
    };
    let button = if invitation.has_account {
        "Join the workspace"
    } else {
        "Make my account"
    };
    page(
        "Invitation",
        &format!(
            "<div class=\"card auth-card\">\
             <h1>Join {workspace}</h1>\
             <p class=\"muted\">You were invited to the workspace <strong>{workspace}</strong> \
             as <strong>{role}</strong> ({what}).</p>\
             {alert}\
             <form method=\"post\" action=\"/invite/{code}\" class=\"auth-form\">\
             <label class=\"field\"><span class=\"field__label\">Email</span>\
             <input class=\"input\" type=\"email\" name=\"email\" autocomplete=\"username\" \
             value=\"{email}\" readonly></label>\
             {fields}\
             <button class=\"btn btn--primary btn--lg\" type=\"submit\">{button}</button>\
             </form></div>",
            workspace = escape(&invitation.workspace),
            role = invitation.role.name(),
            what = invitation.role.describe(),
            alert = alert(error),
            code = escape(code),
            email = escape(&invitation.email),
        ),
    )
}

#[derive(Debug, Deserialize)]
struct SwitchForm {
    workspace: i64,
}

async fn switch_workspace(
    State(workbench): State<Workbench>,
    CurrentActor(actor): CurrentActor,
    session: Session,
    Form(form): Form<SwitchForm>,
) -> Result<Response, ApiError> {
    let Some(member) = actor.team_member() else {
        return Err(ApiError::not_found("The workspace"));
    };
    match workbench
        .session_actor(member.user_id, Some(form.workspace))
        .await?
    {
        Some(now) if now.team_member().map(|m| m.workspace_id) == Some(form.workspace) => {
            session
                .insert(WORKSPACE_KEY, form.workspace)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            // The page being looked at belongs to the workspace left.
            Ok(Redirect::to("/").into_response())
        }
        _ => Err(ApiError::not_found("The workspace")),
    }
}

/// `text` safe inside HTML text and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn alert(error: Option<&str>) -> String {
    error.map_or_else(String::new, |message| {
        format!(
            "<div class=\"alert alert--danger\" role=\"alert\">{}</div>",
            escape(message)
        )
    })
}

fn login_html(error: Option<&str>, email: &str, next: &str) -> String {
    let autofocus_email = if email.is_empty() { " autofocus" } else { "" };
    let autofocus_password = if email.is_empty() { "" } else { " autofocus" };
    page(
        "Sign in",
        &format!(
            "<div class=\"card auth-card\">\
             <h1>Sign in</h1>\
             <p class=\"muted\">This Rowbench is shared by a team; sign in with the account an \
             admin made for you.</p>\
             {alert}\
             <form method=\"post\" action=\"/login\" class=\"auth-form\">\
             <input type=\"hidden\" name=\"next\" value=\"{next}\">\
             <label class=\"field\"><span class=\"field__label\">Email</span>\
             <input class=\"input\" type=\"email\" name=\"email\" autocomplete=\"username\" \
             required value=\"{email}\"{autofocus_email}></label>\
             <label class=\"field\"><span class=\"field__label\">Password</span>\
             <input class=\"input\" type=\"password\" name=\"password\" \
             autocomplete=\"current-password\" required{autofocus_password}></label>\
             <button class=\"btn btn--primary btn--lg\" type=\"submit\">Sign in</button>\
             </form>\
             <p class=\"field__help\">Forgot your password? The server's admin can set a new \
             one with <code>rowbench user password</code>.</p>\
             </div>",
            alert = alert(error),
            next = escape(next),
            email = escape(email),
        ),
    )
}

fn setup_html(error: Option<&str>, email: &str, workspace: &str) -> String {
    page(
        "Set up",
        &format!(
            "<div class=\"card auth-card\">\
             <h1>Make the first admin</h1>\
             <p class=\"muted\">No account exists yet. The account made here is an admin: it \
             can invite the rest of the team. This page goes away once it exists.</p>\
             {alert}\
             <form method=\"post\" action=\"/setup\" class=\"auth-form\">\
             <label class=\"field\"><span class=\"field__label\">Email</span>\
             <input class=\"input\" type=\"email\" name=\"email\" autocomplete=\"username\" \
             required value=\"{email}\" autofocus></label>\
             <label class=\"field\"><span class=\"field__label\">Password</span>\
             <input class=\"input\" type=\"password\" name=\"password\" minlength=\"{min}\" \
             autocomplete=\"new-password\" required>\
             <span class=\"field__help\">At least {min} characters.</span></label>\
             <label class=\"field\"><span class=\"field__label\">First workspace</span>\
             <input class=\"input\" name=\"workspace\" value=\"{workspace}\" required>\
             <span class=\"field__help\">What local mode stored so far belongs to it.</span>\
             </label>\
             <button class=\"btn btn--primary btn--lg\" type=\"submit\">Make the admin</button>\
             </form></div>",
            alert = alert(error),
            email = escape(email),
            workspace = escape(workspace),
            min = rowbench_workbench::accounts::MIN_PASSWORD_CHARS,
        ),
    )
}

/// A whole page around `body`: the app's stylesheet and top bar, no script.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>{title} · Rowbench</title>\
         <link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\">\
         <link rel=\"stylesheet\" href=\"/pkg/rowbench.css\"></head><body>\
         <header class=\"topbar\"><div class=\"topbar__inner\">\
         <span class=\"brand\"><svg class=\"logo\" viewBox=\"0 0 32 32\" width=\"28\" height=\"28\" \
         aria-hidden=\"true\"><rect x=\"2\" y=\"2\" width=\"28\" height=\"28\" rx=\"7\" \
         class=\"logo__bg\"/><rect x=\"8\" y=\"9\" width=\"16\" height=\"3\" rx=\"1.5\" \
         class=\"logo__row\"/><rect x=\"8\" y=\"14.5\" width=\"16\" height=\"3\" rx=\"1.5\" \
         class=\"logo__row logo__row--hot\"/><rect x=\"8\" y=\"20\" width=\"11\" height=\"3\" \
         rx=\"1.5\" class=\"logo__row\"/></svg><span class=\"brand__name\">Rowbench</span></span>\
         </div></header>\
         <main id=\"main\" class=\"page auth-page\">{body}</main></body></html>",
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_only_a_path_of_this_site_is_followed() {
        assert_eq!(
            safe_next(Some("/batches/7?tab=rows")),
            "/batches/7?tab=rows"
        );
        for elsewhere in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "batches",
        ] {
            assert_eq!(safe_next(Some(elsewhere)), "/", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn what_a_visitor_typed_is_escaped_in_the_page() {
        let html = login_html(Some("<b>"), "\"><script>", "/");
        assert!(!html.contains("<script>") && !html.contains("<b>"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;"));
    }
}
