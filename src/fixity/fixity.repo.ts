import type { Database } from "bun:sqlite";

/** A file as fixity sees it: the size and mtime the scan recorded, and the checksum recorded for them. */
export interface FixityFileRow {
  id: number;
  path: string;
  size: number;
  mtime_ms: number;
  sha256: string | null;
}

/** A file whose content changed while its size and mtime did not. */
export interface MismatchRow {
  dataset_id: number;
  dataset_path: string;
  path: string;
  size: number;
  expected: string;
  actual: string;
  found_at: number;
}

/** A dataset's fixity at a glance. */
export interface FixityCounts {
  files: number;
  hashed: number;
  mismatches: number;
  verified_at: number | null;
}

export type FixityRepo = ReturnType<typeof fixityRepo>;

/** All SQL of the fixity feature. */
export function fixityRepo(db: Database) {
  const unhashedPage = db.query<FixityFileRow, [number, string, number]>(
    "SELECT id, path, size, mtime_ms, sha256 FROM files WHERE dataset_id = ? AND sha256 IS NULL AND path > ? ORDER BY path LIMIT ?",
  );
  const allPage = db.query<FixityFileRow, [number, string, number]>(
    "SELECT id, path, size, mtime_ms, sha256 FROM files WHERE dataset_id = ? AND path > ? ORDER BY path LIMIT ?",
  );
  const unhashedCount = db.query<{ n: number }, [number]>("SELECT count(*) AS n FROM files WHERE dataset_id = ? AND sha256 IS NULL");
  const fileCount = db.query<{ n: number }, [number]>("SELECT file_count AS n FROM datasets WHERE id = ?");
  // Guarded by size and mtime, so a checksum never lands on content the scan has since seen change.
  const record = db.query<null, [string, number, number, number, number]>(
    "UPDATE files SET sha256 = ?, verified_at = ? WHERE id = ? AND size = ? AND mtime_ms = ? AND sha256 IS NULL",
  );
  const verified = db.query<null, [number, number, number, number]>("UPDATE files SET verified_at = ? WHERE id = ? AND size = ? AND mtime_ms = ?");
  const clearMismatch = db.query<null, [number]>("DELETE FROM fixity_mismatches WHERE file_id = ?");
  const addMismatch = db.query<null, [number, number, string, string, number]>(
    `INSERT INTO fixity_mismatches (file_id, dataset_id, expected, actual, found_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (file_id) DO UPDATE SET actual = excluded.actual`,
  );
  const setVerified = db.query<null, [number, number]>("UPDATE datasets SET fixity_verified_at = ? WHERE id = ?");
  const setBaseline = db.query<null, [number, number]>("UPDATE datasets SET fixity_verified_at = ? WHERE id = ? AND fixity_verified_at IS NULL");
  const counts = db.query<FixityCounts, [number, number, number]>(
    `SELECT d.file_count AS files, d.file_count - (SELECT count(*) FROM files WHERE dataset_id = ? AND sha256 IS NULL) AS hashed,
            (SELECT count(*) FROM fixity_mismatches WHERE dataset_id = ?) AS mismatches, d.fixity_verified_at AS verified_at
       FROM datasets d WHERE d.id = ?`,
  );
  const MISMATCH_COLS = `m.dataset_id, d.path AS dataset_path, f.path, f.size, m.expected, m.actual, m.found_at
    FROM fixity_mismatches m JOIN files f ON f.id = m.file_id JOIN datasets d ON d.id = m.dataset_id`;
  const mismatchesOf = db.query<MismatchRow, [number, number]>(`SELECT ${MISMATCH_COLS} WHERE m.dataset_id = ? ORDER BY f.path LIMIT ?`);
  const allMismatches = db.query<MismatchRow, [number]>(`SELECT ${MISMATCH_COLS} WHERE d.state = 'present' ORDER BY m.found_at DESC, f.path LIMIT ?`);
  const mismatchTotal = db.query<{ n: number }, []>(
    "SELECT count(*) AS n FROM fixity_mismatches m JOIN datasets d ON d.id = m.dataset_id WHERE d.state = 'present'",
  );
  const due = db.query<{ id: number; generation: number; verify: number }, [number]>(
    `SELECT id, generation, (fixity_verified_at IS NULL OR fixity_verified_at < ?1) AS verify FROM datasets
      WHERE state = 'present' AND (fixity_verified_at IS NULL OR fixity_verified_at < ?1
        OR EXISTS (SELECT 1 FROM files WHERE dataset_id = datasets.id AND sha256 IS NULL))`,
  );

  const restore = db.query<null, [string, number, string, number, number]>(
    "UPDATE files SET sha256 = ? WHERE dataset_id = ? AND path = ? AND size = ? AND mtime_ms = ? AND sha256 IS NULL",
  );
  const presentIds = db.query<{ id: number; path: string }, []>("SELECT id, path FROM datasets WHERE state = 'present' ORDER BY id");
  const presentAt = db.query<{ id: number }, [string]>("SELECT id FROM datasets WHERE state = 'present' AND path = ?");
  const dataset = db.query<{ id: number; uid: string; path: string; generation: number; state: string }, [number]>(
    "SELECT id, uid, path, generation, state FROM datasets WHERE id = ?",
  );

  return {
    /** A checksum a manifest kept, taken back when the file still has the size and mtime it was taken at. */
    restore(datasetId: number, path: string, size: number, mtimeMs: number, sha256: string): boolean {
      return restore.run(sha256, datasetId, path, size, mtimeMs).changes > 0;
    },
    presentDatasets(): { id: number; path: string }[] {
      return presentIds.all();
    },
    /** The present dataset at a folder path (relative to the root). */
    presentAt(path: string): number | undefined {
      return presentAt.get(path)?.id;
    },
    dataset(id: number) {
      return dataset.get(id);
    },
    /** A page of the dataset's files after `after` in path order: those without a checksum, or all of them. */
    page(datasetId: number, after: string, limit: number, all: boolean): FixityFileRow[] {
      return (all ? allPage : unhashedPage).all(datasetId, after, limit);
    },
    /** How many files a run will read: all of them, or those without a checksum. */
    toRead(datasetId: number, all: boolean): number {
      return (all ? fileCount.get(datasetId)?.n : unhashedCount.get(datasetId)?.n) ?? 0;
    },
    /** Records a first checksum; false when the row changed (or was hashed) meanwhile. */
    record(row: FixityFileRow, sha256: string, now: number): boolean {
      return record.run(sha256, now, row.id, row.size, row.mtime_ms).changes > 0;
    },
    /** The content matched its checksum again: noted, and a standing mismatch of it cleared. */
    matched(row: FixityFileRow, now: number): void {
      db.transaction(() => {
        verified.run(now, row.id, row.size, row.mtime_ms);
        clearMismatch.run(row.id);
      })();
    },
    mismatch(row: FixityFileRow, datasetId: number, actual: string, now: number): void {
      addMismatch.run(row.id, datasetId, row.sha256!, actual, now);
    },
    setVerified(datasetId: number, now: number): void {
      setVerified.run(now, datasetId);
    },
    /** A dataset's first checksums are its baseline: its first verification falls due `every` after them. */
    setBaseline(datasetId: number, now: number): void {
      setBaseline.run(now, datasetId);
    },
    counts(datasetId: number): FixityCounts | null {
      return counts.get(datasetId, datasetId, datasetId);
    },
    mismatches(datasetId: number, limit = 1000): MismatchRow[] {
      return mismatchesOf.all(datasetId, limit);
    },
    allMismatches(limit = 1000): { total: number; items: MismatchRow[] } {
      return { total: mismatchTotal.get()?.n ?? 0, items: allMismatches.all(limit) };
    },
    /** Present datasets with files to hash, or whose last full verification is older than `before` (verify = 1). */
    due(before: number): { id: number; generation: number; verify: boolean }[] {
      return due.all(before).map((r) => ({ id: r.id, generation: r.generation, verify: r.verify === 1 }));
    },
  };
}
