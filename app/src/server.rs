//! What server functions take from the running server: its state, provided as Leptos context.

use leptos::prelude::use_context;
use rowbench_store::Database;

use crate::error::AppError;

/// The owner of every draft and batch in local mode, where one person uses the app without login.
pub const LOCAL_USER: &str = "local";

/// Shared server state, handed to every render and server function as context.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub db: Database,
}

impl ServerState {
    /// The state provided by the server; missing only if the server was wired wrongly.
    pub fn from_context() -> Result<Self, AppError> {
        use_context::<ServerState>().ok_or_else(|| {
            tracing::error!("ServerState was not provided as context");
            AppError::Internal
        })
    }

    /// Whose data this request may see. Local mode has exactly one user.
    pub fn user(&self) -> &'static str {
        LOCAL_USER
    }
}

/// A stored timestamp as people read it on a page, e.g. `21 Nov 2026, 14:05 UTC`.
pub fn display_time(at: rowbench_store::Timestamp) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_millis()) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "unknown time".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_is_shown_as_day_month_year_and_utc_time() {
        // 2026-11-21T14:05:00Z
        let at = rowbench_store::Timestamp(1_795_269_900_000);
        assert_eq!(display_time(at), "21 Nov 2026, 14:05 UTC");
    }
}
