-- Fixity: each file's SHA-256 as recorded for its size and mtime, when its content last matched it, and the files
-- whose content changed while size and mtime did not (bit rot, tampering) until they change again or match again.
ALTER TABLE files ADD COLUMN sha256 TEXT;
ALTER TABLE files ADD COLUMN verified_at INTEGER;
CREATE INDEX files_unhashed ON files(dataset_id) WHERE sha256 IS NULL;
ALTER TABLE datasets ADD COLUMN fixity_verified_at INTEGER;

CREATE TABLE fixity_mismatches (
  file_id     INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  expected    TEXT NOT NULL,
  actual      TEXT NOT NULL,
  found_at    INTEGER NOT NULL
);
CREATE INDEX fixity_mismatches_dataset ON fixity_mismatches(dataset_id);

-- New content under a new size or mtime is a change the scan saw, not a fixity failure: its checksum starts again.
CREATE TRIGGER files_content_changed AFTER UPDATE OF size, mtime_ms ON files
  WHEN OLD.size IS NOT NEW.size OR OLD.mtime_ms IS NOT NEW.mtime_ms
BEGIN
  UPDATE files SET sha256 = NULL, verified_at = NULL WHERE id = NEW.id;
  DELETE FROM fixity_mismatches WHERE file_id = NEW.id;
END;
