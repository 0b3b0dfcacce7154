-- Metadata (issue 3): the dictionary's count tables, kept right by triggers on every tag write,
-- so suggestions read ranked counts and never GROUP BY at request time; plus indexes for the list pages.

-- One row per key used by at least one dataset; `datasets` counts datasets (not tag rows) using it.
CREATE TABLE tag_key_counts (
  key      TEXT PRIMARY KEY,
  fold     TEXT NOT NULL,                 -- lower(key): case-insensitive matching
  datasets INTEGER NOT NULL
);
CREATE INDEX tag_key_counts_fold ON tag_key_counts(fold, datasets);
CREATE INDEX tag_key_counts_rank ON tag_key_counts(datasets DESC);

-- One row per (key, value) pair used by at least one dataset.
CREATE TABLE tag_value_counts (
  key      TEXT NOT NULL,
  value    TEXT NOT NULL,
  key_fold TEXT NOT NULL,
  fold     TEXT NOT NULL,                 -- lower(value)
  datasets INTEGER NOT NULL,
  PRIMARY KEY (key, value)
);
CREATE INDEX tag_value_counts_fold ON tag_value_counts(key_fold, fold, datasets);
CREATE INDEX tag_value_counts_rank ON tag_value_counts(key_fold, datasets DESC);

-- Lets the triggers ask "does this dataset still use this key / pair?" with one index seek.
CREATE INDEX tags_dataset_kv ON tags(dataset_id, key, value);

CREATE TRIGGER tags_count_key_ins AFTER INSERT ON tags
WHEN NOT EXISTS (SELECT 1 FROM tags WHERE dataset_id = NEW.dataset_id AND key = NEW.key AND id <> NEW.id)
BEGIN
  INSERT INTO tag_key_counts (key, fold, datasets) VALUES (NEW.key, lower(NEW.key), 1)
  ON CONFLICT (key) DO UPDATE SET datasets = datasets + 1;
END;

CREATE TRIGGER tags_count_value_ins AFTER INSERT ON tags
WHEN NOT EXISTS (SELECT 1 FROM tags WHERE dataset_id = NEW.dataset_id AND key = NEW.key AND value = NEW.value AND id <> NEW.id)
BEGIN
  INSERT INTO tag_value_counts (key, value, key_fold, fold, datasets) VALUES (NEW.key, NEW.value, lower(NEW.key), lower(NEW.value), 1)
  ON CONFLICT (key, value) DO UPDATE SET datasets = datasets + 1;
END;

CREATE TRIGGER tags_count_key_del AFTER DELETE ON tags
WHEN NOT EXISTS (SELECT 1 FROM tags WHERE dataset_id = OLD.dataset_id AND key = OLD.key)
BEGIN
  UPDATE tag_key_counts SET datasets = datasets - 1 WHERE key = OLD.key;
  DELETE FROM tag_key_counts WHERE key = OLD.key AND datasets <= 0;
END;

CREATE TRIGGER tags_count_value_del AFTER DELETE ON tags
WHEN NOT EXISTS (SELECT 1 FROM tags WHERE dataset_id = OLD.dataset_id AND key = OLD.key AND value = OLD.value)
BEGIN
  UPDATE tag_value_counts SET datasets = datasets - 1 WHERE key = OLD.key AND value = OLD.value;
  DELETE FROM tag_value_counts WHERE key = OLD.key AND value = OLD.value AND datasets <= 0;
END;

-- Tag rows are replaced, never updated in place, by the tag service; an UPDATE from elsewhere still counts right.
CREATE TRIGGER tags_count_upd AFTER UPDATE OF key, value, dataset_id ON tags
BEGIN
  INSERT INTO tag_key_counts (key, fold, datasets)
    SELECT NEW.key, lower(NEW.key), 1
    WHERE (SELECT count(*) FROM tags WHERE dataset_id = NEW.dataset_id AND key = NEW.key) = 1
      AND NOT (OLD.dataset_id = NEW.dataset_id AND OLD.key = NEW.key)
  ON CONFLICT (key) DO UPDATE SET datasets = datasets + 1;
  UPDATE tag_key_counts SET datasets = datasets - 1
    WHERE key = OLD.key AND NOT (OLD.dataset_id = NEW.dataset_id AND OLD.key = NEW.key)
      AND NOT EXISTS (SELECT 1 FROM tags WHERE dataset_id = OLD.dataset_id AND key = OLD.key);
  DELETE FROM tag_key_counts WHERE key = OLD.key AND datasets <= 0;
  INSERT INTO tag_value_counts (key, value, key_fold, fold, datasets)
    SELECT NEW.key, NEW.value, lower(NEW.key), lower(NEW.value), 1
    WHERE (SELECT count(*) FROM tags WHERE dataset_id = NEW.dataset_id AND key = NEW.key AND value = NEW.value) = 1
      AND NOT (OLD.dataset_id = NEW.dataset_id AND OLD.key = NEW.key AND OLD.value = NEW.value)
  ON CONFLICT (key, value) DO UPDATE SET datasets = datasets + 1;
  UPDATE tag_value_counts SET datasets = datasets - 1
    WHERE key = OLD.key AND value = OLD.value AND NOT (OLD.dataset_id = NEW.dataset_id AND OLD.key = NEW.key AND OLD.value = NEW.value)
      AND NOT EXISTS (SELECT 1 FROM tags WHERE dataset_id = OLD.dataset_id AND key = OLD.key AND value = OLD.value);
  DELETE FROM tag_value_counts WHERE key = OLD.key AND value = OLD.value AND datasets <= 0;
END;

-- Keyset paging of the dataset list in every sort order, and the parent picker's prefix match.
CREATE INDEX datasets_sort_path ON datasets(path, id);
CREATE INDEX datasets_sort_title ON datasets(title COLLATE NOCASE, id);
CREATE INDEX datasets_sort_owner ON datasets(ifnull(owner, ''), id);
CREATE INDEX datasets_sort_size ON datasets(byte_count, id);
CREATE INDEX datasets_sort_files ON datasets(file_count, id);
CREATE INDEX datasets_sort_updated ON datasets(updated_at, id);
CREATE INDEX datasets_path_nocase ON datasets(path COLLATE NOCASE);

-- Tags that existed before this migration.
INSERT INTO tag_key_counts (key, fold, datasets) SELECT key, lower(key), count(DISTINCT dataset_id) FROM tags GROUP BY key;
INSERT INTO tag_value_counts (key, value, key_fold, fold, datasets)
  SELECT key, value, lower(key), lower(value), count(DISTINCT dataset_id) FROM tags GROUP BY key, value;
