-- The queue table's review filters (accepted, fixed, rejected) read a batch's reviews by their
-- decision, in row order, without walking the batch's other rows.
CREATE INDEX row_reviews_by_decision ON row_reviews (batch_id, decision, row_index);
