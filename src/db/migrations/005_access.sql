-- ACL state per dataset: what was last written to the folder tree, so the reconcile can tell drift cheaply.
CREATE TABLE acl_state (
  dataset_id   INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
  spec_hash    TEXT NOT NULL,          -- digest of owner + grants + resolved ids the tree was written for
  max_ctime_ms REAL NOT NULL,          -- the newest inode change time seen right after the last full apply
  applied_at   INTEGER NOT NULL,
  entries      INTEGER NOT NULL,       -- folders and files the last full apply walked
  error        TEXT                    -- the last problem (unknown user, unsupported file system...)
);
CREATE INDEX grants_principal ON grants(principal);
