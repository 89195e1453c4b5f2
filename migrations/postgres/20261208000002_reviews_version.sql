-- Moved by every review saved: the accuracy panel's cache reads again only when reviews (or
-- answers, under answers_version) changed since it last read.
ALTER TABLE batches ADD COLUMN reviews_version BIGINT NOT NULL DEFAULT 0;
