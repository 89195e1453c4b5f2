-- Team mode: people, the workspaces their data belongs to, what each may do there, the API
-- tokens they made, and how many wrong passwords each account and address sent lately.
-- Every dataset, draft and batch names its workspace in its `owner` column (`workspaces.owner_key`);
-- local mode keeps writing `local`.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Lower-cased, so one person cannot hold two accounts by case.
    email          TEXT    NOT NULL UNIQUE,
    -- Argon2id in PHC form (salt and parameters included); never the password.
    password_hash  TEXT    NOT NULL,
    -- May invite people, make workspaces and read the audit log of every workspace.
    is_admin       INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    disabled_at    INTEGER,
    created_at     INTEGER NOT NULL
);

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    -- What the data tables' `owner` column holds for this workspace's data.
    owner_key   TEXT    NOT NULL UNIQUE,
    -- JSON array of the provider ids this workspace may run (null: every configured one).
    providers   TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE memberships (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, workspace_id)
);

CREATE INDEX memberships_by_workspace ON memberships (workspace_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The workspace the token acts in; the owner's role there is the token's role.
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    -- SHA-256 of the token, hex: the token itself is shown once and never stored.
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at DESC);

-- Wrong passwords in a row, per subject (`account:<email>` or `address:<ip>`).
CREATE TABLE login_failures (
    subject       TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0
);

-- An admin's invitation into a workspace: a one-time link (only its hash is kept) that expires.
CREATE TABLE invites (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    code_hash     TEXT    NOT NULL UNIQUE,
    invited_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);

-- Who did what to which batch or dataset, and when: shown to a workspace's admins.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The workspace (its `owner_key`, as in the data tables); `local` in local mode.
    owner       TEXT    NOT NULL,
    -- Null in local mode, or once the account is gone.
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- Kept with the event, so it still reads after the account is gone.
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    -- `batch 7`, `dataset 3`, `member 4`.
    target      TEXT    NOT NULL,
    -- What else a reader needs: the batch's name, an export's format, a role.
    detail      TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);

CREATE INDEX audit_events_by_owner_newest ON audit_events (owner, at DESC, id DESC);
