-- The audit log: who changed which metadata, relation or grant (with the values before and after), who downloaded
-- which file or exported what, who signed in and who failed to. Rows are only ever added, and removed by age
-- (`[audit] keep`). No foreign key: the history of a dataset outlives its row, so the path is kept as it was then.
CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY,
  at           INTEGER NOT NULL,
  actor        TEXT NOT NULL,            -- the account name, or the name tried by a failed sign-in
  action       TEXT NOT NULL,            -- e.g. "metadata.edit", "file.download", "signin.failed"
  dataset_id   INTEGER,
  dataset_path TEXT,
  target       TEXT,                     -- a file, an export's output, a sign-in's method
  before       TEXT,                     -- JSON, or NULL
  after        TEXT,                     -- JSON, or NULL
  address      TEXT,                     -- the client's address where the request is at hand
  detail       TEXT                      -- JSON, or NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_dataset ON audit_log(dataset_id, id) WHERE dataset_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log(actor, id);
