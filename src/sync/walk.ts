// Walking the share: the dataset folders at the configured depth, and the files of one dataset.
import { lstatPath, openDir, type DirHandle, type EntryStat } from "../platform/stat-at.ts";
import { listDir, type FsPath } from "./fs.ts";
import { fsPath } from "./names.ts";

/** The sidecar folder inside every dataset folder; its files are never dataset files. */
export const SIDECAR_DIR = ".mata";

/** Output Mata is still writing (an export's temp folder, renamed into place when whole) is not a dataset file yet. */
export function isWorkInProgress(name: string): boolean {
  return name.startsWith(".mata-tmp-");
}

/** A file of a dataset as seen on disk (path relative to the dataset, stored form of names.ts). */
export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
  inode: number;
  /** The content's SHA-256 (hex) where fixity has recorded it for this size and mtime (manifests carry it). */
  sha256?: string;
}

/** A dataset folder found at the configured depth. */
export interface FolderEntry {
  /** Relative to the root, '/'-separated, stored form. */
  path: string;
  abs: FsPath;
  inode: number;
  ownerUid: number;
}

/** Problems met while walking that do not stop the scan (an unreadable subfolder...). */
export type WalkErrors = string[];

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

/** A path of hundreds of characters, cut in the middle so the error naming it still shows its cause. */
function shown(rel: string): string {
  return rel.length > 300 ? `${rel.slice(0, 120)}…${rel.slice(-120)}` : rel;
}

/**
 * lstat of one entry; a refusal other than "vanished" (a name too long for the path limit, a permission, an I/O
 * error) is recorded against that entry and the walk goes on without it, naming it in `unreadable` so what is
 * known at or below it is kept as it was.
 */
function lookAt(look: () => EntryStat | undefined, rel: string, errors: WalkErrors, unreadable: string[]): EntryStat | undefined {
  try {
    return look();
  } catch (e) {
    errors.push(`cannot read "${shown(rel) || "."}": ${errCode(e)}`);
    unreadable.push(rel);
    return undefined;
  }
}

const lstatEntry = (p: FsPath, rel: string, errors: WalkErrors, unreadable: string[]) => lookAt(() => lstatPath(p), rel, errors, unreadable);

/** Owners and the newest inode change seen in a walk, so an ACL drift check can tell nothing changed without walking again. */
export interface WalkStats {
  maxCtimeMs: number;
  uids: Set<number>;
}

/**
 * Orders stored paths as SQLite's `ORDER BY path` does (bytes of UTF-8, that is code points); JavaScript's `<`
 * compares UTF-16 units, which differs only when a surrogate pair meets a character from U+E000 up.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.codePointAt(i)! - b.codePointAt(i)!;
  return a.length - b.length;
}
const SURROGATE = /[\uD800-\uDFFF]/;

/** Options of a sorted walk. */
export interface WalkOptions {
  /** Walk only below this folder of the dataset (stored form); "" or absent: the whole dataset. */
  start?: string;
  /** Filled with the owners and newest ctime of every folder and file met (the start folder included). */
  stats?: WalkStats;
}

interface Pending {
  name: string;
  path: FsPath;
  /** The name as the kernel knows it (bytes when not valid UTF-8), for looking it up in its open folder. */
  raw: string | Buffer;
  /** Sort key: the name, with "/" after a folder's, so a depth-first walk meets files in stored-path order. */
  key: string;
  dir: boolean;
}

/**
 * Visits every file below a dataset folder in stored-path order (the order of `ORDER BY path`), never following
 * symlinks, skipping fifos, sockets and devices and the top-level sidecar. Memory holds one folder's listing per
 * level, never the whole dataset. Unreadable folders are reported in `errors` (and their paths in `unreadable`, ""
 * for the start folder itself) before any file that sorts after them is visited; vanished entries are skipped.
 * Yields to the event loop every few milliseconds, so a dataset of millions of files never stalls the server.
 */
