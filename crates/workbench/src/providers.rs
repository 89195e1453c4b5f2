//! "Check the connection": one small call to a configured model with the server's key for it,
//! answered as what works and, if not, what to fix.

use serde::{Deserialize, Serialize};

/// What "Check the connection" found: the page shows it, `POST /api/providers/check` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    pub provider: String,
    pub model: String,
    /// The address, key and model work.
    pub ok: bool,
    /// `ok`, `key_refused`, `unknown_model`, `not_an_api`, `unreachable`, `timed_out`,
    /// `rate_limited` or `failed`.
    pub code: String,
    /// What happened and what to do, for a person. Never holds the key.
    pub message: String,
    /// How long the check call took, when it worked.
    pub latency_ms: Option<u64>,
    /// The provider's HTTP status, when it answered with an error.
    pub http_status: Option<u16>,
}

#[cfg(feature = "server")]
mod server {
    use rowbench_providers::CheckVerdict;
    use serde_json::json;

    use super::ConnectionReport;
    use crate::error::{Error, Result};
    use crate::{Actor, Workbench};

    impl Workbench {
        /// Checks the connection to `model` of `provider`. A provider this server does not have
        /// is not found; a model it does not have for that provider is invalid. The offline demo
        /// answers at once.
        pub async fn check_connection(
            &self,
            actor: &Actor,
            provider: &str,
            model: &str,
        ) -> Result<ConnectionReport> {
            actor.must_edit("check provider connections")?;
            let catalog = &self.catalog;
            let Some(config) = catalog
                .provider(provider)
                .filter(|_| actor.may_use(provider))
            else {
                return Err(Error::not_found(format!(
                    "The provider \"{provider}\" (this workspace may use: {})",
                    catalog
                        .providers
                        .iter()
                        .filter(|p| actor.may_use(&p.id))
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            if catalog.model(provider, model).is_none() {
                return Err(Error::invalid(
                    "model_not_configured",
                    format!(
                        "The model \"{model}\" is not configured for provider \"{provider}\" on this server; it has: {}.",
                        config
                            .models
                            .iter()
                            .map(|m| m.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_details(json!({ "field": "model" })));
            }
            let check = rowbench_providers::check_connection(config, model).await;
            let (latency_ms, http_status) = match &check.verdict {
                CheckVerdict::Ok { latency_ms } => (Some(*latency_ms), None),
                CheckVerdict::KeyRefused { status, .. }
                | CheckVerdict::UnknownModel { status, .. } => {
                    (None, Some(*status).filter(|s| *s != 0))
                }
                CheckVerdict::NotAnApi { status, .. } | CheckVerdict::Failed { status, .. } => {
                    (None, *status)
                }
                CheckVerdict::RateLimited { .. } => (None, Some(429)),
                CheckVerdict::Unreachable { .. } | CheckVerdict::TimedOut { .. } => (None, None),
            };
            Ok(ConnectionReport {
                provider: provider.to_string(),
                model: model.to_string(),
                ok: check.is_ok(),
                code: check.verdict.code().to_string(),
                message: check.message,
                latency_ms,
                http_status,
            })
        }
    }
}
