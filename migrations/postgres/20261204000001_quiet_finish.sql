-- Results a worker writes without waking every other instance.
--
-- Every instance LISTENs on `rowbench_queue`, and each group of results written woke all of
-- them: each claimed, and all but the writer (which claims the slots it freed straight after
-- the write) found nothing, each empty claim a round trip and a lock on the batch's rows that
-- the writer's own claim then waited for. `rowbench_finish_quietly` is `rowbench_finish` with
-- the notifications of its own transaction left out; the worker sends one itself
-- (`pg_notify`) when it cannot fill the slots.

CREATE OR REPLACE FUNCTION rowbench_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rowbench.quiet', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('rowbench_queue',
            COALESCE(current_setting('rowbench.instance', true), ''));
    END IF;
    RETURN NULL;
END
$$;

-- The setting is local to the call's transaction (the one statement), so the connection is
-- as loud as before once it returns.
CREATE FUNCTION rowbench_finish_quietly(
    p_now BIGINT,
    r_batch BIGINT[], r_row BIGINT[], r_claim BIGINT[], r_status TEXT[], r_result TEXT[],
    r_error TEXT[], r_latency BIGINT[], r_input BIGINT[], r_output BIGINT[],
    r_cost DOUBLE PRECISION[],
    a_batch BIGINT[], a_row BIGINT[], a_claim BIGINT[], a_call BIGINT[], a_started BIGINT[],
    a_latency BIGINT[], a_http BIGINT[], a_request TEXT[], a_raw TEXT[], a_outcome TEXT[],
    a_error TEXT[], a_input BIGINT[], a_output BIGINT[], a_cost DOUBLE PRECISION[])
RETURNS TABLE (batch_id BIGINT, row_index BIGINT, attempt BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('rowbench.quiet', 'on', true);
    RETURN QUERY SELECT * FROM rowbench_finish(p_now, r_batch, r_row, r_claim, r_status,
        r_result, r_error, r_latency, r_input, r_output, r_cost, a_batch, a_row, a_claim,
        a_call, a_started, a_latency, a_http, a_request, a_raw, a_outcome, a_error, a_input,
        a_output, a_cost);
END
$$;
