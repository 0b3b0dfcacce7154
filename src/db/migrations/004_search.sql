-- Search (issue 4): full-text and substring indexes over datasets and their tags.
-- Triggers keep them in step, so no other feature calls search on its writes: they only mark the dataset
-- dirty, and the search service folds every dirty dataset into the indexes (set-based, in one transaction)
-- before it reads. Rebuilding a dataset's document on every single tag row would cost O(tags^2) per tag-tree
-- edit. The tag cloud reads the count tables of migration 007 (metadata), kept by its own triggers.

-- Datasets whose search document must be rebuilt (or removed, when the dataset is gone).
CREATE TABLE search_dirty (dataset_id INTEGER PRIMARY KEY);

-- The text each dataset is found by: tags as one "key value" line per tag row (every level of the tree).
CREATE TABLE search_docs (
  dataset_id  INTEGER PRIMARY KEY,
  title       TEXT NOT NULL,
  description TEXT NOT NULL,
  tags        TEXT NOT NULL
);

-- Words and prefixes, ranked by bm25.
CREATE VIRTUAL TABLE search_fts USING fts5(
  title, description, tags,
  content = 'search_docs', content_rowid = 'dataset_id',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

-- Substrings (three characters or more), unranked.
CREATE VIRTUAL TABLE search_tri USING fts5(
  title, description, tags,
  content = 'search_docs', content_rowid = 'dataset_id',
  tokenize = 'trigram'
);

-- Tag pages and the graph's tag overlay list the datasets carrying a subtree: covering, so a subtree half the
-- store carries is listed from the index alone (60 ms -> a few ms at 46,000 carriers).
CREATE INDEX search_tags_hash_dataset ON tags(subtree_hash, dataset_id);

CREATE TRIGGER search_datasets_ai AFTER INSERT ON datasets BEGIN
  INSERT OR IGNORE INTO search_dirty (dataset_id) VALUES (NEW.id);
END;

-- The path counts too: a dataset without a title is found (and shown) by its folder name.
CREATE TRIGGER search_datasets_au AFTER UPDATE OF title, description, path ON datasets
WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description OR OLD.path IS NOT NEW.path BEGIN
  INSERT OR IGNORE INTO search_dirty (dataset_id) VALUES (NEW.id);
END;

CREATE TRIGGER search_datasets_ad AFTER DELETE ON datasets BEGIN
  INSERT OR IGNORE INTO search_dirty (dataset_id) VALUES (OLD.id);
END;

CREATE TRIGGER search_tags_ai AFTER INSERT ON tags BEGIN
  INSERT OR IGNORE INTO search_dirty (dataset_id) VALUES (NEW.dataset_id);
END;

CREATE TRIGGER search_tags_ad AFTER DELETE ON tags BEGIN
  INSERT OR IGNORE INTO search_dirty (dataset_id) VALUES (OLD.dataset_id);
END;

CREATE TRIGGER search_tags_au AFTER UPDATE OF key, value, dataset_id ON tags BEGIN
  INSERT OR IGNORE INTO search_dirty (dataset_id) VALUES (OLD.dataset_id);
  INSERT OR IGNORE INTO search_dirty (dataset_id) VALUES (NEW.dataset_id);
END;

-- Datasets that existed before this migration.
INSERT INTO search_dirty (dataset_id) SELECT id FROM datasets;
