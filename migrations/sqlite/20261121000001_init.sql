-- The wizard's working copy: one draft per browser session (and, in team mode, per user).
CREATE TABLE drafts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT    NOT NULL,
    step        TEXT    NOT NULL DEFAULT 'upload',
    state       TEXT    NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- A started run over a dataset; its configuration is a frozen snapshot of the draft it came from.
CREATE TABLE batches (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'paused', 'completed', 'failed', 'cancelled')),
    total_rows   INTEGER NOT NULL DEFAULT 0 CHECK (total_rows >= 0),
    done_rows    INTEGER NOT NULL DEFAULT 0 CHECK (done_rows >= 0),
    failed_rows  INTEGER NOT NULL DEFAULT 0 CHECK (failed_rows >= 0),
    config       TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
);

CREATE INDEX batches_by_owner_newest ON batches (owner, created_at DESC, id DESC);
