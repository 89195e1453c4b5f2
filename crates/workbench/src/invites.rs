//! Invitations: a workspace admin invites an email with a role; the invitee opens the one-time
//! link (valid for [`INVITE_DAYS`] days), sets a password if they have no account yet or gives
//! theirs if they do, and is a member from then on. Only the hash of a link's code is stored.

use serde::{Deserialize, Serialize};

use crate::actor::Role;

/// How long an invitation link works.
pub const INVITE_DAYS: i64 = 7;

/// An invitation just made: its code is shown this once, in the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvite {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub workspace: String,
    /// What goes after `/invite/` in the link.
    pub code: String,
    pub expires: String,
}

/// An invitation not used yet, as its workspace's admins list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub expires: String,
}

/// What the invitation page tells the invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub email: String,
    pub workspace: String,
    pub role: Role,
    /// The email has an account: the page asks for its password, not for a new one.
    pub has_account: bool,
}

#[cfg(feature = "server")]
pub use server::*;

#[cfg(feature = "server")]
mod server {
    use std::net::IpAddr;

    use argon2::password_hash::rand_core::{OsRng, RngCore};
    use rowbench_store::Timestamp;
    use rowbench_store::accounts::{self as stored, User};

    use super::*;
    use crate::accounts::{SignInError, check_new_password, normalise_email, token_hash};
    use crate::actor::Actor;
    use crate::audit::Action;
    use crate::error::{Error, Result};
    use crate::workbench::Workbench;

