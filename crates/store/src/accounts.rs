//! Team mode's tables: users, workspaces, memberships with a role, API tokens (by hash) and the
//! count of wrong passwords per account and address. Hashing and the rules live in the use
//! cases; this module only stores what it is given.

use sqlx::FromRow;

use crate::database::on_pool;
use crate::{Database, StoreError, Timestamp};

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    pub disabled_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(FromRow)]
struct UserRecord {
    id: i64,
    email: String,
    is_admin: i64,
    disabled_at: Option<Timestamp>,
    created_at: Timestamp,
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> Self {
        User {
            id: r.id,
            email: r.email,
            is_admin: r.is_admin != 0,
            disabled_at: r.disabled_at,
            created_at: r.created_at,
        }
    }
}

const USER_COLUMNS: &str = "id, email, is_admin, disabled_at, created_at";

/// A workspace: whose data is whose.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Workspace {
    pub id: i64,
    pub name: String,
    /// What the data tables' `owner` column holds for this workspace.
    pub owner_key: String,
    /// JSON array of provider ids the workspace may run; `None` allows every configured one.
    pub providers: Option<String>,
    pub created_at: Timestamp,
}

const WORKSPACE_COLUMNS: &str = "id, name, owner_key, providers, created_at";

/// One user's place in one workspace.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Membership {
    pub workspace_id: i64,
    pub workspace_name: String,
    pub owner_key: String,
    /// `viewer`, `editor` or `admin`.
    pub role: String,
    /// The workspace's [`Workspace::providers`].
    pub providers: Option<String>,
}

/// A workspace's member as its admins see them.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub role: String,
    pub disabled_at: Option<Timestamp>,
}

/// An API token as its owner sees it (never the token).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Whom a presented token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct TokenOwner {
    pub token_id: i64,
    pub user_id: i64,
    pub workspace_id: i64,
    pub last_used_at: Option<Timestamp>,
}

/// Recent wrong passwords of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct Failures {
    pub failures: i64,
    pub last_at: Timestamp,
    pub locked_until: Timestamp,
}

/// How many accounts exist (the setup page exists only while there are none).
pub async fn count_users(db: &Database) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await?
    }))
}

/// Creates an account; `None` if the email is taken. `email` must already be normalised.
pub async fn create_user(
    db: &Database,
    email: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}"
    );
    let record: Option<UserRecord> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql)
            .bind(email)
            .bind(password_hash)
            .bind(i64::from(is_admin))
            .bind(Timestamp::now())
            .fetch_optional(pool)
            .await?
    });
    Ok(record.map(User::from))
}

pub async fn user(db: &Database, id: i64) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let record: Option<UserRecord> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(record.map(User::from))
}

/// The account of `email` (normalised) and its password hash.
pub async fn user_with_hash(
    db: &Database,
    email: &str,
) -> Result<Option<(User, String)>, StoreError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRecord,
        password_hash: String,
    }
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
    let row: Option<Row> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql)
            .bind(email)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(|r| (User::from(r.user), r.password_hash)))
}

/// The password hash of user `id`.
pub async fn password_hash(db: &Database, id: i64) -> Result<Option<String>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn set_password(db: &Database, id: i64, password_hash: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Disables (or enables again) user `id`; whether there was such a user.
pub async fn set_disabled(db: &Database, id: i64, disabled: bool) -> Result<bool, StoreError> {
    let at = disabled.then(Timestamp::now);
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Every account, oldest first.
pub async fn users(db: &Database) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
    let records: Vec<UserRecord> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql).fetch_all(pool).await?
    });
    Ok(records.into_iter().map(User::from).collect())
}

pub async fn workspace_by_name(db: &Database, name: &str) -> Result<Option<Workspace>, StoreError> {
    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE name = $1");
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql).bind(name).fetch_optional(pool).await?
    }))
}

pub async fn workspace(db: &Database, id: i64) -> Result<Option<Workspace>, StoreError> {
    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE id = $1");
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    }))
}

pub async fn count_workspaces(db: &Database) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar("SELECT COUNT(*) FROM workspaces")
            .fetch_one(pool)
            .await?
    }))
}

