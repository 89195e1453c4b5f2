//! The one error type that crosses the server-function boundary.
//!
//! It carries what the user may see and nothing more: internals are logged on the server and
//! replaced by a generic message, so no path, query or secret ever reaches the browser.

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
    /// Something failed on the server; details are in the server log only.
    #[error(
        "Something went wrong on the server. Try again; if it keeps happening, check the server log."
    )]
    Internal,
    /// The request never reached the server function, or its answer could not be read.
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

impl From<ServerFnErrorErr> for AppError {
    fn from(err: ServerFnErrorErr) -> Self {
        AppError::Transport(err.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<rowbench_store::StoreError> for AppError {
    fn from(err: rowbench_store::StoreError) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        tracing::error!(error = %err, "session error");
        AppError::Internal
    }
}
