-- Content changes recorded by a process that runs no jobs (`mata scan` beside `mata serve`), for the server's
-- queue to turn into jobs; drained (read and deleted) by `serve`.
CREATE TABLE change_outbox (
  id          INTEGER PRIMARY KEY,
  dataset_id  INTEGER NOT NULL,
  generation  INTEGER NOT NULL,
  path        TEXT NOT NULL,
  changed     TEXT NOT NULL,   -- JSON list of files added or modified, relative to the dataset folder
  removed     TEXT NOT NULL,   -- JSON list of files removed
  created_at  INTEGER NOT NULL
);
