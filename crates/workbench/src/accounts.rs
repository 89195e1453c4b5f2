//! Team mode's accounts: signing in (argon2id passwords, throttled per account and per address),
//! who a session or an API token acts for, workspaces and their members, and tokens.
//!
//! Throttling: every wrong password counts against the account named (whether it exists or
//! not, so the answers never tell) and against the address it came from. An account's fifth
//! wrong password in a row locks it for [`Throttle::lock`], the next one after that lock for twice
//! as long, and so on up to [`Throttle::max_lock`]; an address gets four times as many tries. A
//! locked sign-in is refused without looking at the password and does not lengthen the lock, so
//! someone guessing cannot keep the owner out for longer than the lock. The right password
//! clears both counts; a count older than a day starts again.

use serde::{Deserialize, Serialize};

use crate::actor::Role;

/// The signed-in person as the pages show them: the header's name, workspace switcher and menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub email: String,
    /// May invite people and make workspaces.
    pub is_admin: bool,
    /// The workspace being worked in.
    pub workspace_id: i64,
    pub role: Role,
    pub workspaces: Vec<WorkspaceChoice>,
}

impl AccountView {
    pub fn workspace_name(&self) -> &str {
        self.workspaces
            .iter()
            .find(|w| w.id == self.workspace_id)
            .map_or("", |w| w.name.as_str())
    }
}

/// One workspace of the switcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceChoice {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// An API token as the tokens page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub workspace: String,
    pub created: String,
    /// `None` while it was never used.
    pub last_used: Option<String>,
}

/// A member of a workspace as its admins see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted: hashing a huge one would cost the server, not the guesser.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// How wrong passwords slow sign-in down (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Wrong passwords in a row an account may send before it is locked.
    pub free_failures: u32,
    /// The first lock; each lock after it is twice as long.
    pub lock: std::time::Duration,
    pub max_lock: std::time::Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            free_failures: 5,
            lock: std::time::Duration::from_secs(30),
            max_lock: std::time::Duration::from_secs(15 * 60),
        }
    }
}

impl Throttle {
    /// An address is shared by everyone behind one proxy or NAT, so it gets more tries.
    const ADDRESS_FACTOR: u32 = 4;

    /// How long `subject` is locked after its `failures`-th wrong password in a row (zero while
    /// under its free tries).
    pub fn lock_after(&self, failures: u32, address: bool) -> std::time::Duration {
        let free = if address {
            self.free_failures.saturating_mul(Self::ADDRESS_FACTOR)
        } else {
            self.free_failures
        };
        if failures < free {
            return std::time::Duration::ZERO;
        }
        let doublings = (failures - free).min(20);
        self.lock
            .saturating_mul(1u32 << doublings)
            .min(self.max_lock)
    }
}

/// An email as stored: trimmed and lower-cased; `None` if it is not an address.
pub fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

/// A new password that cannot be used, in words.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "The password must have at least {MIN_PASSWORD_CHARS} characters."
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "The password must have at most {MAX_PASSWORD_BYTES} bytes."
        ));
    }
    Ok(())
}

#[cfg(feature = "server")]
pub use server::*;

#[cfg(feature = "server")]
mod server {
    use std::net::IpAddr;
    use std::time::Duration;

    use argon2::Argon2;
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use rowbench_store::Timestamp;
    use rowbench_store::accounts::{self as stored, Failures, Membership, User};
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::actor::{Actor, LOCAL_USER};
    use crate::audit::Action;
    use crate::error::{Error, Result};
    use crate::workbench::Workbench;

    /// What a token starts with, so secret scanners and people recognise one.
    pub const TOKEN_PREFIX: &str = "rbt_";
    /// The workspace a user made without naming one goes into.
    pub const DEFAULT_WORKSPACE: &str = "Default";
    /// A token's last use is written at most this often, not on every request.
    const TOKEN_TOUCH_EVERY_MS: i64 = 60_000;

