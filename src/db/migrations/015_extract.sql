-- Metadata extraction (src/extract/): what an extractor or plug-in last wrote into its own tag subtree, so a person's
-- later edit of one of those keys is seen (the value differs) and kept; the identifying DICOM attributes a dataset's
-- files carry (by attribute name, never a value); the last failure of each extractor or plug-in on a dataset; and the
-- generation the built-in extractors last ran at, so a start queues the datasets they have not seen (an upgrade,
-- changes while stopped).
CREATE TABLE extracted_tags (
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  source      TEXT NOT NULL,
  -- The key path below the dataset's tags, joined with U+001F (keys hold no control characters).
  key_path    TEXT NOT NULL,
  -- What the extractor wrote; NULL once a person changed or removed the key: then it is theirs for good.
  value       TEXT,
  PRIMARY KEY (dataset_id, key_path)
);

CREATE TABLE dataset_identifiers (
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  attribute   TEXT NOT NULL,
  files       INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, attribute)
);

CREATE TABLE extract_failures (
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  source      TEXT NOT NULL,
  message     TEXT NOT NULL,
  at          INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, source)
);

CREATE TABLE extract_runs (
  dataset_id  INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
  generation  INTEGER NOT NULL,
  at          INTEGER NOT NULL
);
