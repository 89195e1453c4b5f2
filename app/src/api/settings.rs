//! The Settings page's server functions: the account's password and API tokens; for a
//! workspace's admins its members, invitations, providers and audit log; for server admins
//! every account. Each is one call of the use cases, which check who may.

use leptos::prelude::*;
use rowbench_workbench::accounts::{AccountView, MemberView, TokenView};
use rowbench_workbench::actor::Role;
use rowbench_workbench::administration::{UserView, WorkspaceSettings};
use rowbench_workbench::audit::AuditEntry;
use rowbench_workbench::invites::InviteView;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many audit lines the page shows; the JSON download has more.
pub const AUDIT_ON_PAGE: i64 = 50;

/// Everything the Settings page shows, as far as the reader may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    /// `None` in local mode.
    pub account: Option<AccountView>,
    pub tokens: Vec<TokenView>,
    /// The rest only for the workspace's admins (`None` for anyone else).
    pub members: Option<Vec<MemberView>>,
    pub invites: Option<Vec<InviteView>>,
    pub workspace: Option<WorkspaceSettings>,
    pub audit: Option<Vec<AuditEntry>>,
    /// Only for server admins.
    pub users: Option<Vec<UserView>>,
}

/// A new invitation: the page makes the link from the address it was opened at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MadeInvite {
    pub email: String,
    pub role: Role,
    pub path: String,
    pub expires: String,
}

#[server(prefix = "/rpc", endpoint = "load_settings")]
pub async fn load_settings() -> Result<SettingsView, AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    let account = workbench.account(&actor).await?;
    let team = account.is_some();
    let admin = team && actor.must_administer("").is_ok();
    let server_admin = account.as_ref().is_some_and(|a| a.is_admin);
    Ok(SettingsView {
        tokens: workbench.tokens(&actor).await?,
        members: if admin {
            Some(workbench.members(&actor).await?)
        } else {
            None
        },
        invites: if admin {
            Some(workbench.invites(&actor).await?)
        } else {
            None
        },
        workspace: if admin {
            Some(workbench.workspace_settings(&actor).await?)
        } else {
            None
        },
        audit: if actor.must_administer("").is_ok() {
            Some(workbench.audit_log(&actor, None, AUDIT_ON_PAGE).await?)
        } else {
            None
        },
        users: if server_admin {
            Some(workbench.users(&actor).await?)
        } else {
            None
        },
        account,
    })
}

#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    if new != confirm {
        return Err(AppError::Invalid(
            "The new password and its repetition are not the same.".to_string(),
        ));
    }
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    Ok(workbench.change_password(&actor, &current, &new).await?)
}

#[server(prefix = "/rpc", endpoint = "create_api_token")]
pub async fn create_api_token(name: String) -> Result<String, AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    Ok(workbench.create_token(&actor, &name).await?)
}

#[server(prefix = "/rpc", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    Ok(workbench.revoke_token(&actor, id).await?)
}

#[server(prefix = "/rpc", endpoint = "invite_member")]
pub async fn invite_member(email: String, role: Role) -> Result<MadeInvite, AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    let made = workbench.invite(&actor, &email, role).await?;
    Ok(MadeInvite {
        email: made.email,
        role: made.role,
        path: format!("/invite/{}", made.code),
        expires: made.expires,
    })
}

#[server(prefix = "/rpc", endpoint = "withdraw_invite")]
pub async fn withdraw_invite(id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    Ok(workbench.revoke_invite(&actor, id).await?)
}

#[server(prefix = "/rpc", endpoint = "set_member_role")]
pub async fn set_member_role(email: String, role: Role) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    workbench.set_member(&actor, &email, role).await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "remove_workspace_member")]
pub async fn remove_workspace_member(user_id: i64) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    Ok(workbench.remove_member(&actor, user_id).await?)
}

/// `all`: every provider the server has; else only `providers`.
#[server(prefix = "/rpc", endpoint = "set_workspace_providers")]
pub async fn set_workspace_providers(all: bool, providers: Vec<String>) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    workbench
        .set_workspace_providers(&actor, (!all).then_some(providers))
        .await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "set_account_disabled")]
pub async fn set_account_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let actor = crate::server::actor()?;
    workbench.set_user_disabled(&actor, id, disabled).await?;
    Ok(())
}
