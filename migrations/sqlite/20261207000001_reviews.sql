-- A person's verdict on one row's answer (issue 17): accepted, fixed or rejected, by whom and
-- when. The model's answer stays where it was, in batch_rows.result; this never replaces it.
CREATE TABLE row_reviews (
    batch_id     INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    row_index    INTEGER NOT NULL,
    decision     TEXT    NOT NULL CHECK (decision IN ('accept', 'reject', 'fix')),
    -- The answer the reviewer vouches for, as JSON: the fix, or the model's answer accepted.
    -- NULL for a rejection.
    answer       TEXT,
    reason       TEXT,
    -- The account (team mode); NULL in local mode or once the account is gone.
    reviewer_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- Kept with the review, so it still reads after the account is gone: an email, or `local`.
    reviewed_by  TEXT    NOT NULL,
    reviewed_at  INTEGER NOT NULL,
    -- The row's attempt the review saw: a later attempt means the model answered again since.
    attempt      INTEGER NOT NULL,
    PRIMARY KEY (batch_id, row_index)
);
