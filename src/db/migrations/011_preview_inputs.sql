-- Files a dataset's volumes read that the readers' own list of inputs does not cover (a MetaImage header's
-- `ElementDataFile = vol.voxels`), as the preview job last found them, named by a header even while the file is
-- missing: a change to one of them alone builds the dataset's previews again.
CREATE TABLE preview_inputs (
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  PRIMARY KEY (dataset_id, path)
) WITHOUT ROWID;
