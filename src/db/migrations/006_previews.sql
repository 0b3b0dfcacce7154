-- Previews: one row per volume or image found in a dataset; the tiles live under $state/previews/<content_key>/.
CREATE TABLE previews (
  id           INTEGER PRIMARY KEY,
  dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  n            INTEGER NOT NULL,                    -- position within the dataset, used in tile URLs
  file         TEXT NOT NULL,                       -- the file naming the volume, relative to the dataset folder
  kind         TEXT NOT NULL CHECK (kind IN ('volume', 'image')),
  format       TEXT NOT NULL DEFAULT '',
  state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'ready', 'failed')),
  progress     REAL NOT NULL DEFAULT 0,
  error        TEXT,
  window_min   REAL,                                -- display window in stored units, chosen at build time
  window_max   REAL,
  width        INTEGER NOT NULL DEFAULT 0,
  height       INTEGER NOT NULL DEFAULT 0,
  depth        INTEGER NOT NULL DEFAULT 0,
  dtype        TEXT NOT NULL DEFAULT '',
  spacing      TEXT NOT NULL DEFAULT '[1,1,1]',     -- JSON [x, y, z]
  unit         TEXT NOT NULL DEFAULT 'px',
  levels       INTEGER NOT NULL DEFAULT 0,
  generation   INTEGER NOT NULL DEFAULT 0,          -- the dataset generation this row was made for
  content_key  TEXT NOT NULL,                       -- digest of the volume's files (path, size, mtime): equal content shares tiles
  notes        TEXT NOT NULL DEFAULT '[]',          -- JSON list of what the reader simplified
  updated_at   INTEGER NOT NULL,
  UNIQUE (dataset_id, file),
  UNIQUE (dataset_id, n)
);
CREATE INDEX previews_key ON previews(content_key);

-- Jobs wait until run_after (ms): a preview waits for a dataset's copy to settle.
ALTER TABLE jobs ADD COLUMN run_after INTEGER NOT NULL DEFAULT 0;
-- A job of the same kind and key replaces the queued one instead of adding another (one build per dataset).
ALTER TABLE jobs ADD COLUMN dedupe_key TEXT;
CREATE INDEX jobs_dedupe ON jobs(dedupe_key, state);
