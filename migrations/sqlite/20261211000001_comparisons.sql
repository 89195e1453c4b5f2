-- Comparison runs (issue 18): batches over the same rows with another model, provider, prompt or
-- temperature, linked so their answers can be measured against each other field by field. The
-- batch a comparison was started from is its run 0; each run after it covers some or all of its
-- rows. A deleted batch leaves the comparison (its own runs cascade away).
CREATE TABLE comparisons (
    id           INTEGER PRIMARY KEY,
    owner        TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE TABLE comparison_runs (
    comparison_id INTEGER NOT NULL REFERENCES comparisons (id) ON DELETE CASCADE,
    batch_id      INTEGER NOT NULL UNIQUE REFERENCES batches (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    PRIMARY KEY (comparison_id, position)
);
