//! Who is asking: every use case takes one, so the checks of team mode have one place to go.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The owner of every draft and batch in local mode, where one person uses the app without login.
pub const LOCAL_USER: &str = "local";

/// What a member may do in a workspace. Each role may do everything the one before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything in the workspace and exports it.
    Viewer,
    /// Also uploads, runs, reviews, pauses, cancels, retries and deletes.
    Editor,
    /// Also manages the workspace's members and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    /// The name stored and typed on the command line: `viewer`, `editor`, `admin`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|role| role.name() == text)
    }

    /// What the role may do, for people choosing one.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Viewer => "sees and exports results",
            Role::Editor => "also uploads, runs, cancels and deletes",
            Role::Admin => "also manages members and settings",
        }
    }
}

/// The person a use case runs for, in the workspace they act in. It decides whose datasets,
/// drafts and batches a call may see and change; a batch of another workspace reads as not
/// found, never as forbidden, so that its id tells nothing. Within its workspace, what it may
/// change is its [`Role`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    owner: String,
    role: Role,
    /// The account and workspace in team mode; `None` in local mode.
    member: Option<Member>,
    /// The providers the workspace may run, by id; `None` allows every configured one.
    providers: Option<std::sync::Arc<[String]>>,
}

/// An account acting in one of its workspaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub workspace_id: i64,
}

impl Actor {
    /// The one user of a server in local mode, who may do everything.
    pub fn local() -> Self {
        Actor {
            owner: LOCAL_USER.to_string(),
            role: Role::Admin,
            member: None,
            providers: None,
        }
    }

    /// `user_id` acting in `workspace_id` (whose data is filed under `owner`) as `role`.
    pub fn member(user_id: i64, workspace_id: i64, owner: impl Into<String>, role: Role) -> Self {
        Actor {
            owner: owner.into(),
            role,
            member: Some(Member {
                user_id,
                workspace_id,
            }),
            providers: None,
        }
    }

    /// The same actor in a workspace that may run only `providers` (by id; `None`: all).
    pub fn with_providers(mut self, providers: Option<Vec<String>>) -> Self {
        self.providers = providers.map(Into::into);
        self
    }

    /// Whether the workspace may run provider `id`.
    pub fn may_use(&self, provider: &str) -> bool {
        self.providers
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|p| p == provider))
    }

    /// The providers the workspace may run, when it is limited to some.
    pub fn allowed_providers(&self) -> Option<&[String]> {
        self.providers.as_deref()
    }

    /// The owner name the store files this actor's data under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The account and workspace, in team mode.
    pub fn team_member(&self) -> Option<Member> {
        self.member
    }

    /// Whether the actor may change things (upload, run, cancel, delete…).
    pub fn can_edit(&self) -> bool {
        self.role >= Role::Editor
    }

    /// Refuses a change by a viewer: `Forbidden`, saying what they tried and who may.
    pub fn must_edit(&self, doing: &str) -> Result<()> {
        if self.can_edit() {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "Viewers cannot {doing}; ask an editor or an admin of this workspace."
            )))
        }
    }

    /// Refuses the management of members and settings to anyone but the workspace's admins.
    pub fn must_administer(&self, doing: &str) -> Result<()> {
        if self.role >= Role::Admin {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "Only an admin of this workspace can {doing}."
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_actor_owns_what_local_mode_stored_and_may_do_everything() {
        let me = Actor::local();
        assert_eq!(me.owner(), LOCAL_USER);
        assert!(me.must_edit("start a batch").is_ok());
        assert!(me.must_administer("manage members").is_ok());
    }

    #[test]
    fn a_viewer_may_change_nothing_and_an_editor_may_not_manage_members() {
        let viewer = Actor::member(1, 1, "w-1", Role::Viewer);
        let refused = viewer.must_edit("start a batch").expect_err("refused");
        assert!(matches!(refused, Error::Forbidden { .. }));
        assert!(refused.to_string().contains("start a batch"));
        let editor = Actor::member(2, 1, "w-1", Role::Editor);
        assert!(editor.must_edit("start a batch").is_ok());
        assert!(editor.must_administer("invite people").is_err());
    }

    #[test]
    fn a_role_reads_back_from_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn a_workspace_limited_to_some_providers_may_use_only_those() {
        let member = Actor::member(1, 1, "w-1", Role::Editor);
        assert!(member.may_use("openai"));
        let limited = member.with_providers(Some(vec!["demo".to_string()]));
        assert!(limited.may_use("demo"));
        assert!(!limited.may_use("openai"));
        assert!(Actor::local().may_use("anything"));
    }
}