/// Creates workspace `name` filing its data under `owner_key`; `None` if the name is taken.
pub async fn create_workspace(
    db: &Database,
    name: &str,
    owner_key: &str,
) -> Result<Option<Workspace>, StoreError> {
    let sql = format!(
        "INSERT INTO workspaces (name, owner_key, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING RETURNING {WORKSPACE_COLUMNS}"
    );
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql)
            .bind(name)
            .bind(owner_key)
            .bind(Timestamp::now())
            .fetch_optional(pool)
            .await?
    }))
}

/// Sets which providers workspace `id` may run (`None`: every configured one).
pub async fn set_workspace_providers(
    db: &Database,
    id: i64,
    providers: Option<&str>,
) -> Result<(), StoreError> {
    on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE workspaces SET providers = $2 WHERE id = $1")
            .bind(id)
            .bind(providers)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Gives `user_id` `role` in `workspace_id`, replacing the role they had there.
pub async fn set_membership(
    db: &Database,
    user_id: i64,
    workspace_id: i64,
    role: &str,
) -> Result<(), StoreError> {
    on_pool!(db, |pool, _dialect| {
        sqlx::query(
            "INSERT INTO memberships (user_id, workspace_id, role, created_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role",
        )
        .bind(user_id)
        .bind(workspace_id)
        .bind(role)
        .bind(Timestamp::now())
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Takes `user_id` out of `workspace_id`; whether they were in it.
pub async fn remove_membership(
    db: &Database,
    user_id: i64,
    workspace_id: i64,
) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND workspace_id = $2")
            .bind(user_id)
            .bind(workspace_id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

const MEMBERSHIP_SELECT: &str = "SELECT m.workspace_id, w.name AS workspace_name, w.owner_key, m.role, w.providers \
     FROM memberships m JOIN workspaces w ON w.id = m.workspace_id";

/// The workspaces `user_id` belongs to, by name.
pub async fn memberships(db: &Database, user_id: i64) -> Result<Vec<Membership>, StoreError> {
    let sql = format!("{MEMBERSHIP_SELECT} WHERE m.user_id = $1 ORDER BY w.name, w.id");
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?
    }))
}

/// `user_id`'s membership of `workspace_id`, if any.
pub async fn membership(
    db: &Database,
    user_id: i64,
    workspace_id: i64,
) -> Result<Option<Membership>, StoreError> {
    let sql = format!("{MEMBERSHIP_SELECT} WHERE m.user_id = $1 AND m.workspace_id = $2");
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?
    }))
}

/// The members of `workspace_id`, by email.
pub async fn members(db: &Database, workspace_id: i64) -> Result<Vec<Member>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT u.id AS user_id, u.email, m.role, u.disabled_at \
             FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = $1 ORDER BY u.email",
        )
        .bind(workspace_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Stores a new token of `user_id` acting in `workspace_id`, by its hash; its id.
pub async fn create_token(
    db: &Database,
    user_id: i64,
    workspace_id: i64,
    name: &str,
    token_hash: &str,
) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, workspace_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(workspace_id)
        .bind(name)
        .bind(token_hash)
        .bind(Timestamp::now())
        .fetch_one(pool)
        .await?
    }))
}

/// Who the unrevoked token with `token_hash` belongs to.
pub async fn token_owner(
    db: &Database,
    token_hash: &str,
) -> Result<Option<TokenOwner>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT id AS token_id, user_id, workspace_id, last_used_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?
    }))
}

/// Records that token `id` was used at `at`.
pub async fn touch_token(db: &Database, id: i64, at: Timestamp) -> Result<(), StoreError> {
    on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// `user_id`'s tokens that still work, newest first.
pub async fn tokens(db: &Database, user_id: i64) -> Result<Vec<Token>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT t.id, t.name, t.workspace_id, w.name AS workspace_name, t.created_at, \
             t.last_used_at FROM api_tokens t JOIN workspaces w ON w.id = t.workspace_id \
             WHERE t.user_id = $1 AND t.revoked_at IS NULL ORDER BY t.created_at DESC, t.id DESC",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Revokes `user_id`'s token `id`; whether there was such a working token.
pub async fn revoke_token(db: &Database, user_id: i64, id: i64) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 \
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(user_id)
        .bind(Timestamp::now())
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

/// The recent wrong passwords of `subject`.
pub async fn failures(db: &Database, subject: &str) -> Result<Option<Failures>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT failures, last_at, locked_until FROM login_failures WHERE subject = $1",
        )
        .bind(subject)
        .fetch_optional(pool)
        .await?
    }))
}

