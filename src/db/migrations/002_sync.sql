-- The inode of a dataset's folder as last seen: a renamed or moved folder keeps it, a copy does not,
-- which tells a genuine move from a sidecar copied (or forged) into another folder.
ALTER TABLE datasets ADD COLUMN folder_inode INTEGER;
