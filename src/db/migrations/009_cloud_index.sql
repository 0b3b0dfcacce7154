-- The tag cloud reads key=value pairs in (key_fold, fold, key, value) order: an index holding every column it
-- returns answers a whole page from the index alone, with no lookup of the table per pair.
DROP INDEX tag_value_counts_fold;
CREATE INDEX tag_value_counts_fold ON tag_value_counts(key_fold, fold, key, value, datasets);
