-- A row's earlier answers: what it had (answer or error, when, what it cost, under which claim)
-- when a retry sent it back to the queue. The row itself keeps only its newest answer, which the
-- export reads; these stay for its drill-down. A rowid table: rows carry whole answers.
CREATE TABLE row_history (
    batch_id       INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    row_index      INTEGER NOT NULL CHECK (row_index >= 0),
    -- The row's `attempt` when the answer was written: the claim that reached it.
    claim          INTEGER NOT NULL CHECK (claim >= 0),
    status         TEXT    NOT NULL CHECK (status IN ('succeeded', 'failed')),
    -- JSON: the parsed, schema-valid answer
    result         TEXT,
    error          TEXT,
    started_at     INTEGER,
    finished_at    INTEGER,
    latency_ms     INTEGER,
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    cost_usd       REAL,
    -- When the retry replaced it.
    replaced_at    INTEGER NOT NULL,
    PRIMARY KEY (batch_id, row_index, claim)
);
