-- The claim's plans, made independent of the table's statistics.
--
-- A batch's rows are inserted in one go and claimed at once, well before autovacuum has analysed
-- the table, so the planner believed a batch held two rows and planned for that: it hashed every
-- queued row of every batch to answer "has this batch a row to run", and found the claimed rows
-- by scanning the whole batch for their row indexes, a millisecond a claim at 12,000 rows and
-- growing with the batch. The shapes below have one plan whatever the estimates say.

-- Each existence check is a scalar sub-select (first matching row index, or NULL): PostgreSQL
-- can turn an EXISTS into a hash of every match, never a correlated scalar sub-select, so each
-- stays an ordered index scan that stops at its first row.
CREATE OR REPLACE FUNCTION rowbench_claim_candidates(p_now BIGINT)
RETURNS TABLE (id BIGINT, candidates BIGINT, place BIGINT)
LANGUAGE sql STABLE AS $$
        SELECT b.id,
            count(*) OVER () AS candidates,
            row_number() OVER (ORDER BY b.id) AS place
        FROM batches b
        WHERE b.status = 'running'
          AND COALESCE(b.concurrency,
                       (b.config::jsonb #>> '{recipe,settings,concurrency}')::BIGINT, 1)
              > (SELECT COUNT(*) FROM batch_rows r
                 WHERE r.batch_id = b.id AND r.status = 'running' AND r.lease_expires_at > p_now)
          AND ((SELECT q.row_index FROM batch_rows q
                WHERE q.batch_id = b.id AND q.status = 'queued'
                  AND (q.not_before IS NULL OR q.not_before <= p_now)
                ORDER BY q.row_index LIMIT 1) IS NOT NULL
               OR (SELECT e.row_index FROM batch_rows e
                   WHERE e.batch_id = b.id AND e.status = 'running'
                     AND e.lease_expires_at <= p_now
                   ORDER BY e.row_index LIMIT 1) IS NOT NULL)
        ORDER BY b.id
$$;

-- As before (see the first migration), except that the picked rows are updated by their tuple
-- id: they are locked by this transaction, so their ctid cannot change before the update, and a
-- TID scan reads exactly those rows where a plan by row index could read the whole batch. No
-- other condition: given one on the batch, the planner again preferred scanning the batch.
-- Sequential and bitmap scans are off while it runs: every lookup here has an index that reads
-- a few entries, and with a table believed small the planner picked a scan of it instead (a
-- sequential scan for the TID list, a bitmap of the whole batch for the existence checks).
CREATE OR REPLACE FUNCTION rowbench_claim(p_now BIGINT, p_lease BIGINT, p_max BIGINT, p_lock INT, p_instance TEXT)
RETURNS TABLE (batch_id BIGINT, row_index BIGINT, attempt BIGINT, cells TEXT, more BOOLEAN)
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
        v_later;
END
$$;

-- A group of results, written in one call: one round trip and one short transaction, where
-- BEGIN, a statement for the results, one for the counters and COMMIT took four, each of them
-- time the batch's row stayed locked while every instance's finishing rows queued for it.
-- Results come as parallel arrays (r_*: batch, row, claim, status, result, error, usage) and so
-- do the calls to record with them (a_*: the columns of row_attempts, in order). The statements
-- run in this order, each with a fresh snapshot:
-- 1. the batches' rows are locked, in id order (cancel and retry lock batches before rows too);
-- 2. the calls are recorded, stale claims' too: they were made and paid for;
-- 3. each result is written if its claim is still the row's (the fence);
-- 4. the written rows are counted on their batches, and a batch is completed if nothing of it is
--    left to run. This snapshot is younger than step 1's lock, so it holds every row another
--    transaction finished before: of two finishing a batch's last rows, the second completes it.
-- Returns the results written, as (batch, row, claim).
CREATE FUNCTION rowbench_finish(
    p_now BIGINT,
    r_batch BIGINT[], r_row BIGINT[], r_claim BIGINT[], r_status TEXT[], r_result TEXT[],
    r_error TEXT[], r_latency BIGINT[], r_input BIGINT[], r_output BIGINT[],
    r_cost DOUBLE PRECISION[],
    a_batch BIGINT[], a_row BIGINT[], a_claim BIGINT[], a_call BIGINT[], a_started BIGINT[],
    a_latency BIGINT[], a_http BIGINT[], a_request TEXT[], a_raw TEXT[], a_outcome TEXT[],
    a_error TEXT[], a_input BIGINT[], a_output BIGINT[], a_cost DOUBLE PRECISION[])
RETURNS TABLE (batch_id BIGINT, row_index BIGINT, attempt BIGINT)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off SET enable_bitmapscan = off AS $$
#variable_conflict use_column
DECLARE
    w_batch BIGINT[];
    w_row BIGINT[];
    w_claim BIGINT[];
    w_status TEXT[];
BEGIN
    PERFORM 1 FROM batches b WHERE b.id = ANY (r_batch) ORDER BY b.id FOR NO KEY UPDATE;

    IF cardinality(a_batch) > 0 THEN
        INSERT INTO row_attempts (batch_id, row_index, claim, call_no, started_at, latency_ms,
            http_status, request, raw_response, outcome, error, input_tokens, output_tokens,
            cost_usd)
        SELECT * FROM unnest(a_batch, a_row, a_claim, a_call, a_started, a_latency, a_http,
            a_request, a_raw, a_outcome, a_error, a_input, a_output, a_cost);
    END IF;

    WITH written AS (
        UPDATE batch_rows r
        SET status = v.status, result = v.result, error = v.error, latency_ms = v.latency,
            input_tokens = v.input, output_tokens = v.output, cost_usd = v.cost,
            lease_expires_at = NULL, finished_at = p_now
        FROM unnest(r_batch, r_row, r_claim, r_status, r_result, r_error, r_latency, r_input,
                    r_output, r_cost)
            AS v(batch_id, row_index, claim, status, result, error, latency, input, output, cost)
        WHERE r.batch_id = v.batch_id AND r.row_index = v.row_index AND r.attempt = v.claim
          AND r.status = 'running'
        RETURNING r.batch_id, r.row_index, r.attempt, r.status
    )
    SELECT array_agg(w.batch_id), array_agg(w.row_index), array_agg(w.attempt),
           array_agg(w.status)
    INTO w_batch, w_row, w_claim, w_status
    FROM written w;

    IF w_batch IS NULL THEN
        RETURN;
    END IF;

    UPDATE batches b
    SET done_rows = b.done_rows + c.succeeded, failed_rows = b.failed_rows + c.failed,
        answers_version = b.answers_version + 1,
        status = CASE WHEN b.status = 'running' AND c.settled THEN 'completed' ELSE b.status END,
        finished_at = CASE WHEN b.status = 'running' AND c.settled THEN p_now
                           ELSE b.finished_at END
    FROM (SELECT x.batch_id,
                 count(*) FILTER (WHERE x.status = 'succeeded') AS succeeded,
                 count(*) FILTER (WHERE x.status = 'failed') AS failed,
                 (SELECT 1 FROM batch_rows q
                  WHERE q.batch_id = x.batch_id AND q.status = 'queued' LIMIT 1) IS NULL
                 AND (SELECT 1 FROM batch_rows e
                      WHERE e.batch_id = x.batch_id AND e.status = 'running' LIMIT 1) IS NULL
                     AS settled
          FROM unnest(w_batch, w_status) AS x(batch_id, status)
          GROUP BY x.batch_id) c
    WHERE b.id = c.batch_id;

    RETURN QUERY SELECT * FROM unnest(w_batch, w_row, w_claim);
END
$$;
