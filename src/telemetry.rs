//! Logging: human-readable lines on stderr, filtered by `RUST_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is unset: our own crates at info, the noisy ones quieter.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_sessions=warn,tower_http=info";

/// Installs the global subscriber; a second call (as in tests) is ignored.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // Ignored error: a subscriber is already installed, which is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or the journal would keep the
        // escape codes, and a search for " WARN " there would miss every warning.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
