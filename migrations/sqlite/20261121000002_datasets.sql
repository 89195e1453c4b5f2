-- An uploaded table. Rows arrive while the upload streams in ('loading'); the column statistics
-- are written when the whole file has been read ('ready'). A failed upload is deleted.
CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'loading' CHECK (status IN ('loading', 'ready')),
    encoding    TEXT    NOT NULL DEFAULT '',
    delimiter   TEXT    NOT NULL DEFAULT '',
    row_count   INTEGER NOT NULL DEFAULT 0 CHECK (row_count >= 0),
    fixed_rows  INTEGER NOT NULL DEFAULT 0 CHECK (fixed_rows >= 0),
    -- JSON: [{ "name", "filled", "fill_rate", "samples": [..] }] in file order
    columns     TEXT    NOT NULL DEFAULT '[]',
    -- JSON: [{ "position", "original", "renamed" }] for blank or repeated header names
    renames     TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL
);

CREATE INDEX datasets_by_owner_newest ON datasets (owner, created_at DESC, id DESC);

-- One row of a dataset, its cells exactly as uploaded (a JSON array of strings, in column order).
CREATE TABLE dataset_rows (
    dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    row_index   INTEGER NOT NULL CHECK (row_index >= 0),
    line        INTEGER NOT NULL,
    cells       TEXT    NOT NULL,
    PRIMARY KEY (dataset_id, row_index)
) WITHOUT ROWID;
