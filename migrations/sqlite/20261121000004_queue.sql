-- Batch control: why a batch was paused (shown on its page), and a concurrency override.
-- Without the override, a batch runs as many rows at once as its frozen settings say
-- (`config.recipe.settings.concurrency`).
ALTER TABLE batches ADD COLUMN pause_reason TEXT;
ALTER TABLE batches ADD COLUMN concurrency INTEGER CHECK (concurrency IS NULL OR concurrency >= 1);

-- The claim looks at running batches only.
CREATE INDEX batches_by_status ON batches (status, id);

-- Every call made for a row, retries and repairs included: what was sent, what came back and what
-- it cost. `claim` is the row's `attempt` value when the call was made, so the calls of an
-- abandoned claim stay apart from those of the claim that finished the row. A rowid table: rows
-- carry whole request and response bodies, too big for a WITHOUT ROWID b-tree.
CREATE TABLE row_attempts (
    batch_id       INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    row_index      INTEGER NOT NULL CHECK (row_index >= 0),
    claim          INTEGER NOT NULL CHECK (claim >= 1),
    call_no        INTEGER NOT NULL CHECK (call_no >= 1),
    started_at     INTEGER NOT NULL,
    latency_ms     INTEGER,
    http_status    INTEGER,
    -- JSON: the body as sent (never headers, so never a key)
    request        TEXT,
    raw_response   TEXT,
    outcome        TEXT    NOT NULL CHECK (outcome IN ('ok', 'invalid', 'retryable', 'failed', 'auth')),
    error          TEXT,
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    cost_usd       REAL,
    PRIMARY KEY (batch_id, row_index, claim, call_no)
);