/// Stores `subject`'s count of wrong passwords and its lock.
pub async fn set_failures(
    db: &Database,
    subject: &str,
    failures: Failures,
) -> Result<(), StoreError> {
    on_pool!(db, |pool, _dialect| {
        sqlx::query(
            "INSERT INTO login_failures (subject, failures, last_at, locked_until) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (subject) DO UPDATE SET \
             failures = excluded.failures, last_at = excluded.last_at, \
             locked_until = excluded.locked_until",
        )
        .bind(subject)
        .bind(failures.failures)
        .bind(failures.last_at)
        .bind(failures.locked_until)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Forgets `subject`'s wrong passwords (after a right one).
pub async fn clear_failures(db: &Database, subject: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool, _dialect| {
        sqlx::query("DELETE FROM login_failures WHERE subject = $1")
            .bind(subject)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// An invitation as its link finds it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Invite {
    pub id: i64,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub email: String,
    pub role: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Stores an invitation by the hash of its code; its id.
pub async fn create_invite(
    db: &Database,
    workspace_id: i64,
    email: &str,
    role: &str,
    code_hash: &str,
    invited_by: i64,
    expires_at: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_scalar(
            "INSERT INTO invites (workspace_id, email, role, code_hash, invited_by, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(workspace_id)
        .bind(email)
        .bind(role)
        .bind(code_hash)
        .bind(invited_by)
        .bind(Timestamp::now())
        .bind(expires_at)
        .fetch_one(pool)
        .await?
    }))
}

/// The invitation whose code hashes to `code_hash`, used or not.
pub async fn invite(db: &Database, code_hash: &str) -> Result<Option<Invite>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT i.id, i.workspace_id, w.name AS workspace_name, i.email, i.role, \
             i.expires_at, i.used_at FROM invites i JOIN workspaces w ON w.id = i.workspace_id \
             WHERE i.code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(pool)
        .await?
    }))
}

/// Marks invitation `id` used, once: whether this call was the one that used it.
pub async fn use_invite(db: &Database, id: i64) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE invites SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
            .bind(id)
            .bind(Timestamp::now())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Deletes invitation `id` of `workspace_id` if it is still open: whether it was.
pub async fn delete_invite(db: &Database, workspace_id: i64, id: i64) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query("DELETE FROM invites WHERE id = $1 AND workspace_id = $2 AND used_at IS NULL")
            .bind(id)
            .bind(workspace_id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// The invitations of `workspace_id` not used yet and not expired, newest first.
pub async fn open_invites(db: &Database, workspace_id: i64) -> Result<Vec<Invite>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT i.id, i.workspace_id, w.name AS workspace_name, i.email, i.role, \
             i.expires_at, i.used_at FROM invites i JOIN workspaces w ON w.id = i.workspace_id \
             WHERE i.workspace_id = $1 AND i.used_at IS NULL AND i.expires_at > $2 \
             ORDER BY i.created_at DESC, i.id DESC",
        )
        .bind(workspace_id)
        .bind(Timestamp::now())
        .fetch_all(pool)
        .await?
    }))
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub at: Timestamp,
}

/// What one audit line says happened.
#[derive(Debug, Clone, Copy)]
pub struct AuditLine<'a> {
    /// The workspace's owner key.
    pub owner: &'a str,
    pub user_id: Option<i64>,
    /// The account's email, or `local`.
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

