//! Running a team server: a workspace's settings (which providers it may run; the keys stay
//! server configuration and are never shown), and the server admins' list of accounts, where
//! one can be disabled (its sessions and tokens stop working at once) and enabled again.

use serde::{Deserialize, Serialize};

/// A workspace's settings as its admins see and change them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSettings {
    pub name: String,
    /// The provider ids the workspace may run; `None`: every one the server has.
    pub providers: Option<Vec<String>>,
    /// Every provider the server has, to choose from.
    pub available: Vec<ProviderOption>,
}

/// A provider the server has: its id and name, never its address or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderOption {
    pub id: String,
    pub label: String,
}

/// An account as the server admins list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created: String,
}

#[cfg(feature = "server")]
mod server {
    use rowbench_store::accounts as stored;

    use super::*;
    use crate::accounts::allowed_providers;
    use crate::actor::Actor;
    use crate::audit::Action;
    use crate::error::{Error, Result};
    use crate::workbench::Workbench;

    impl Workbench {
        /// The settings of the actor's workspace (its admins only).
        pub async fn workspace_settings(&self, actor: &Actor) -> Result<WorkspaceSettings> {
            actor.must_administer("see the workspace's settings")?;
            let member = actor.team_member().ok_or_else(|| {
                Error::invalid("local_mode", "Local mode has no workspace settings.")
            })?;
            let workspace = stored::workspace(&self.db, member.workspace_id)
                .await?
                .ok_or_else(|| Error::not_found("The workspace"))?;
            Ok(WorkspaceSettings {
                name: workspace.name,
                providers: allowed_providers(workspace.providers.as_deref())?,
                available: self
                    .catalog
                    .providers
                    .iter()
                    .map(|p| ProviderOption {
                        id: p.id.clone(),
                        label: p.label.clone(),
                    })
                    .collect(),
            })
        }

        /// Lets the actor's workspace run only `providers` (`None`: every one the server has;
        /// its admins only). Batches already running keep their provider.
        pub async fn set_workspace_providers(
            &self,
            actor: &Actor,
            providers: Option<Vec<String>>,
        ) -> Result<WorkspaceSettings> {
            actor.must_administer("change the workspace's settings")?;
            let member = actor.team_member().ok_or_else(|| {
                Error::invalid("local_mode", "Local mode has no workspace settings.")
            })?;
            if let Some(list) = &providers {
                if list.is_empty() {
                    return Err(Error::invalid(
                        "no_providers",
                        "Choose at least one provider, or allow every one.",
                    )
                    .with_details(serde_json::json!({"field": "providers"})));
                }
                if let Some(unknown) = list.iter().find(|id| self.catalog.provider(id).is_none()) {
                    return Err(Error::invalid(
                        "unknown_provider",
                        format!(
                            "This server has no provider \"{unknown}\"; it has: {}.",
                            self.catalog
                                .providers
                                .iter()
                                .map(|p| p.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .with_details(serde_json::json!({"field": "providers"})));
                }
            }
            let stored_text = providers
                .as_ref()
                .map(|list| {
                    serde_json::to_string(list)
                        .map_err(|e| Error::internal("saving a workspace's providers", &e))
                })
                .transpose()?;
            stored::set_workspace_providers(&self.db, member.workspace_id, stored_text.as_deref())
                .await?;
            let detail = providers
                .as_ref()
                .map_or_else(|| "every provider".to_string(), |list| list.join(", "));
            self.audit(actor, Action::SettingsProviders, "workspace", &detail)
                .await;
            self.workspace_settings(actor).await
        }

        /// Every account on the server (server admins only).
        pub async fn users(&self, actor: &Actor) -> Result<Vec<UserView>> {
            self.must_be_server_admin(actor, "see every account")
                .await?;
            Ok(stored::users(&self.db)
                .await?
                .into_iter()
                .map(|u| UserView {
                    id: u.id,
                    email: u.email,
                    is_admin: u.is_admin,
                    disabled: u.disabled_at.is_some(),
                    created: crate::display_time(u.created_at),
                })
                .collect())
        }

        /// Disables account `id` (or enables it again): a disabled account cannot sign in, and
        /// its sessions and tokens stop working on their next request. Server admins only, and
        /// not their own account.
        pub async fn set_user_disabled(
            &self,
            actor: &Actor,
            id: i64,
            disabled: bool,
        ) -> Result<UserView> {
            let me = self
                .must_be_server_admin(actor, "disable or enable accounts")
                .await?;
            if id == me {
                return Err(Error::conflict(
                    "own_account",
                    "You cannot disable your own account; another server admin can.",
                ));
            }
            if !stored::set_disabled(&self.db, id, disabled).await? {
                return Err(Error::not_found(format!("Account {id}")));
            }
            let user = stored::user(&self.db, id)
                .await?
                .ok_or_else(|| Error::not_found(format!("Account {id}")))?;
            let action = if disabled {
                Action::UserDisable
            } else {
                Action::UserEnable
            };
            self.audit(actor, action, &format!("user {id}"), &user.email)
                .await;
            Ok(UserView {
                id: user.id,
                email: user.email,
                is_admin: user.is_admin,
                disabled: user.disabled_at.is_some(),
                created: crate::display_time(user.created_at),
            })
        }

        /// The actor's account id if it is a server admin (made with `rowbench user add
        /// --admin` or on the setup page).
        async fn must_be_server_admin(&self, actor: &Actor, doing: &str) -> Result<i64> {
            let refused = || Error::forbidden(format!("Only a server admin can {doing}."));
            let member = actor.team_member().ok_or_else(refused)?;
            match stored::user(&self.db, member.user_id).await? {
                Some(user) if user.is_admin && user.disabled_at.is_none() => Ok(user.id),
                _ => Err(refused()),
            }
        }
    }
}
