-- When the batch was last resumed: a provider's refusal of a call claimed before then (the bad
-- key the pause was for) must not pause the batch again once someone has resumed it.
ALTER TABLE batches ADD COLUMN resumed_at BIGINT;