    /// Why an invitation could not be taken up.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum AcceptError {
        /// Unknown, used, or expired: the same to the visitor.
        #[error(
            "This invitation link is not valid any more: it was used, it expired, or it was withdrawn. Ask an admin of the workspace for a new one."
        )]
        Gone,
        /// The new password cannot be used, or the two do not match.
        #[error("{0}")]
        Password(String),
        /// The existing account's password was wrong, or sign-in is locked.
        #[error(transparent)]
        SignIn(#[from] SignInError),
    }

    impl From<Error> for AcceptError {
        fn from(err: Error) -> Self {
            tracing::error!(error = %err, "taking up an invitation");
            AcceptError::SignIn(SignInError::Internal)
        }
    }

    impl From<rowbench_store::StoreError> for AcceptError {
        fn from(err: rowbench_store::StoreError) -> Self {
            AcceptError::from(Error::from(err))
        }
    }

    fn role_of(text: &str) -> Result<Role> {
        Role::parse(text)
            .ok_or_else(|| Error::internal("reading an invitation", &format!("role {text:?}")))
    }

    impl Workbench {
        /// Invites `email` into the actor's workspace as `role` (its admins only). Someone
        /// already in the workspace is a conflict: change their role instead.
        pub async fn invite(&self, actor: &Actor, email: &str, role: Role) -> Result<NewInvite> {
            actor.must_administer("invite people")?;
            let member = actor.team_member().ok_or_else(|| {
                Error::invalid("local_mode", "Local mode has one user and no invitations.")
            })?;
            let email = normalise_email(email).ok_or_else(|| {
                Error::invalid(
                    "invalid_email",
                    format!("{:?} is not an email address.", email.trim()),
                )
                .with_details(serde_json::json!({"field": "email"}))
            })?;
            if let Some((user, _)) = stored::user_with_hash(&self.db, &email).await?
                && stored::membership(&self.db, user.id, member.workspace_id)
                    .await?
                    .is_some()
            {
                return Err(Error::conflict(
                    "already_member",
                    format!(
                        "{email} is a member of this workspace already; change their role in the members list."
                    ),
                ));
            }
            let workspace = stored::workspace(&self.db, member.workspace_id)
                .await?
                .ok_or_else(|| Error::not_found("The workspace"))?;
            let mut random = [0u8; 32];
            OsRng.fill_bytes(&mut random);
            let code: String = random.iter().map(|b| format!("{b:02x}")).collect();
            let expires_at = Timestamp(
                Timestamp::now()
                    .as_millis()
                    .saturating_add(INVITE_DAYS * 86_400_000),
            );
            let id = stored::create_invite(
                &self.db,
                member.workspace_id,
                &email,
                role.name(),
                &token_hash(&code),
                member.user_id,
                expires_at,
            )
            .await?;
            self.audit(
                actor,
                Action::InviteCreate,
                &format!("invite {id}"),
                &format!("{email} as {}", role.name()),
            )
            .await;
            Ok(NewInvite {
                id,
                email,
                role,
                workspace: workspace.name,
                code,
                expires: crate::display_time(expires_at),
            })
        }

        /// The actor's workspace's invitations not used yet and not expired (its admins only).
        pub async fn invites(&self, actor: &Actor) -> Result<Vec<InviteView>> {
            actor.must_administer("see invitations")?;
            let Some(member) = actor.team_member() else {
                return Ok(Vec::new());
            };
            stored::open_invites(&self.db, member.workspace_id)
                .await?
                .into_iter()
                .map(|i| {
                    Ok(InviteView {
                        id: i.id,
                        role: role_of(&i.role)?,
                        email: i.email,
                        expires: crate::display_time(i.expires_at),
                    })
                })
                .collect()
        }

        /// Withdraws invitation `id` of the actor's workspace (its admins only).
        pub async fn revoke_invite(&self, actor: &Actor, id: i64) -> Result<()> {
            actor.must_administer("withdraw invitations")?;
            let member = actor
                .team_member()
                .ok_or_else(|| Error::not_found(format!("Invitation {id}")))?;
            if !stored::delete_invite(&self.db, member.workspace_id, id).await? {
                return Err(Error::not_found(format!("Invitation {id}")));
            }
            self.audit(actor, Action::InviteRevoke, &format!("invite {id}"), "")
                .await;
            Ok(())
        }

        /// What the link with `code` invites to, while it can still be used.
        pub async fn invitation(&self, code: &str) -> Result<Option<Invitation>> {
            let Some(found) = self.open_invite(code).await? else {
                return Ok(None);
            };
            let has_account = stored::user_with_hash(&self.db, &found.email)
                .await?
                .is_some();
            Ok(Some(Invitation {
                role: role_of(&found.role)?,
                email: found.email,
                workspace: found.workspace_name,
                has_account,
            }))
        }

        async fn open_invite(&self, code: &str) -> Result<Option<stored::Invite>> {
            if code.len() != 64 || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(None);
            }
            Ok(stored::invite(&self.db, &token_hash(code))
                .await?
                .filter(|i| i.used_at.is_none() && i.expires_at > Timestamp::now()))
        }

        /// Takes up the invitation with `code`: a new account gets `password` (`confirm` must
        /// match it); an existing one must give its own, throttled like a sign-in from
        /// `address`. Answers the account and the workspace it joined, to sign in to.
        pub async fn accept_invite(
            &self,
            code: &str,
            password: &str,
            confirm: Option<&str>,
            address: Option<IpAddr>,
        ) -> std::result::Result<(User, i64), AcceptError> {
            let invite = self.open_invite(code).await?.ok_or(AcceptError::Gone)?;
            let existing = stored::user_with_hash(&self.db, &invite.email).await?;
            let user = match existing {
                Some(_) => self.sign_in(&invite.email, password, address).await?,
                None => {
                    check_new_password(password).map_err(AcceptError::Password)?;
                    if confirm != Some(password) {
                        return Err(AcceptError::Password(
                            "The two passwords are not the same.".to_string(),
                        ));
                    }
                    let hash = crate::accounts::hash_password(password)?;
                    // Used first: two tabs taking the same link make one account, not two.
                    if !stored::use_invite(&self.db, invite.id).await? {
                        return Err(AcceptError::Gone);
                    }
                    let made = stored::create_user(&self.db, &invite.email, &hash, false).await?;
                    let Some(user) = made else {
                        return Err(AcceptError::Gone);
                    };
                    stored::set_membership(&self.db, user.id, invite.workspace_id, &invite.role)
                        .await?;
                    self.audit_invite_taken(&user, &invite).await;
                    return Ok((user, invite.workspace_id));
                }
            };
            if !stored::use_invite(&self.db, invite.id).await? {
                return Err(AcceptError::Gone);
            }
            // An invitation never lowers a role someone has already.
            let current = stored::membership(&self.db, user.id, invite.workspace_id).await?;
            let keep = current
                .and_then(|m| Role::parse(&m.role))
                .is_some_and(|had| had >= role_of(&invite.role).unwrap_or(Role::Viewer));
            if !keep {
                stored::set_membership(&self.db, user.id, invite.workspace_id, &invite.role)
                    .await?;
            }
            self.audit_invite_taken(&user, &invite).await;
            Ok((user, invite.workspace_id))
        }

        async fn audit_invite_taken(&self, user: &User, invite: &stored::Invite) {
            let Ok(Some(actor)) = self.session_actor(user.id, Some(invite.workspace_id)).await
            else {
                return;
            };
            self.audit(
                &actor,
                Action::InviteAccept,
                &format!("invite {}", invite.id),
                &format!("{} joined as {}", invite.email, invite.role),
            )
            .await;
        }
    }
}
