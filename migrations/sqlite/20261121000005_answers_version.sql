-- Grows whenever a batch's answers may have changed: results written, or rows sent back to the
-- queue. The server keeps each batch's answer charts until it moves.
ALTER TABLE batches ADD COLUMN answers_version INTEGER NOT NULL DEFAULT 0;
