// Comparing the files of one dataset on disk with its rows in the database: pure, so it is easy to test.
import type { SyncFileRow } from "./sync.repo.ts";
import type { FileEntry } from "./walk.ts";

/** What changed in a dataset's files, row by row. */
export interface FileDiff {
  added: FileEntry[];
  /** Added files that are copies of another file of the dataset (same size and mtime, or a hard link). */
  copied: { from: string; file: FileEntry }[];
  removed: SyncFileRow[];
  modified: { row: SyncFileRow; file: FileEntry }[];
  /** Same inode, size and mtime under a new path: the row keeps its id. */
  renamed: { row: SyncFileRow; file: FileEntry }[];
  /** Only the inode moved (the file was replaced by an identical one): updated quietly. */
  relinked: { row: SyncFileRow; file: FileEntry }[];
}

/** True when the diff changes what the dataset holds (anything but a quiet inode update). */
export function diffChangesContent(d: FileDiff): boolean {
  return d.added.length + d.copied.length + d.removed.length + d.modified.length + d.renamed.length > 0;
}

/** Matches disk against rows: same path first, then renames by inode+size+mtime, then copies by size+mtime. */
export function diffFiles(disk: FileEntry[], rows: SyncFileRow[]): FileDiff {
  const byPath = new Map<string, SyncFileRow>();
  for (const r of rows) byPath.set(r.path, r);
  const diff: FileDiff = { added: [], copied: [], removed: [], modified: [], renamed: [], relinked: [] };
  const fresh: FileEntry[] = [];
  for (const f of disk) {
    const row = byPath.get(f.path);
    if (!row) {
      fresh.push(f);
      continue;
    }
    byPath.delete(f.path);
    if (row.size !== f.size || row.mtime_ms !== f.mtimeMs) diff.modified.push({ row, file: f });
    else if (row.inode !== f.inode) diff.relinked.push({ row, file: f });
  }
  if (fresh.length === 0) {
    diff.removed = [...byPath.values()];
    return diff;
  }
  const gone = new Map<string, SyncFileRow[]>();
  for (const r of byPath.values()) {
    const k = `${r.inode}:${r.size}:${r.mtime_ms}`;
    const list = gone.get(k);
    if (list) list.push(r);
    else gone.set(k, [r]);
  }
  const unmatched: FileEntry[] = [];
  for (const f of fresh.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const list = gone.get(`${f.inode}:${f.size}:${f.mtimeMs}`);
    const row = list?.shift();
    if (row) {
      byPath.delete(row.path);
      diff.renamed.push({ row, file: f });
    } else unmatched.push(f);
  }
  diff.removed = [...byPath.values()];
  if (unmatched.length > 0) {
    // A copy has the content of a file that stays: same size and mtime (cp -p, a file manager) or the same inode (a hard link).
    const freshPaths = new Set(unmatched.map((f) => f.path));
    const sources = new Map<string, string>();
    for (const f of disk) {
      if (freshPaths.has(f.path)) continue;
      sources.set(`s${f.size}:${f.mtimeMs}`, f.path);
      sources.set(`i${f.inode}`, f.path);
    }
    for (const f of unmatched) {
      const from = sources.get(`i${f.inode}`) ?? (f.size > 0 ? sources.get(`s${f.size}:${f.mtimeMs}`) : undefined);
      if (from !== undefined) diff.copied.push({ from, file: f });
      else diff.added.push(f);
    }
  }
  return diff;
}

/** A digest of a file list (path, size, mtime), equal for datasets with equal content listings. */
export function contentHash(files: FileEntry[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = new Bun.CryptoHasher("sha256");
  for (const f of sorted) h.update(`${f.path}\u0000${f.size}\u0000${f.mtimeMs}\n`);
  return h.digest("hex");
}
