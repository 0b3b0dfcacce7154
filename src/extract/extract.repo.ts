import type { Database } from "bun:sqlite";

/** What an extractor last wrote at one key path (null: a person has changed or removed it since). */
export interface OwnedKey {
  key_path: string;
  value: string | null;
}

/** An extractor's or plug-in's last failure on a dataset, as the page and the API show it. */
export interface FailureRow {
  source: string;
  message: string;
  at: number;
}

export type ExtractRepo = ReturnType<typeof extractRepo>;

/** All SQL of the extraction feature (migration 015). */
export function extractRepo(db: Database) {
  const dataset = db.query<{ id: number; path: string; uid: string; title: string; owner: string | null; state: string; generation: number }, [number]>(
    "SELECT id, path, uid, title, owner, state, generation FROM datasets WHERE id = ?",
  );
  const ran = db.query<null, [number, number, number]>(
    `INSERT INTO extract_runs (dataset_id, generation, at) VALUES (?, ?, ?)
     ON CONFLICT (dataset_id) DO UPDATE SET generation = excluded.generation, at = excluded.at`,
  );
  const behind = db.query<{ id: number; generation: number }, []>(
    `SELECT d.id, d.generation FROM datasets d LEFT JOIN extract_runs r ON r.dataset_id = d.id
      WHERE d.state = 'present' AND d.file_count > 0 AND (r.generation IS NULL OR r.generation < d.generation)`,
  );
  const files = db.query<{ path: string }, [number]>("SELECT path FROM files WHERE dataset_id = ? ORDER BY path");
  const owned = db.query<OwnedKey, [number, string]>("SELECT key_path, value FROM extracted_tags WHERE dataset_id = ? AND source = ?");
  const own = db.query<null, [number, string, string, string | null]>(
    `INSERT INTO extracted_tags (dataset_id, source, key_path, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (dataset_id, key_path) DO UPDATE SET source = excluded.source, value = excluded.value`,
  );
  const disown = db.query<null, [number, string]>("DELETE FROM extracted_tags WHERE dataset_id = ? AND key_path = ?");
  const identifiers = db.query<{ attribute: string; files: number }, [number]>(
    "SELECT attribute, files FROM dataset_identifiers WHERE dataset_id = ? ORDER BY attribute",
  );
  const clearIdentifiers = db.query<null, [number]>("DELETE FROM dataset_identifiers WHERE dataset_id = ?");
  const addIdentifier = db.query<null, [number, string, number]>("INSERT INTO dataset_identifiers (dataset_id, attribute, files) VALUES (?, ?, ?)");
  const failures = db.query<FailureRow, [number]>("SELECT source, message, at FROM extract_failures WHERE dataset_id = ? ORDER BY source");
  const fail = db.query<null, [number, string, string, number]>(
    `INSERT INTO extract_failures (dataset_id, source, message, at) VALUES (?, ?, ?, ?)
     ON CONFLICT (dataset_id, source) DO UPDATE SET message = excluded.message, at = excluded.at`,
  );
  const succeed = db.query<null, [number, string]>("DELETE FROM extract_failures WHERE dataset_id = ? AND source = ?");
  return {
    /** The dataset's folder, identity and description, or null when it is gone. */
    dataset: (id: number) => dataset.get(id),
    /** Records that the built-in extractors ran over a dataset at a generation. */
    ran: (datasetId: number, generation: number, at: number) => ran.run(datasetId, generation, at),
    /** Present datasets with files that the built-in extractors have not seen at their current generation. */
    behind: () => behind.all(),
    /** Every file of a dataset, relative to its folder, in path order. */
    files: (datasetId: number) => files.all(datasetId).map((f) => f.path),
    /** The keys a source wrote into a dataset's tags, and whether each is still its own. */
    owned: (datasetId: number, source: string) => owned.all(datasetId, source),
    /** Records what a source wrote at a key path (null: released to people). */
    own: (datasetId: number, source: string, keyPath: string, value: string | null) => own.run(datasetId, source, keyPath, value),
    /** Forgets a key path the source removed again. */
    disown: (datasetId: number, keyPath: string) => disown.run(datasetId, keyPath),
    /** The identifying attributes a dataset's files carry, by name, with how many files carry each. */
    identifiers: (datasetId: number) => identifiers.all(datasetId),
    /** Replaces a dataset's identifying attributes (one transaction, run by the caller). */
    setIdentifiers(datasetId: number, found: Map<string, number>): void {
      clearIdentifiers.run(datasetId);
      for (const [attribute, n] of found) addIdentifier.run(datasetId, attribute, n);
    },
    /** The last failure of each source that failed on its latest run. */
    failures: (datasetId: number) => failures.all(datasetId),
    /** Records a source's failure on a dataset (replacing its earlier one). */
    fail: (datasetId: number, source: string, message: string, at: number) => fail.run(datasetId, source, message, at),
    /** Clears a source's failure after a run that went well. */
    succeed: (datasetId: number, source: string) => succeed.run(datasetId, source),
  };
}
