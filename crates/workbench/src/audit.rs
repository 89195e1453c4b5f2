//! The audit log: who started, paused, resumed, cancelled, retried, deleted or exported which
//! batch, and who changed members, invitations, tokens and settings, and when. Each workspace
//! has its own; its admins read it (`GET /api/workspace/audit`, the Settings page).

use serde::{Deserialize, Serialize};

/// One line of the log as its readers get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// When, as milliseconds since the Unix epoch (for programs).
    pub at_ms: i64,
    /// When, for people (UTC).
    pub at: String,
    /// The account's email, or `local` in local mode.
    pub actor: String,
    /// `batch.start`, `batch.pause`, `batch.export`, `member.set`… (see [`Action`]).
    pub action: String,
    /// `batch 7`, `member 3`, `token 2`…
    pub target: String,
    /// The batch's name, an export's format, a role: whatever else a reader needs.
    pub detail: String,
}

/// What can happen that the log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    BatchStart,
    BatchPause,
    BatchResume,
    BatchCancel,
    BatchRetryFailed,
    BatchRunRemaining,
    BatchRerun,
    ComparisonStart,
    RowRetry,
    BatchDelete,
    BatchExport,
    MemberSet,
    MemberRemove,
    InviteCreate,
    InviteRevoke,
    InviteAccept,
    TokenCreate,
    TokenRevoke,
    SettingsProviders,
    UserDisable,
    UserEnable,
}

impl Action {
    /// The name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Action::BatchStart => "batch.start",
            Action::BatchPause => "batch.pause",
            Action::BatchResume => "batch.resume",
            Action::BatchCancel => "batch.cancel",
            Action::BatchRetryFailed => "batch.retry_failed",
            Action::BatchRunRemaining => "batch.run_remaining",
            Action::BatchRerun => "batch.rerun",
            Action::ComparisonStart => "comparison.start",
            Action::RowRetry => "row.retry",
            Action::BatchDelete => "batch.delete",
            Action::BatchExport => "batch.export",
            Action::MemberSet => "member.set",
            Action::MemberRemove => "member.remove",
            Action::InviteCreate => "invite.create",
            Action::InviteRevoke => "invite.revoke",
            Action::InviteAccept => "invite.accept",
            Action::TokenCreate => "token.create",
            Action::TokenRevoke => "token.revoke",
            Action::SettingsProviders => "settings.providers",
            Action::UserDisable => "user.disable",
            Action::UserEnable => "user.enable",
        }
    }
}

/// The most lines one read of the log answers.
pub const MAX_AUDIT_PAGE: i64 = 500;

#[cfg(feature = "server")]
mod server {
    use rowbench_store::accounts::{self as stored, AuditLine};

    use super::*;
    use crate::actor::{Actor, LOCAL_USER};
    use crate::error::Result;
    use crate::workbench::Workbench;

    impl Workbench {
        /// Writes what `actor` did to the log of the workspace they act in. A log that cannot
        /// be written is an error in the server log, not a failure of what was done: the
        /// change has happened by then, and saying it failed would be untrue.
        pub(crate) async fn audit(
            &self,
            actor: &Actor,
            action: Action,
            target: &str,
            detail: &str,
        ) {
            let member = actor.team_member();
            let email = self.actor_name(actor).await;
            let line = AuditLine {
                owner: actor.owner(),
                user_id: member.map(|m| m.user_id),
                actor: &email,
                action: action.name(),
                target,
                detail,
            };
            if let Err(err) = stored::record(&self.db, line).await {
                tracing::error!(error = %err, action = action.name(), target, "the audit line was not written");
            }
        }

        /// Who `actor` is, as logs and reviews name them: the account's email, or `local`.
        pub(crate) async fn actor_name(&self, actor: &Actor) -> String {
            match actor.team_member() {
                Some(m) => match stored::user(&self.db, m.user_id).await {
                    Ok(Some(user)) => user.email,
                    Ok(None) => format!("user {}", m.user_id),
                    Err(err) => {
                        tracing::error!(error = %err, "reading the account for its name");
                        format!("user {}", m.user_id)
                    }
                },
                None => LOCAL_USER.to_string(),
            }
        }

        /// The log of the actor's workspace, newest first: at most `limit` lines (capped at
        /// [`MAX_AUDIT_PAGE`]) from before line `before`. Its admins only.
        pub async fn audit_log(
            &self,
            actor: &Actor,
            before: Option<i64>,
            limit: i64,
        ) -> Result<Vec<AuditEntry>> {
            actor.must_administer("read the audit log")?;
            let lines = stored::audit_log(
                &self.db,
                actor.owner(),
                before,
                limit.clamp(1, MAX_AUDIT_PAGE),
            )
            .await?;
            Ok(lines
                .into_iter()
                .map(|line| AuditEntry {
                    id: line.id,
                    at_ms: line.at.as_millis(),
                    at: crate::display_time(line.at),
                    actor: line.actor,
                    action: line.action,
                    target: line.target,
                    detail: line.detail,
                })
                .collect())
        }
    }
}