export async function walkSorted(
  abs: FsPath,
  onFile: (f: FileEntry) => void,
  errors: WalkErrors,
  unreadable: string[] = [],
  opts: WalkOptions = {},
): Promise<void> {
  const start = opts.start ?? "";
  const stats = opts.stats;
  const note = (st: EntryStat) => {
    if (!stats) return;
    if (st.ctimeMs > stats.maxCtimeMs) stats.maxCtimeMs = st.ctimeMs;
    stats.uids.add(st.uid);
  };
  const startAbs = start === "" ? abs : fsPath(abs, start);
  if (stats) {
    const st = lstatEntry(startAbs, start, errors, unreadable);
    if (st) note(st);
  }
  const frames: { rel: string; items: Pending[]; next: number; handle: DirHandle | null }[] = [];
  const open = (dirAbs: FsPath, rel: string) => {
    let entries;
    try {
      entries = listDir(dirAbs);
    } catch (e) {
      const code = errCode(e);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        errors.push(`cannot read folder "${shown(rel) || "."}": ${code}`);
        unreadable.push(rel);
      }
      return;
    }
    const items: Pending[] = [];
    for (const ent of entries) {
      if ((rel === "" && ent.name === SIDECAR_DIR) || isWorkInProgress(ent.name)) continue;
      if (ent.kind === "symlink" || ent.kind === "other") continue;
      let dir = ent.kind === "dir";
      if (ent.kind === "unknown") {
        const st = lstatEntry(ent.path, rel === "" ? ent.name : `${rel}/${ent.name}`, errors, unreadable);
        const kind = st?.kind;
        if (kind !== "dir" && kind !== "file") continue;
        dir = kind === "dir";
      }
      const raw = typeof ent.path === "string" ? ent.name : ent.path.subarray(ent.path.lastIndexOf(0x2f) + 1);
      items.push({ name: ent.name, path: ent.path, raw, key: dir ? `${ent.name}/` : ent.name, dir });
    }
    // Native order is code-point order unless a name holds a surrogate pair (rare: check once per folder).
    items.sort(items.some((i) => SURROGATE.test(i.key)) ? (x, y) => comparePaths(x.key, y.key) : (x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    // Paths at the kernel's limit are looked at by path, so they are reported as everything else opens them.
    frames.push({ rel, items, next: 0, handle: dirAbs.length < 3800 ? openDir(dirAbs) : null });
  };
  open(startAbs, start);
  try {
    await visitAll();
  } finally {
    for (const f of frames) f.handle?.close();
  }

  async function visitAll() {
    let visited = 0;
    let lastYield = performance.now();
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next === frame.items.length) {
        frame.handle?.close();
        frames.pop();
        continue;
      }
      const item = frame.items[frame.next++]!;
      const rel = frame.rel === "" ? item.name : `${frame.rel}/${item.name}`;
      const handle = frame.handle;
      const st = handle ? lookAt(() => handle.stat(item.raw), rel, errors, unreadable) : lstatEntry(item.path, rel, errors, unreadable);
      if (st) {
        const kind = st.kind;
        // The listing's kind can be stale (an entry replaced meanwhile): what lstat says now decides.
        if (kind === "dir" && item.dir) {
          note(st);
          open(item.path, rel);
        } else if (kind === "file" && !item.dir) {
          note(st);
          onFile({ path: rel, size: st.size, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino });
        }
      }
      if ((++visited & 255) === 0 && performance.now() - lastYield > 15) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
  }
}

/** Every file below a dataset folder, in stored-path order (tests and small folders; the reconcile streams). */
export async function walkDataset(abs: FsPath, errors: WalkErrors, unreadable: string[] = []): Promise<FileEntry[]> {
  const files: FileEntry[] = [];
  await walkSorted(abs, (f) => files.push(f), errors, unreadable);
  return files;
}

/**
 * The dataset folders below `prefix` (a folder path relative to the root with fewer than `depth` parts, or
 * exactly `depth` parts for one dataset). Hidden folders (names starting with ".") and symlinks are never datasets.
 * Folders above the dataset level that cannot be read are reported in `errors` and `unreadable`.
 */
export function listDatasetFolders(root: string, depth: number, prefix: string, errors: WalkErrors, unreadable: string[] = []): FolderEntry[] {
  const out: FolderEntry[] = [];
  const parts = prefix === "" ? 0 : prefix.split("/").length;
  const startAbs = fsPath(root, prefix);
  if (parts === depth) {
    const st = lstatEntry(startAbs, prefix, errors, unreadable);
    if (st?.kind === "dir") out.push({ path: prefix, abs: startAbs, inode: st.ino, ownerUid: st.uid });
    return out;
  }
  const visit = (abs: FsPath, rel: string, level: number) => {
    let entries;
    try {
      entries = listDir(abs);
    } catch (e) {
      const code = errCode(e);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        errors.push(`cannot read folder "${shown(rel) || "."}": ${code}`);
        unreadable.push(rel);
      }
      return;
    }
    for (const ent of entries) {
      if (ent.name.startsWith(".")) continue;
      if (ent.kind !== "dir" && ent.kind !== "unknown") continue;
      const childRel = rel === "" ? ent.name : `${rel}/${ent.name}`;
      const st = lstatEntry(ent.path, childRel, errors, unreadable);
      if (st?.kind !== "dir") continue;
      if (level + 1 === depth) out.push({ path: childRel, abs: ent.path, inode: st.ino, ownerUid: st.uid });
      else visit(ent.path, childRel, level + 1);
    }
  };
  visit(startAbs, prefix, parts);
  return out;
}
