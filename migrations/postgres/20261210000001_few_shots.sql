-- Few-shot re-runs (issue 17): a re-run of a batch's rows may show each row up to a few reviewed
-- rows as worked examples. The pool it chooses from is frozen here when the re-run starts, one
-- generation per re-run, so a row's drill-down shows the examples its call was sent with.
CREATE TABLE few_shots (
    batch_id     BIGINT  NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    generation   BIGINT  NOT NULL,
    -- rowbench_recipe::few_shot::FewShotSet as JSON: count, choose, by, examples.
    examples     TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (batch_id, generation)
);
-- The generation a row's next call takes its examples from; NULL for none.
ALTER TABLE batch_rows ADD COLUMN few_shot BIGINT;

-- The claim hands out each row's few-shot generation too. The function is otherwise the one of
-- 20261206000001; its result type changes, so it is dropped and made again.
DROP FUNCTION rowbench_claim(BIGINT, BIGINT, BIGINT, INT, TEXT);
CREATE FUNCTION rowbench_claim(p_now BIGINT, p_lease BIGINT, p_max BIGINT, p_lock INT, p_instance TEXT)
RETURNS TABLE (batch_id BIGINT, row_index BIGINT, attempt BIGINT, cells TEXT, more BOOLEAN, few_shot BIGINT)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off SET enable_bitmapscan = off AS $$
#variable_conflict use_column
DECLARE
    v_batch BIGINT;
    v_later BOOLEAN := false;
BEGIN
    SELECT c.id, c.candidates > c.place INTO v_batch, v_later
    FROM rowbench_claim_candidates(p_now) c
    WHERE pg_try_advisory_xact_lock(p_lock, (c.id % 2147483647)::INT)
    LIMIT 1;

    IF v_batch IS NULL THEN
        SELECT c.id INTO v_batch FROM rowbench_claim_candidates(p_now) c LIMIT 1;
        IF v_batch IS NULL THEN
            RETURN;
        END IF;
        PERFORM pg_advisory_xact_lock(p_lock, (v_batch % 2147483647)::INT);
        v_later := false;
    END IF;
    -- The rows are taken now, not when the caller read its clock: add the time this statement
    -- waited (for the claim lock above), measured on the database's own clock so that no
    -- difference between the two clocks enters. A row's start is then never before the finish
    -- of the row whose slot it takes.
    p_now := p_now + CEIL(EXTRACT(EPOCH FROM clock_timestamp() - statement_timestamp()) * 1000)::BIGINT;

    RETURN QUERY
    WITH slots AS (
        SELECT CASE WHEN b.status = 'running' THEN
            LEAST(p_max, COALESCE(b.concurrency,
                                  (b.config::jsonb #>> '{recipe,settings,concurrency}')::BIGINT, 1)
                  - (SELECT COUNT(*) FROM batch_rows r
                     WHERE r.batch_id = b.id AND r.status = 'running'
                       AND r.lease_expires_at > p_now))
            ELSE 0 END AS take
        FROM batches b WHERE b.id = v_batch
    ),
    picked AS (
        SELECT tid, row_index FROM (
            SELECT q.ctid AS tid, q.row_index FROM batch_rows q
            WHERE q.batch_id = v_batch AND q.status = 'queued'
              AND (q.not_before IS NULL OR q.not_before <= p_now)
            ORDER BY q.row_index
            LIMIT (SELECT GREATEST(take, 0) FROM slots)
            FOR UPDATE SKIP LOCKED) queued
        UNION ALL
        SELECT tid, row_index FROM (
            SELECT e.ctid AS tid, e.row_index FROM batch_rows e
            WHERE e.batch_id = v_batch AND e.status = 'running' AND e.lease_expires_at <= p_now
            ORDER BY e.row_index
            LIMIT (SELECT GREATEST(take, 0) FROM slots)
            FOR UPDATE SKIP LOCKED) expired
        ORDER BY 2 LIMIT (SELECT GREATEST(take, 0) FROM slots)
    )
    UPDATE batch_rows
    SET status = 'running', attempt = batch_rows.attempt + 1, lease_expires_at = p_now + p_lease,
        started_at = COALESCE(batch_rows.started_at, p_now), not_before = NULL,
        leased_by = p_instance
    WHERE batch_rows.ctid = ANY (ARRAY(SELECT tid FROM picked))
    RETURNING batch_rows.batch_id, batch_rows.row_index, batch_rows.attempt,
        (SELECT d.cells FROM batches b JOIN dataset_rows d ON d.dataset_id = b.dataset_id
         WHERE b.id = v_batch AND d.row_index = batch_rows.row_index),
        v_later, batch_rows.few_shot;
END
$$;
