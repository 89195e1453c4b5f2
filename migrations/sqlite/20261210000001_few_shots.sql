-- Few-shot re-runs (issue 17): a re-run of a batch's rows may show each row up to a few reviewed
-- rows as worked examples. The pool it chooses from is frozen here when the re-run starts, one
-- generation per re-run, so a row's drill-down shows the examples its call was sent with.
CREATE TABLE few_shots (
    batch_id     INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    generation   INTEGER NOT NULL,
    -- rowbench_recipe::few_shot::FewShotSet as JSON: count, choose, by, examples.
    examples     TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (batch_id, generation)
);
-- The generation a row's next call takes its examples from; NULL for none.
ALTER TABLE batch_rows ADD COLUMN few_shot INTEGER;
