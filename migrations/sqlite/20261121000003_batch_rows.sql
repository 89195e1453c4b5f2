-- A batch runs over one dataset; its rows are read from there by index (dataset rows never change).
ALTER TABLE batches ADD COLUMN dataset_id INTEGER REFERENCES datasets (id);

-- The queue: one job per row of a batch. The worker claims the lowest queued row of a running batch,
-- holds it under a lease that its heartbeat extends, and writes the result fenced on `attempt`, so a
-- stale attempt (its lease expired and the row was claimed again) can never overwrite a newer one.
CREATE TABLE batch_rows (
    batch_id          INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    row_index         INTEGER NOT NULL CHECK (row_index >= 0),
    status            TEXT    NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempt           INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    lease_expires_at  INTEGER,
    not_before        INTEGER,
    -- JSON: the parsed, schema-valid answer
    result            TEXT,
    error             TEXT,
    started_at        INTEGER,
    finished_at       INTEGER,
    latency_ms        INTEGER,
    input_tokens      INTEGER,
    output_tokens     INTEGER,
    cost_usd          REAL,
    PRIMARY KEY (batch_id, row_index)
) WITHOUT ROWID;

CREATE INDEX batch_rows_by_status ON batch_rows (batch_id, status, row_index);
