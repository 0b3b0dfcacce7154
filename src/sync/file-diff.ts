// Turning what a walk found (files not in the database, rows not on disk) into renames, copies, additions and
// removals: pure but for the lookups it is given, so it is easy to test.
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

/** What a walk found before moves are matched: `fresh` files have no row at their path, `gone` rows no file. */
export interface WalkDelta {
  fresh: FileEntry[];
  gone: SyncFileRow[];
  modified: { row: SyncFileRow; file: FileEntry }[];
  relinked: { row: SyncFileRow; file: FileEntry }[];
}

/** Rows of the same dataset looked up in the database, for files the walk did not compare them with. */
export interface MoveLookup {
  byInode(inode: number): SyncFileRow[];
  bySizeMtime(size: number, mtimeMs: number): SyncFileRow[];
  /** For a row the walk did not look at: is its file still there, unchanged? (A whole walk looked at every row.) */
  stillThere(row: SyncFileRow): boolean;
}

/** True when the diff changes what the dataset holds (anything but a quiet inode update). */
export function diffChangesContent(d: FileDiff): boolean {
  return d.added.length + d.copied.length + d.removed.length + d.modified.length + d.renamed.length > 0;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const sameFile = (r: SyncFileRow, f: FileEntry) => r.size === f.size && r.mtime_ms === f.mtimeMs;

/**
 * Matches fresh files with gone rows: the same inode, size and mtime under a new path is a rename (also of a row
 * outside the walked part whose file is gone); a fresh file with the content of a file that stays (same size and
 * mtime, as `cp -p` or a file manager leaves it, or the same inode: a hard link) is a copy; the rest are added or
 * removed. Lookups run only for fresh files, so the cost follows the change, not the dataset.
 */
export function matchMoves(delta: WalkDelta, lookup: MoveLookup | undefined): FileDiff {
  const diff: FileDiff = { added: [], copied: [], removed: [], modified: delta.modified, renamed: [], relinked: delta.relinked };
  const gone = new Map<string, SyncFileRow[]>();
  for (const r of delta.gone) {
    const k = `${r.inode}:${r.size}:${r.mtime_ms}`;
    const list = gone.get(k);
    if (list) list.push(r);
    else gone.set(k, [r]);
  }
  const goneIds = new Set(delta.gone.map((r) => r.id));
  const used = new Set<number>();
  const unmatched: FileEntry[] = [];
  for (const f of [...delta.fresh].sort(byPath)) {
    const row = gone.get(`${f.inode}:${f.size}:${f.mtimeMs}`)?.find((r) => !used.has(r.id));
    if (row) {
      used.add(row.id);
      diff.renamed.push({ row, file: f });
    } else unmatched.push(f);
  }
  for (const f of unmatched) {
    if (!lookup) {
      diff.added.push(f);
      continue;
    }
    const linked = lookup.byInode(f.inode).filter((r) => r.path !== f.path && !goneIds.has(r.id) && !used.has(r.id));
    // A row outside the walked part whose file is gone, with this file's inode, size and mtime: moved here.
    const moved = linked.find((r) => sameFile(r, f) && !lookup.stillThere(r));
    if (moved) {
      used.add(moved.id);
      diff.renamed.push({ row: moved, file: f });
      continue;
    }
    const sources = [...linked, ...(f.size > 0 ? lookup.bySizeMtime(f.size, f.mtimeMs) : [])];
    const from = sources.find(
      (r) => r.path !== f.path && !goneIds.has(r.id) && !used.has(r.id) && (r.inode === f.inode || sameFile(r, f)) && lookup.stillThere(r),
    );
    if (from) diff.copied.push({ from: from.path, file: f });
    else diff.added.push(f);
  }
  diff.removed = delta.gone.filter((r) => !used.has(r.id));
  return diff;
}