    /// Why a sign-in was refused. Neither says whether the account exists.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum SignInError {
        #[error("Wrong email or password.")]
        Wrong,
        #[error("Too many wrong passwords. Try again in {} seconds.", retry_after.as_secs().max(1))]
        Locked { retry_after: Duration },
        #[error("Something went wrong on the server; the server log has the details.")]
        Internal,
    }

    impl From<rowbench_store::StoreError> for SignInError {
        fn from(err: rowbench_store::StoreError) -> Self {
            tracing::error!(error = %err, "database error during sign-in");
            SignInError::Internal
        }
    }

    /// An account just made, and the workspace it was put in.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct NewAccount {
        pub user: User,
        pub workspace: String,
        pub role: Role,
    }

    /// Argon2id with the crate's recommended parameters (19 MiB, 2 passes).
    pub(crate) fn hash_password(password: &str) -> Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| Error::internal("hashing a password", &e))
    }

    fn password_matches(password: &str, stored: &str) -> bool {
        PasswordHash::new(stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    }

    /// A hash no password matches, verified against when the account does not exist so that a
    /// wrong email takes as long to refuse as a wrong password.
    fn decoy_hash() -> &'static str {
        static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DECOY.get_or_init(|| {
            let mut random = [0u8; 32];
            OsRng.fill_bytes(&mut random);
            hash_password(&hex(&random)).unwrap_or_default()
        })
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// What a token is stored as.
    pub fn token_hash(token: &str) -> String {
        hex(&Sha256::digest(token.as_bytes()))
    }

    fn role_of(membership: &Membership) -> Result<Role> {
        Role::parse(&membership.role).ok_or_else(|| {
            Error::internal(
                "reading a membership",
                &format!("unknown role {:?}", membership.role),
            )
        })
    }

    fn actor_of(user: &User, membership: &Membership) -> Result<Actor> {
        Ok(Actor::member(
            user.id,
            membership.workspace_id,
            membership.owner_key.clone(),
            role_of(membership)?,
        )
        .with_providers(allowed_providers(membership.providers.as_deref())?))
    }

    /// A workspace's stored provider setting read back (`None`: every configured provider).
    pub(crate) fn allowed_providers(stored: Option<&str>) -> Result<Option<Vec<String>>> {
        stored
            .map(|text| {
                serde_json::from_str(text)
                    .map_err(|e| Error::internal("reading a workspace's providers", &e))
            })
            .transpose()
    }

    fn ms(duration: Duration) -> i64 {
        i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
    }

    impl Workbench {
        /// Makes an account with `password` and puts it in `workspace` (made if missing;
        /// [`DEFAULT_WORKSPACE`] when `None`) as `role`. The first workspace ever made holds
        /// what local mode stored, so a server switched to team mode keeps its data.
        pub async fn add_user(
            &self,
            email: &str,
            password: &str,
            is_admin: bool,
            workspace: Option<&str>,
            role: Role,
        ) -> Result<NewAccount> {
            let email = normalise_email(email).ok_or_else(|| {
                Error::invalid(
                    "invalid_email",
                    format!("{:?} is not an email address.", email.trim()),
                )
            })?;
            check_new_password(password).map_err(|m| Error::invalid("weak_password", m))?;
            let name = workspace.unwrap_or(DEFAULT_WORKSPACE);
            let workspace = self.workspace_named(name).await?;
            let hash = hash_password(password)?;
            let user = stored::create_user(&self.db, &email, &hash, is_admin)
                .await?
                .ok_or_else(|| {
                    Error::conflict(
                        "email_taken",
                        format!(
                            "An account for {email} exists. To put it in another workspace too, \
                             an admin of that workspace adds it under Settings → Members or \
                             invites it."
                        ),
                    )
                })?;
            stored::set_membership(&self.db, user.id, workspace.id, role.name()).await?;
            Ok(NewAccount {
                user,
                workspace: workspace.name,
                role,
            })
        }

        /// Workspace `name`, made now if it does not exist.
        pub async fn workspace_named(&self, name: &str) -> Result<stored::Workspace> {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 80 {
                return Err(Error::invalid(
                    "invalid_workspace",
                    "A workspace name must have 1 to 80 characters.",
                ));
            }
            if let Some(found) = stored::workspace_by_name(&self.db, name).await? {
                return Ok(found);
            }
            let key = if stored::count_workspaces(&self.db).await? == 0 {
                LOCAL_USER.to_string()
            } else {
                let mut random = [0u8; 12];
                OsRng.fill_bytes(&mut random);
                format!("w-{}", hex(&random))
            };
            match stored::create_workspace(&self.db, name, &key).await? {
                Some(made) => Ok(made),
                // Made at the same moment by someone else.
                None => stored::workspace_by_name(&self.db, name)
                    .await?
                    .ok_or_else(|| Error::internal("making a workspace", &"it vanished")),
            }
        }

        /// Checks `email` and `password`, throttled per account and per `address`; the account.
        pub async fn sign_in(
            &self,
            email: &str,
            password: &str,
            address: Option<IpAddr>,
        ) -> std::result::Result<User, SignInError> {
            let email = normalise_email(email).unwrap_or_else(|| email.trim().to_lowercase());
            let now = Timestamp::now();
            let mut subjects = vec![(format!("account:{email}"), false)];
            if let Some(ip) = address {
                subjects.push((format!("address:{ip}"), true));
            }
            let mut counts = Vec::with_capacity(subjects.len());
            for (subject, _) in &subjects {
                let count = stored::failures(&self.db, subject).await?;
                if let Some(count) = count
                    && count.locked_until > now
                {
                    let wait = (count.locked_until.as_millis() - now.as_millis()).max(0);
                    return Err(SignInError::Locked {
                        retry_after: Duration::from_millis(wait.unsigned_abs()),
                    });
                }
                counts.push(count);
            }
            let found = if password.len() > MAX_PASSWORD_BYTES {
                None
            } else {
                stored::user_with_hash(&self.db, &email).await?
            };
            let right = match &found {
                Some((user, hash)) => {
                    password_matches(password, hash) && user.disabled_at.is_none()
                }
                None => {
                    let _ = password_matches(password, decoy_hash());
                    false
                }
            };
            if right && let Some((user, _)) = found {
                for (subject, _) in &subjects {
                    stored::clear_failures(&self.db, subject).await?;
                }
                return Ok(user);
            }
            for ((subject, address), count) in subjects.iter().zip(counts) {
                let stale =
                    count.is_none_or(|c| now.as_millis() - c.last_at.as_millis() > 86_400_000);
                let failures = if stale {
                    1
                } else {
                    count.map_or(1, |c| c.failures + 1)
                };
                let lock = self
                    .throttle
                    .lock_after(u32::try_from(failures).unwrap_or(u32::MAX), *address);
                let locked_until = if lock.is_zero() {
                    Timestamp(0)
                } else {
                    Timestamp(now.as_millis().saturating_add(ms(lock)))
                };
                stored::set_failures(
                    &self.db,
                    subject,
                    Failures {
                        failures,
                        last_at: now,
                        locked_until,
                    },
                )
                .await?;
                if !address && !lock.is_zero() {
                    tracing::warn!(
                        failures,
                        lock_secs = lock.as_secs(),
                        "an account is locked after wrong passwords"
                    );
                }
            }
            Err(SignInError::Wrong)
        }

        /// Who user `user_id` acts as: in `workspace_id` if they still belong to it, else in
        /// their first workspace. `None` if the account is gone, disabled, or in no workspace.
        pub async fn session_actor(
            &self,
            user_id: i64,
            workspace_id: Option<i64>,
        ) -> Result<Option<Actor>> {
            let Some(user) = stored::user(&self.db, user_id).await? else {
                return Ok(None);
            };
            if user.disabled_at.is_some() {
                return Ok(None);
            }
            let chosen = match workspace_id {
                Some(id) => stored::membership(&self.db, user_id, id).await?,
                None => None,
            };
            let membership = match chosen {
                Some(found) => Some(found),
                None => stored::memberships(&self.db, user_id)
                    .await?
                    .into_iter()
                    .next(),
            };
            membership.map(|m| actor_of(&user, &m)).transpose()
        }

        /// Who a presented API token acts as: its owner, in the token's workspace, with the
        /// owner's role there now. `None` for an unknown or revoked token, a disabled owner, or
        /// one no longer in that workspace.
        pub async fn token_actor(&self, token: &str) -> Result<Option<Actor>> {
            if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
                return Ok(None);
            }
            let Some(owner) = stored::token_owner(&self.db, &token_hash(token)).await? else {
                return Ok(None);
            };
            let Some(user) = stored::user(&self.db, owner.user_id).await? else {
                return Ok(None);
            };
            if user.disabled_at.is_some() {
                return Ok(None);
            }
            let Some(membership) =
                stored::membership(&self.db, owner.user_id, owner.workspace_id).await?
            else {
                return Ok(None);
            };
            let now = Timestamp::now();
            if owner
                .last_used_at
                .is_none_or(|at| now.as_millis() - at.as_millis() >= TOKEN_TOUCH_EVERY_MS)
            {
                stored::touch_token(&self.db, owner.token_id, now).await?;
            }
            Ok(Some(actor_of(&user, &membership)?))
        }

        /// The signed-in person, for the header.
        pub async fn account(&self, actor: &Actor) -> Result<Option<AccountView>> {
            let Some(member) = actor.team_member() else {
                return Ok(None);
            };
            let user = stored::user(&self.db, member.user_id)
                .await?
                .ok_or_else(|| Error::not_found("The account"))?;
            let workspaces = stored::memberships(&self.db, member.user_id)
                .await?
                .iter()
                .map(|m| {
                    Ok(WorkspaceChoice {
                        id: m.workspace_id,
                        name: m.workspace_name.clone(),
                        role: role_of(m)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Some(AccountView {
                email: user.email,
                is_admin: user.is_admin,
                workspace_id: member.workspace_id,
                role: actor.role(),
                workspaces,
            }))
        }

        /// Creates API token `name` for `email`, acting in `workspace` (by name; the user's
        /// first workspace when `None`). The token itself: shown once, only its hash is kept.
        pub async fn create_token_for(
            &self,
            email: &str,
            name: &str,
            workspace: Option<&str>,
        ) -> Result<String> {
            let email = normalise_email(email)
                .ok_or_else(|| Error::invalid("invalid_email", "That is not an email address."))?;
            let (user, _) = stored::user_with_hash(&self.db, &email)
                .await?
                .ok_or_else(|| Error::not_found(format!("The account {email}")))?;
            let memberships = stored::memberships(&self.db, user.id).await?;
            let membership = match workspace {
                Some(wanted) => memberships.into_iter().find(|m| m.workspace_name == wanted),
                None => memberships.into_iter().next(),
            }
            .ok_or_else(|| {
                Error::not_found(format!(
                    "A workspace {}of {email}",
                    workspace.map(|w| format!("{w:?} ")).unwrap_or_default()
                ))
            })?;
            self.new_token(user.id, membership.workspace_id, name).await
        }

        /// Creates API token `name` for the actor, in the workspace they act in.
        pub async fn create_token(&self, actor: &Actor, name: &str) -> Result<String> {
            let member = actor
                .team_member()
                .ok_or_else(|| Error::invalid("local_mode", "Local mode needs no API tokens."))?;
            let token = self
                .new_token(member.user_id, member.workspace_id, name)
                .await?;
            self.audit(actor, Action::TokenCreate, "token", name.trim())
                .await;
            Ok(token)
        }

        async fn new_token(&self, user_id: i64, workspace_id: i64, name: &str) -> Result<String> {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 80 {
                return Err(Error::invalid(
                    "invalid_token_name",
                    "A token's name must have 1 to 80 characters.",
                ));
            }
            let mut random = [0u8; 32];
            OsRng.fill_bytes(&mut random);
            let token = format!("{TOKEN_PREFIX}{}", hex(&random));
            stored::create_token(&self.db, user_id, workspace_id, name, &token_hash(&token))
                .await?;
            Ok(token)
        }

        /// The actor's working tokens, newest first.
        pub async fn tokens(&self, actor: &Actor) -> Result<Vec<TokenView>> {
            let Some(member) = actor.team_member() else {
                return Ok(Vec::new());
            };
            Ok(stored::tokens(&self.db, member.user_id)
                .await?
                .into_iter()
                .map(|t| TokenView {
                    id: t.id,
                    name: t.name,
                    workspace: t.workspace_name,
                    created: crate::display_time(t.created_at),
                    last_used: t.last_used_at.map(crate::display_time),
                })
                .collect())
        }

        /// Revokes the actor's token `id`.
        pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<()> {
            let member = actor
                .team_member()
                .ok_or_else(|| Error::not_found(format!("Token {id}")))?;
            if stored::revoke_token(&self.db, member.user_id, id).await? {
                self.audit(actor, Action::TokenRevoke, &format!("token {id}"), "")
                    .await;
                Ok(())
            } else {
                Err(Error::not_found(format!("Token {id}")))
            }
        }

        /// Changes the actor's password, given the current one.
        pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
            let member = actor
                .team_member()
                .ok_or_else(|| Error::invalid("local_mode", "Local mode has no passwords."))?;
            let stored_hash = stored::password_hash(&self.db, member.user_id)
                .await?
                .ok_or_else(|| Error::not_found("The account"))?;
            if current.len() > MAX_PASSWORD_BYTES || !password_matches(current, &stored_hash) {
                return Err(
                    Error::invalid("wrong_password", "The current password is not right.")
                        .with_details(serde_json::json!({"field": "current"})),
                );
            }
            check_new_password(new).map_err(|m| {
                Error::invalid("weak_password", m).with_details(serde_json::json!({"field": "new"}))
            })?;
            stored::set_password(&self.db, member.user_id, &hash_password(new)?).await?;
            Ok(())
        }

        /// Sets a new password for the account of `email` (the command line's `rowbench user
        /// password`, for someone who forgot theirs) and ends any lock of its sign-in.
        pub async fn reset_password(&self, email: &str, password: &str) -> Result<()> {
            let email = normalise_email(email)
                .ok_or_else(|| Error::invalid("invalid_email", "That is not an email address."))?;
            check_new_password(password).map_err(|m| Error::invalid("weak_password", m))?;
            let (user, _) = stored::user_with_hash(&self.db, &email)
                .await?
                .ok_or_else(|| Error::not_found(format!("The account {email}")))?;
            stored::set_password(&self.db, user.id, &hash_password(password)?).await?;
            stored::clear_failures(&self.db, &format!("account:{email}")).await?;
            Ok(())
        }

        /// The members of the actor's workspace (its admins only).
        pub async fn members(&self, actor: &Actor) -> Result<Vec<MemberView>> {
            let member = self.administered(actor, "see the members")?;
            stored::members(&self.db, member.workspace_id)
                .await?
                .into_iter()
                .map(|m| {
                    Ok(MemberView {
                        user_id: m.user_id,
                        role: Role::parse(&m.role).ok_or_else(|| {
                            Error::internal("reading a member", &format!("role {:?}", m.role))
                        })?,
                        email: m.email,
                        disabled: m.disabled_at.is_some(),
                    })
                })
                .collect()
        }

        /// Puts the account of `email` in the actor's workspace as `role`, or changes the role
        /// it has there (its admins only). An admin cannot lower their own role, so a
        /// workspace never loses its last admin by accident.
        pub async fn set_member(
            &self,
            actor: &Actor,
            email: &str,
            role: Role,
        ) -> Result<MemberView> {
            let member = self.administered(actor, "manage members")?;
            let email = normalise_email(email).ok_or_else(|| {
                Error::invalid("invalid_email", "That is not an email address.")
                    .with_details(serde_json::json!({"field": "email"}))
            })?;
            let (user, _) = stored::user_with_hash(&self.db, &email)
                .await?
                .ok_or_else(|| Error::not_found(format!("The account {email}")))?;
            if user.id == member.user_id && role != Role::Admin {
                return Err(Error::conflict(
                    "own_role",
                    "You cannot lower your own role; another admin can.",
                ));
            }
            stored::set_membership(&self.db, user.id, member.workspace_id, role.name()).await?;
            self.audit(
                actor,
                Action::MemberSet,
                &format!("member {}", user.id),
                &format!("{} as {}", user.email, role.name()),
            )
            .await;
            Ok(MemberView {
                user_id: user.id,
                email: user.email,
                role,
                disabled: user.disabled_at.is_some(),
            })
        }

        /// Takes user `user_id` out of the actor's workspace (its admins only; not themselves).
        pub async fn remove_member(&self, actor: &Actor, user_id: i64) -> Result<()> {
            let member = self.administered(actor, "manage members")?;
            if user_id == member.user_id {
                return Err(Error::conflict(
                    "own_membership",
                    "You cannot remove yourself; another admin can.",
                ));
            }
            if stored::remove_membership(&self.db, user_id, member.workspace_id).await? {
                self.audit(
                    actor,
                    Action::MemberRemove,
                    &format!("member {user_id}"),
                    "",
                )
                .await;
                Ok(())
            } else {
                Err(Error::not_found(format!("Member {user_id}")))
            }
        }

        /// The actor's team membership if they administer its workspace.
        fn administered(&self, actor: &Actor, doing: &str) -> Result<crate::actor::Member> {
            let member = actor.team_member().ok_or_else(|| {
                Error::invalid("local_mode", "Local mode has no workspaces or members.")
            })?;
            actor.must_administer(doing)?;
            Ok(member)
        }

        /// Whether any account exists (the setup page is there only while none does).
        pub async fn has_accounts(&self) -> Result<bool> {
            Ok(stored::count_users(&self.db).await? > 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_kept_lower_cased_and_trimmed_and_a_non_address_is_refused() {
        assert_eq!(
            normalise_email("  Ann@Example.COM ").as_deref(),
            Some("ann@example.com")
        );
        for bad in ["ann", "@example.com", "ann@", "a b@example.com", "a@b@c"] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_fifth_wrong_password_locks_an_account_and_each_lock_after_it_doubles_up_to_the_cap() {
        let throttle = Throttle::default();
        let secs = |n, address| throttle.lock_after(n, address).as_secs();
        assert_eq!(secs(4, false), 0);
        assert_eq!(secs(5, false), 30);
        assert_eq!(secs(6, false), 60);
        assert_eq!(secs(9, false), 480);
        assert_eq!(secs(10, false), 900);
        assert_eq!(secs(500, false), 900);
        assert_eq!(secs(19, true), 0);
        assert_eq!(secs(20, true), 30);
    }

    #[test]
    fn a_short_password_is_refused_with_the_length_it_needs() {
        let refused = check_new_password("short").expect_err("too short");
        assert!(refused.contains("10 characters"), "{refused}");
        assert!(check_new_password("long enough pass").is_ok());
    }
}
