// Every SQL statement of the sync engine, prepared once per database.
import type { Database } from "bun:sqlite";

/** The columns of a dataset row the sync engine reads. */
export interface SyncDatasetRow {
  id: number;
  uid: string;
  path: string;
  title: string;
  description: string;
  owner: string | null;
  owner_fixed: number;
  state: "present" | "missing";
  generation: number;
  file_count: number;
  byte_count: number;
  scan_error: string | null;
  created_at: number;
  folder_inode: number | null;
  /** The generation the sidecar manifest reflects. */
  manifest_generation: number;
}

/** A file row as the sync engine compares it with the disk. */
export interface SyncFileRow {
  id: number;
  path: string;
  size: number;
  mtime_ms: number;
  inode: number;
  /** Set by fixity; the manifest carries it. */
  sha256?: string | null;
}

/** A tag row, for copying a dataset's tag tree to its copy. */
export interface SyncTagRow {
  id: number;
  parent_id: number | null;
  position: number;
  key: string;
  value: string;
  subtree_hash: string;
}

const DS_COLS =
  "id, uid, path, title, description, owner, owner_fixed, state, generation, file_count, byte_count, scan_error, created_at, folder_inode, manifest_generation";

/** Prepared statements of the sync engine; callers wrap writes in `db.transaction`. */
export function syncRepo(db: Database) {
  const byUid = db.query<SyncDatasetRow, [string]>(`SELECT ${DS_COLS} FROM datasets WHERE uid = ?`);
  const byId = db.query<SyncDatasetRow, [number]>(`SELECT ${DS_COLS} FROM datasets WHERE id = ?`);
  const presentByPath = db.query<SyncDatasetRow, [string]>(`SELECT ${DS_COLS} FROM datasets WHERE state = 'present' AND path = ?`);
  const allPresent = db.query<SyncDatasetRow, []>(`SELECT ${DS_COLS} FROM datasets WHERE state = 'present'`);
  // Paths under a prefix: '/' + 1 is '0', so the range covers exactly "prefix/...".
  const presentUnder = db.query<SyncDatasetRow, [string, string]>(`SELECT ${DS_COLS} FROM datasets WHERE state = 'present' AND path > ? AND path < ?`);
  const insertDataset = db.query<{ id: number }, [number | null, string, string, string | null, number, number, number, number]>(
    "INSERT INTO datasets (id, uid, path, owner, folder_inode, created_at, updated_at, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
  );
  const idTaken = db.query<{ one: number }, [number]>("SELECT 1 AS one FROM datasets WHERE id = ?");
  const setLocation = db.query<null, [string, string | null, number, number, number]>(
    "UPDATE datasets SET path = ?, state = 'present', missing_since = NULL, owner = CASE WHEN owner_fixed = 1 THEN owner ELSE ? END, folder_inode = ?, updated_at = ? WHERE id = ?",
  );
  const setTempPath = db.query<null, [string, number]>("UPDATE datasets SET path = ? WHERE id = ?");
  const markMissing = db.query<null, [number, number, number]>(
    "UPDATE datasets SET state = 'missing', missing_since = ?, generation = generation + 1, updated_at = ? WHERE id = ? AND state = 'present'",
  );
  const setContent = db.query<{ generation: number }, [number, number, number, string | null, number, number]>(
    "UPDATE datasets SET file_count = ?, byte_count = ?, generation = generation + ?, scan_error = ?, updated_at = ? WHERE id = ? RETURNING generation",
  );
  const setManifestGeneration = db.query<null, [number, number]>("UPDATE datasets SET manifest_generation = ? WHERE id = ?");
  const FILE_COLS = "id, path, size, mtime_ms, inode, sha256";
  const filesPage = db.query<SyncFileRow, [number, string, number]>(`SELECT ${FILE_COLS} FROM files WHERE dataset_id = ? AND path > ? ORDER BY path LIMIT ?`);
  const filesFrom = db.query<SyncFileRow, [number, string, number]>(`SELECT ${FILE_COLS} FROM files WHERE dataset_id = ? AND path >= ? ORDER BY path LIMIT ?`);
  const fileAt = db.query<SyncFileRow, [number, string]>(`SELECT ${FILE_COLS} FROM files WHERE dataset_id = ? AND path = ?`);
  const byInode = db.query<SyncFileRow, [number, number]>(`SELECT ${FILE_COLS} FROM files WHERE dataset_id = ? AND inode = ? LIMIT 8`);
  const bySizeMtime = db.query<SyncFileRow, [number, number, number]>(
    `SELECT ${FILE_COLS} FROM files WHERE dataset_id = ? AND size = ? AND mtime_ms = ? LIMIT 8`,
  );
  const sampleFiles = db.query<SyncFileRow, [number, number]>("SELECT id, path, size, mtime_ms, inode FROM files WHERE dataset_id = ? ORDER BY id LIMIT ?");
  const insertFile = db.query<null, [number, string, number, number, number, number]>(
    "INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const updateFile = db.query<null, [string, number, number, number, number]>("UPDATE files SET path = ?, size = ?, mtime_ms = ?, inode = ? WHERE id = ?");
  const setFileTempPath = db.query<null, [string, number]>("UPDATE files SET path = ? WHERE id = ?");
  const deleteFile = db.query<null, [number]>("DELETE FROM files WHERE id = ?");
  const tagsOf = db.query<SyncTagRow, [number]>(
    "SELECT id, parent_id, position, key, value, subtree_hash FROM tags WHERE dataset_id = ? ORDER BY parent_id NULLS FIRST, position, id",
  );
  const insertTag = db.query<{ id: number }, [number, number | null, number, string, string, string]>(
    "INSERT INTO tags (dataset_id, parent_id, position, key, value, subtree_hash) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
  );
  const deleteTags = db.query<null, [number]>("DELETE FROM tags WHERE dataset_id = ?");
  const insertRelation = db.query<null, [number, number, number]>("INSERT OR IGNORE INTO relations (child_id, parent_id, position) VALUES (?, ?, ?)");
  const deleteParents = db.query<null, [number]>("DELETE FROM relations WHERE child_id = ?");
  const parentIds = db.query<{ parent_id: number }, [number]>("SELECT parent_id FROM relations WHERE child_id = ? ORDER BY position");
  const isChildOf = db.query<{ one: number }, [number, number]>("SELECT 1 AS one FROM relations WHERE child_id = ? AND parent_id = ?");
  const setText = db.query<null, [string, string, number, number]>("UPDATE datasets SET title = ?, description = ?, updated_at = ? WHERE id = ?");

  return {
    byUid: (uid: string) => byUid.get(uid) ?? undefined,
    byId: (id: number) => byId.get(id) ?? undefined,
    presentByPath: (path: string) => presentByPath.get(path) ?? undefined,
    /** Present datasets at `prefix` itself or below it ("" means all). */
    presentInScope(prefix: string): SyncDatasetRow[] {
      if (prefix === "") return allPresent.all();
      const rows = presentUnder.all(`${prefix}/`, `${prefix}0`);
      const self = presentByPath.get(prefix);
      return self ? [self, ...rows] : rows;
    },
    /** A new dataset row; `id` picks its id (a rebuild restoring the one its identity records), else the next one. */
    insertDataset: (uid: string, path: string, owner: string | null, folderInode: number, now: number, id?: number) =>
      insertDataset.get(id ?? null, uid, path, owner, folderInode, now, now, 1)!.id,
    idTaken: (id: number) => idTaken.get(id) !== null,
    setLocation: (id: number, path: string, owner: string | null, folderInode: number, now: number) => setLocation.run(path, owner, folderInode, now, id),
    setTempPath: (id: number) => setTempPath.run(`\u0000moving:${id}`, id),
    markMissing: (id: number, now: number) => markMissing.run(now, now, id),
    /** Stores the new totals; `bump` 1 increments the generation. Returns the generation after. */
    setContent: (id: number, fileCount: number, byteCount: number, bump: 0 | 1, scanError: string | null, now: number) =>
      setContent.get(fileCount, byteCount, bump, scanError, now, id)!.generation,
    setManifestGeneration: (id: number, generation: number) => setManifestGeneration.run(generation, id),
    /**
     * The file rows of a dataset in path order, read a page at a time (no statement stays open, so the caller may
     * yield and others may write in between); `under` limits them to one folder's subtree.
     */
    *files(datasetId: number, under = ""): Generator<SyncFileRow> {
      const prefix = under === "" ? "" : `${under}/`;
      // '/' + 1 is '0': every path below the folder sorts before `${under}0`.
      const end = under === "" ? undefined : `${under}0`;
      let page = prefix === "" ? filesPage.all(datasetId, "", 2000) : filesFrom.all(datasetId, prefix, 2000);
      while (page.length > 0) {
        for (const r of page) {
          if (end !== undefined && r.path >= end) return;
          yield r;
        }
        if (page.length < 2000) return;
        page = filesPage.all(datasetId, page[page.length - 1]!.path, 2000);
      }
    },
    fileAt: (datasetId: number, path: string) => fileAt.get(datasetId, path) ?? undefined,
    byInode: (datasetId: number, inode: number) => byInode.all(datasetId, inode),
    bySizeMtime: (datasetId: number, size: number, mtimeMs: number) => bySizeMtime.all(datasetId, size, mtimeMs),
    sampleFiles: (datasetId: number, limit: number) => sampleFiles.all(datasetId, limit),
    insertFile: (datasetId: number, path: string, size: number, mtimeMs: number, inode: number, now: number) =>
      insertFile.run(datasetId, path, size, mtimeMs, inode, now),
    updateFile: (id: number, path: string, size: number, mtimeMs: number, inode: number) => updateFile.run(path, size, mtimeMs, inode, id),
    setFileTempPath: (id: number) => setFileTempPath.run(`\u0000moving:${id}`, id),
    deleteFile: (id: number) => deleteFile.run(id),
    tagsOf: (datasetId: number) => tagsOf.all(datasetId),
    insertTag: (datasetId: number, parentId: number | null, position: number, key: string, value: string, hash: string) =>
      insertTag.get(datasetId, parentId, position, key, value, hash)!.id,
    deleteTags: (datasetId: number) => deleteTags.run(datasetId),
    insertRelation: (childId: number, parentId: number, position: number) => insertRelation.run(childId, parentId, position),
    deleteParents: (childId: number) => deleteParents.run(childId),
    parentIds: (childId: number) => parentIds.all(childId).map((r) => r.parent_id),
    isChildOf: (childId: number, parentId: number) => isChildOf.get(childId, parentId) !== null,
    setText: (id: number, title: string, description: string, now: number) => setText.run(title, description, now, id),
  };
}

/** The sync engine's statements, typed for passing around. */
export type SyncRepo = ReturnType<typeof syncRepo>;
