-- "Review a sample" (issue 17): rows drawn at random from a batch's answered rows, stratified by
-- the model's answer to one field when asked, so the reviewed sample speaks for the whole batch.
-- One draw per batch; drawing again replaces it (the reviews themselves stay in row_reviews).
CREATE TABLE review_sample_draws (
    batch_id     BIGINT  PRIMARY KEY REFERENCES batches (id) ON DELETE CASCADE,
    -- The rows asked for (every stratum gets at least one, so a few more may have been drawn).
    size         BIGINT  NOT NULL,
    -- The enum or boolean field whose answer the strata are; NULL for a simple random sample.
    stratify_by  TEXT,
    -- The batch's answered rows when it was drawn: what the sample speaks for.
    population   BIGINT  NOT NULL,
    drawn_by     TEXT    NOT NULL,
    drawn_at     BIGINT  NOT NULL
);
-- Each stratum's answered rows when the sample was drawn: its weight in the estimate. The one
-- stratum of a simple random sample is ''.
CREATE TABLE review_sample_strata (
    batch_id     BIGINT  NOT NULL REFERENCES review_sample_draws (batch_id) ON DELETE CASCADE,
    stratum      TEXT    NOT NULL,
    population   BIGINT  NOT NULL,
    PRIMARY KEY (batch_id, stratum)
);
CREATE TABLE review_samples (
    batch_id     BIGINT  NOT NULL REFERENCES review_sample_draws (batch_id) ON DELETE CASCADE,
    row_index    BIGINT  NOT NULL,
    stratum      TEXT    NOT NULL,
    PRIMARY KEY (batch_id, row_index)
);
