-- Datasets of millions of files: a copy is found by size and mtime without reading every row, and the generation
-- the sidecar manifest reflects is kept, so a manifest left behind by a crash is rewritten while one up to date is not.
CREATE INDEX files_size_mtime ON files(dataset_id, size, mtime_ms);
ALTER TABLE datasets ADD COLUMN manifest_generation INTEGER NOT NULL DEFAULT 0;
-- Never read: the manifest digest it held cannot be kept up to date without reading every file row.
ALTER TABLE datasets DROP COLUMN content_hash;