/// Writes one line of an audit log.
pub async fn record(db: &Database, line: AuditLine<'_>) -> Result<(), StoreError> {
    on_pool!(db, |pool, _dialect| {
        sqlx::query(
            "INSERT INTO audit_events (owner, user_id, actor, action, target, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(line.owner)
        .bind(line.user_id)
        .bind(line.actor)
        .bind(line.action)
        .bind(line.target)
        .bind(line.detail)
        .bind(Timestamp::now())
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// `owner`'s audit log, newest first, at most `limit` lines from before line `before`.
pub async fn audit_log(
    db: &Database,
    owner: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT id, actor, action, target, detail, at FROM audit_events \
             WHERE owner = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(owner)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[tokio::test]
    async fn an_email_holds_one_account_and_a_workspace_name_one_workspace() {
        let (db, _place) = testing::fresh_database().await;
        let ann = create_user(&db, "ann@example.com", "hash", true)
            .await
            .expect("insert")
            .expect("new account");
        assert!(ann.is_admin);
        assert_eq!(
            create_user(&db, "ann@example.com", "other", false)
                .await
                .expect("insert"),
            None
        );
        let team = create_workspace(&db, "Team", "local")
            .await
            .expect("insert")
            .expect("new workspace");
        assert_eq!(
            create_workspace(&db, "Team", "w-2").await.expect("insert"),
            None
        );
        set_membership(&db, ann.id, team.id, "viewer")
            .await
            .expect("member");
        set_membership(&db, ann.id, team.id, "editor")
            .await
            .expect("member");
        let mine = memberships(&db, ann.id).await.expect("read");
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].role, "editor");
        assert_eq!(mine[0].owner_key, "local");
        assert_eq!(count_users(&db).await.expect("count"), 1);
    }

    #[tokio::test]
    async fn an_invitation_is_open_until_it_is_used_once_or_expires() {
        let (db, _place) = testing::fresh_database().await;
        let ann = create_user(&db, "ann@example.com", "hash", true)
            .await
            .expect("insert")
            .expect("new");
        let team = create_workspace(&db, "Team", "w-1")
            .await
            .expect("insert")
            .expect("new");
        let later = Timestamp(Timestamp::now().as_millis() + 60_000);
        let earlier = Timestamp(Timestamp::now().as_millis() - 1);
        let open = create_invite(
            &db,
            team.id,
            "bo@example.com",
            "viewer",
            "h1",
            ann.id,
            later,
        )
        .await
        .expect("invite");
        create_invite(
            &db,
            team.id,
            "cy@example.com",
            "editor",
            "h2",
            ann.id,
            earlier,
        )
        .await
        .expect("invite");
        let listed = open_invites(&db, team.id).await.expect("list");
        assert_eq!(listed.len(), 1, "the expired one is not open");
        assert_eq!(listed[0].email, "bo@example.com");
        let found = invite(&db, "h1").await.expect("read").expect("found");
        assert_eq!(
            (found.workspace_name.as_str(), found.used_at),
            ("Team", None)
        );
        assert!(use_invite(&db, open).await.expect("use"));
        assert!(!use_invite(&db, open).await.expect("use"), "only once");
        assert!(open_invites(&db, team.id).await.expect("list").is_empty());
        assert!(
            !delete_invite(&db, team.id, open).await.expect("delete"),
            "a used one stays"
        );
    }

    #[tokio::test]
    async fn a_revoked_token_speaks_for_nobody() {
        let (db, _place) = testing::fresh_database().await;
        let ann = create_user(&db, "ann@example.com", "hash", false)
            .await
            .expect("insert")
            .expect("new");
        let team = create_workspace(&db, "Team", "w-1")
            .await
            .expect("insert")
            .expect("new");
        let id = create_token(&db, ann.id, team.id, "ci", "abc")
            .await
            .expect("token");
        let owner = token_owner(&db, "abc").await.expect("read").expect("owner");
        assert_eq!((owner.user_id, owner.workspace_id), (ann.id, team.id));
        assert_eq!(tokens(&db, ann.id).await.expect("list").len(), 1);
        assert!(revoke_token(&db, ann.id, id).await.expect("revoke"));
        assert!(!revoke_token(&db, ann.id, id).await.expect("revoke"));
        assert_eq!(token_owner(&db, "abc").await.expect("read"), None);
        assert!(tokens(&db, ann.id).await.expect("list").is_empty());
    }
}
