//! The one error type that crosses the server-function boundary.
//!
//! It carries what the user may see and nothing more: internals are logged on the server and
//! replaced by a generic message, so no path, query or secret ever reaches the browser.

use leptos::server_fn::Encodes;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error a page can show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (or belongs to someone else).
    #[error("{0} was not found")]
    NotFound(String),
    /// The request itself was wrong; the message says what and where.
    #[error("{0}")]
    Invalid(String),
    /// The user's role in the workspace does not allow this; the message says who may.
    #[error("{0}")]
    Forbidden(String),
    /// No one is signed in (team mode), or the session ended.
    #[error("You are not signed in, or your session has ended. Sign in again.")]
    Unauthenticated,
    /// Something failed on the server; details are in the server log only.
    #[error(
        "Something went wrong on the server. Try again; if it keeps happening, check the server log."
    )]
    Internal,
    /// The request never reached the server function, or its answer could not be read.
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status a server function answers with when it fails with this error: a client's
    /// mistake is a 4xx, only the server's own failures are a 500.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Invalid(_) => 400,
            AppError::Forbidden(_) => 403,
            AppError::Unauthenticated => 401,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server these can only come from reading the request's arguments: the client's
        // mistake. (In the browser a `Deserialization` error means the answer was unreadable.)
        #[cfg(feature = "ssr")]
        if let ServerFnErrorErr::Args(_)
        | ServerFnErrorErr::MissingArg(_)
        | ServerFnErrorErr::Deserialization(_) = &value
        {
            let message = match &value {
                ServerFnErrorErr::Deserialization(reason) => {
                    format!("error deserializing server function arguments: {reason}")
                }
                other => other.to_string(),
            };
            return AppError::Invalid(message);
        }
        AppError::Transport(value.to_string())
    }

    /// Encoding the error is the one step every failing server function goes through on the
    /// server, so it is where the answer's status is set (server functions otherwise answer
    /// every error with 500).
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(self.status())
            && !is_form_redirect()
        {
            response.set_status(status);
        }
        <JsonEncoding as Encodes<Self>>::encode(self).unwrap_or_else(|e| {
            <JsonEncoding as Encodes<Self>>::encode(&AppError::Transport(e.to_string()))
                .unwrap_or_default()
        })
    }
}

/// Whether the request is a plain HTML form's (no script): leptos_axum answers it with a redirect
/// back to the page, the error in its URL, which a status set here would replace.
#[cfg(feature = "ssr")]
fn is_form_redirect() -> bool {
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        let accepts_html = parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        accepts_html && parts.headers.contains_key(http::header::REFERER)
    })
}

impl From<ServerFnErrorErr> for AppError {
    fn from(err: ServerFnErrorErr) -> Self {
        AppError::Transport(err.to_string())
    }
}

/// A use case's refusal as a page shows it: what was not found, or the sentence that says what
/// to change (a conflict with the batch's state reads the same as an invalid request there).
#[cfg(feature = "ssr")]
impl From<rowbench_workbench::Error> for AppError {
    fn from(err: rowbench_workbench::Error) -> Self {
        use rowbench_workbench::Error;
        match err {
            Error::NotFound { what } => AppError::NotFound(what),
            Error::Invalid { message, .. } | Error::Conflict { message, .. } => {
                AppError::Invalid(message)
            }
            Error::Forbidden { message } => AppError::Forbidden(message),
            Error::Internal => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        tracing::error!(error = %err, "session error");
        AppError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_mistake_is_a_4xx_and_only_the_servers_failures_are_500() {
        assert_eq!(AppError::NotFound("Batch 9".into()).status(), 404);
        assert_eq!(AppError::Invalid("too many fields".into()).status(), 400);
        assert_eq!(AppError::Internal.status(), 500);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn arguments_the_server_cannot_read_are_the_clients_mistake_and_keep_their_text() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Args(
            "unknown variant `nowhere`".into(),
        ));
        assert_eq!(error.status(), 400);
        assert!(error.to_string().contains("`nowhere`"), "{error}");
    }

    #[test]
    fn the_encoded_error_is_the_json_the_pages_read_back() {
        let error = AppError::NotFound("Batch 9".into());
        let bytes = error.ser();
        assert_eq!(&bytes[..], br#"{"NotFound":"Batch 9"}"#);
        assert_eq!(AppError::de(bytes), error);
    }
}
