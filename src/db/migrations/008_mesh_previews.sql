-- Surface meshes (STL, OBJ) get previews too: a web-ready GLB in the preview's folder. SQLite cannot widen a
-- CHECK in place, so the table is rebuilt with the same rows.
CREATE TABLE previews_new (
  id           INTEGER PRIMARY KEY,
  dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  n            INTEGER NOT NULL,
  file         TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('volume', 'image', 'mesh')),
  format       TEXT NOT NULL DEFAULT '',
  state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'ready', 'failed')),
  progress     REAL NOT NULL DEFAULT 0,
  error        TEXT,
  window_min   REAL,
  window_max   REAL,
  width        INTEGER NOT NULL DEFAULT 0,
  height       INTEGER NOT NULL DEFAULT 0,
  depth        INTEGER NOT NULL DEFAULT 0,
  dtype        TEXT NOT NULL DEFAULT '',
  spacing      TEXT NOT NULL DEFAULT '[1,1,1]',
  unit         TEXT NOT NULL DEFAULT 'px',
  levels       INTEGER NOT NULL DEFAULT 0,
  generation   INTEGER NOT NULL DEFAULT 0,
  content_key  TEXT NOT NULL,
  notes        TEXT NOT NULL DEFAULT '[]',
  updated_at   INTEGER NOT NULL,
  UNIQUE (dataset_id, file),
  UNIQUE (dataset_id, n)
);
INSERT INTO previews_new SELECT id, dataset_id, n, file, kind, format, state, progress, error, window_min, window_max, width, height, depth,
  dtype, spacing, unit, levels, generation, content_key, notes, updated_at FROM previews;
DROP TABLE previews;
ALTER TABLE previews_new RENAME TO previews;
CREATE INDEX previews_key ON previews(content_key);
