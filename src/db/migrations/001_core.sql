-- Datasets: one row per dataset folder ever seen; uid is the identity stored in its .mata/ sidecar.
CREATE TABLE datasets (
  id            INTEGER PRIMARY KEY,
  uid           TEXT NOT NULL UNIQUE,
  path          TEXT NOT NULL,                     -- relative to the root, '/'-separated
  title         TEXT NOT NULL DEFAULT '',
  description   TEXT NOT NULL DEFAULT '',
  owner         TEXT,                              -- account name (unix owner of the folder unless reassigned)
  owner_fixed   INTEGER NOT NULL DEFAULT 0,        -- 1 when an admin reassigned the owner
  state         TEXT NOT NULL DEFAULT 'present' CHECK (state IN ('present', 'missing')),
  version       INTEGER NOT NULL DEFAULT 1,        -- bumped by every metadata edit (optimistic concurrency)
  tags_version  INTEGER NOT NULL DEFAULT 1,        -- bumped by every tag-tree edit
  generation    INTEGER NOT NULL DEFAULT 1,        -- bumped by every content change (revokes preview jobs)
  file_count    INTEGER NOT NULL DEFAULT 0,
  byte_count    INTEGER NOT NULL DEFAULT 0,
  content_hash  TEXT NOT NULL DEFAULT '',          -- digest of the manifest (path, size, mtime) to spot equal copies
  scan_error    TEXT,                              -- the last problem met while scanning (unreadable subfolder...)
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  missing_since INTEGER
);
CREATE UNIQUE INDEX datasets_present_path ON datasets(path) WHERE state = 'present';
CREATE INDEX datasets_state ON datasets(state, path);
CREATE INDEX datasets_owner ON datasets(owner);

-- Files of a dataset, as last seen on disk.
CREATE TABLE files (
  id          INTEGER PRIMARY KEY,
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,                       -- relative to the dataset folder, '/'-separated
  size        INTEGER NOT NULL,
  mtime_ms    INTEGER NOT NULL,
  inode       INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (dataset_id, path)
);
CREATE INDEX files_inode ON files(dataset_id, inode);

-- Tags: an ordered tree of key-value pairs per dataset.
CREATE TABLE tags (
  id          INTEGER PRIMARY KEY,
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  parent_id   INTEGER REFERENCES tags(id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL DEFAULT '',
  subtree_hash TEXT NOT NULL DEFAULT ''            -- equal for equal subtrees, children order ignored
);
CREATE INDEX tags_tree ON tags(dataset_id, parent_id, position);
CREATE INDEX tags_kv ON tags(key, value);
CREATE INDEX tags_hash ON tags(subtree_hash);

-- Relations: child was derived from parent. The service keeps the graph acyclic.
CREATE TABLE relations (
  child_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  parent_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  position   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (child_id, parent_id),
  CHECK (child_id <> parent_id)
);
CREATE INDEX relations_parent ON relations(parent_id);

-- Accounts of the built-in store (and admins of any backend).
CREATE TABLE accounts (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  password_hash TEXT,
  is_admin      INTEGER NOT NULL DEFAULT 0,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL
);

-- Grants: who besides the owner may read or edit a dataset. principal is "user:NAME" or "group:NAME".
CREATE TABLE grants (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  principal  TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor')),
  PRIMARY KEY (dataset_id, principal)
);

-- Background jobs: named kinds with a typed JSON payload.
CREATE TABLE jobs (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,
  dataset_id  INTEGER REFERENCES datasets(id) ON DELETE CASCADE,
  generation  INTEGER NOT NULL DEFAULT 0,          -- the dataset generation the job was queued for
  payload     TEXT NOT NULL DEFAULT '{}',
  priority    INTEGER NOT NULL DEFAULT 0,          -- higher runs first
  state       TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  progress    REAL NOT NULL DEFAULT 0,
  error       TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER
);
CREATE INDEX jobs_queue ON jobs(state, priority DESC, id);
CREATE INDEX jobs_dataset ON jobs(dataset_id, state);

-- Event log: every change, who made it (when known) and to which dataset.
CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  dataset_id INTEGER,
  actor      TEXT,
  detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_dataset ON events(dataset_id, id);
CREATE INDEX events_at ON events(at);
