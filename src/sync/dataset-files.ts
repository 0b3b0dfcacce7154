// Reconciling the files of one dataset folder with its rows: the whole folder (a merge of a sorted walk with the
// rows in path order, so memory holds the changes and one folder's listing, never the dataset), or only the paths
// the watcher named. The changes are committed in one transaction, then appended to the sidecar manifest.
import type { AppContext, ContentChange } from "../context.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { log } from "../log.ts";
import { diffChangesContent, matchMoves, type FileDiff, type MoveLookup, type WalkDelta } from "./file-diff.ts";
import { lstatOrNull, lstatStrict, type FsPath } from "./fs.ts";
import { appendManifest, hasManifest, writeManifest, type ManifestChange } from "./manifest.ts";
import { fsPath } from "./names.ts";
import type { SyncDatasetRow, SyncFileRow, SyncRepo } from "./sync.repo.ts";
import type { SyncSummary } from "./summary.ts";
import { comparePaths, walkSorted, type FileEntry, type WalkStats } from "./walk.ts";

/** Decides whether a file seen on disk has stopped changing (watcher runs); a full scan takes every file as is. */
export type StableCheck = (datasetPath: string, file: FileEntry) => boolean;

/** How one dataset's files are looked at. */
export interface FileScanOptions {
  isStable?: StableCheck;
  /** Only these paths (relative to the dataset, files or folders, as the watcher named them); absent: the whole folder. */
  paths?: string[];
  /** Filled by a whole-folder walk with the owners and newest ctime met (the ACL drift check reads it). */
  stats?: WalkStats;
}

/** What a walk found, with the dataset's totals after it. */
interface Scan extends WalkDelta {
  fileCount: number;
  byteCount: number;
  errors: string[];
  unstable: boolean;
  lookup: MoveLookup | undefined;
}

const LIST_CAP = 1000;
const cap = <T>(xs: T[]) => xs.slice(0, LIST_CAP);
/** Attempts before leaving a dataset that other writers keep changing to the next run. */
const ATTEMPTS = 3;
const errText = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** Whether a path is one that could not be looked at, or below one. */
const under = (dirs: string[], p: string) => dirs.some((u) => u === "" || p === u || p.startsWith(`${u}/`));

function dbLookup(repo: SyncRepo, datasetId: number, stillThere: (r: SyncFileRow) => boolean): MoveLookup {
  return { byInode: (i) => repo.byInode(datasetId, i), bySizeMtime: (s, m) => repo.bySizeMtime(datasetId, s, m), stillThere };
}

/**
 * The whole folder: a depth-first walk in path order merged with the rows read in path order. Files still being
 * written and rows below a folder that cannot be read now are kept as recorded (a permission glitch loses nothing).
 */
async function scanWhole(repo: SyncRepo, ds: SyncDatasetRow, abs: FsPath, opts: FileScanOptions): Promise<Scan> {
  const scan: Scan = { fresh: [], gone: [], modified: [], relinked: [], fileCount: 0, byteCount: 0, errors: [], unstable: false, lookup: undefined };
  const unreadable: string[] = [];
  const rows = repo.files(ds.id);
  let next = rows.next();
  const keep = (size: number) => {
    scan.fileCount += 1;
    scan.byteCount += size;
  };
  // Rows sorting before `path` (all of them when null) have no file: gone, unless below an unreadable folder.
  const passRowsBefore = (path: string | null) => {
    while (!next.done && (path === null || comparePaths(next.value.path, path) < 0)) {
      if (unreadable.length > 0 && under(unreadable, next.value.path)) keep(next.value.size);
      else scan.gone.push(next.value);
      next = rows.next();
    }
  };
  await walkSorted(
    abs,
    (f) => {
      passRowsBefore(f.path);
      const row = !next.done && next.value.path === f.path ? next.value : undefined;
      if (row) next = rows.next();
      if (opts.isStable && !opts.isStable(ds.path, f)) {
        scan.unstable = true;
        if (row) keep(row.size);
        return;
      }
      keep(f.size);
      if (!row) scan.fresh.push(f);
      else if (row.size !== f.size || row.mtime_ms !== f.mtimeMs) scan.modified.push({ row, file: f });
      else if (row.inode !== f.inode) scan.relinked.push({ row, file: f });
    },
    scan.errors,
    unreadable,
    { stats: opts.stats },
  );
  passRowsBefore(null);
  // A first scan has nothing to be a copy of; later ones look copies up by inode or size and mtime.
  if (scan.fresh.length > 0 && scan.fileCount > scan.fresh.length) {
    const changed = new Set(scan.modified.map((m) => m.row.id));
    scan.lookup = dbLookup(repo, ds.id, (r) => !changed.has(r.id));
  }
  return scan;
}

/** Only the named paths: each is looked at (a folder walked), and compared with the rows at it and below it. */
async function scanPaths(repo: SyncRepo, ds: SyncDatasetRow, abs: FsPath, paths: string[], opts: FileScanOptions): Promise<Scan> {
  const disk = new Map<string, FileEntry>();
  const rows = new Map<string, SyncFileRow>();
  const errors: string[] = [];
  const unreadable: string[] = [];
  const done: string[] = [];
  for (const p of [...new Set(paths)].sort()) {
    if (done.some((d) => p === d || p.startsWith(`${d}/`))) continue;
    done.push(p);
    const at = repo.fileAt(ds.id, p);
    if (at) rows.set(at.path, at);
    for (const r of repo.files(ds.id, p)) rows.set(r.path, r);
    let st;
    try {
      st = lstatStrict(fsPath(abs, p));
    } catch (e) {
      errors.push(`cannot read "${p}": ${errText(e)}`);
      continue;
    }
    if (st?.isFile()) disk.set(p, { path: p, size: st.size, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino });
    else if (st?.isDirectory()) await walkSorted(abs, (f) => disk.set(f.path, f), errors, unreadable, { start: p });
  }
  const scan: Scan = {
    fresh: [],
    gone: [],
    modified: [],
    relinked: [],
    fileCount: ds.file_count,
    byteCount: ds.byte_count,
    errors,
    unstable: false,
    lookup: undefined,
  };
  for (const f of disk.values()) {
    const row = rows.get(f.path);
    if (opts.isStable && !opts.isStable(ds.path, f)) {
      scan.unstable = true;
      rows.delete(f.path);
      continue;
    }
    if (!row) scan.fresh.push(f);
    else if (row.size !== f.size || row.mtime_ms !== f.mtimeMs) scan.modified.push({ row, file: f });
    else if (row.inode !== f.inode) scan.relinked.push({ row, file: f });
    rows.delete(f.path);
  }
  for (const r of rows.values()) if (!(unreadable.length > 0 && under(unreadable, r.path))) scan.gone.push(r);
  const changed = new Set(scan.modified.map((m) => m.row.id));
  // A row outside the named paths is still there when its file is, unchanged.
  scan.lookup = dbLookup(repo, ds.id, (r) => {
    if (changed.has(r.id)) return false;
    const s = lstatOrNull(fsPath(abs, r.path));
    return s?.isFile() === true && s.ino === r.inode && s.size === r.size;
  });
  return scan;
}

/** The totals after a diff of named paths: the recorded ones moved by what changed. */
function partialTotals(scan: Scan, diff: FileDiff): void {
  for (const f of [...diff.added, ...diff.copied.map((c) => c.file)]) {
    scan.fileCount += 1;
    scan.byteCount += f.size;
  }
  for (const r of diff.removed) {
    scan.fileCount -= 1;
    scan.byteCount -= r.size;
  }
  for (const m of diff.modified) scan.byteCount += m.file.size - m.row.size;
}

/**
 * Brings one dataset's file rows, totals, generation and scan error up to date, and its manifest.
 * Returns true when some file was left out because it was still being written, or other writers kept the
 * dataset changing (look again later).
 */
export async function reconcileDatasetFiles(
  ctx: AppContext,
  repo: SyncRepo,
  datasetId: number,
  abs: FsPath,
  extraErrors: string[],
  summary: SyncSummary,
  opts: FileScanOptions = {},
): Promise<boolean> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const first = repo.byId(datasetId);
    if (!first) return false;
    const partial = opts.paths !== undefined;
    const scan = partial ? await scanPaths(repo, first, abs, opts.paths!, opts) : await scanWhole(repo, first, abs, opts);
    // A named path that could not be read: the whole folder decides the dataset's scan error.
    if (partial && scan.errors.length > 0) return reconcileDatasetFiles(ctx, repo, datasetId, abs, extraErrors, summary, { ...opts, paths: undefined });
    // The folder vanished since it was listed: the next run marks it missing; its rows stay as they are.
    if (!lstatOrNull(abs)?.isDirectory()) return false;
    const diff = matchMoves(scan, scan.lookup);
    if (partial) partialTotals(scan, diff);
    else summary.files.present += scan.fileCount;
    const errors = [...extraErrors, ...scan.errors];
    const scanError = partial ? first.scan_error : errors.length ? errors.join("; ").slice(0, 2000) : null;
    const content = diffChangesContent(diff);
    if (!content && diff.relinked.length === 0 && scanError === first.scan_error) {
      if (scanError) summary.errors.push(`${first.path}: ${scanError}`);
      if (!partial && extraErrors.length === 0) keepManifest(repo, first, abs, summary);
      return scan.unstable;
    }
    // A sidecar that could not be written (recorded as the dataset's scan error) takes no manifest either.
    const sidecarOk = extraErrors.length === 0;
    const committed = commit(ctx, repo, first, diff, scan, scanError, summary);
    if (committed === "raced") continue;
    if (committed.change) {
      if (sidecarOk) manifestAfter(repo, first, abs, committed.generation, diff, summary);
      for (const listener of ctx.hooks.contentChanged) {
        try {
          listener(committed.change);
        } catch (e) {
          log.error("contentChanged listener failed", { datasetId, error: String(e) });
        }
      }
    } else if (!partial && sidecarOk) keepManifest(repo, { ...first, generation: committed.generation }, abs, summary);
    return scan.unstable;
  }
  log.warn("files kept changing under other writers; looking again later", { dataset: datasetId });
  return true;
}

/** Commits a diff in one transaction, unless another writer committed a change to the dataset since it was read. */
function commit(
  ctx: AppContext,
  repo: SyncRepo,
  first: SyncDatasetRow,
  diff: FileDiff,
  scan: Scan,
  scanError: string | null,
  summary: SyncSummary,
): "raced" | { generation: number; change?: ContentChange } {
  const events = eventsRepo(ctx.db);
  const now = ctx.clock.now();
  const content = diffChangesContent(diff);
  return ctx.db
    .transaction((): "raced" | { generation: number; change?: ContentChange } => {
      const row = repo.byId(first.id);
      if (!row || row.generation !== first.generation || row.file_count !== first.file_count) return "raced";
      for (const r of diff.removed) repo.deleteFile(r.id);
      for (const { row: r } of diff.renamed) repo.setFileTempPath(r.id);
      for (const { row: r, file } of [...diff.renamed, ...diff.modified, ...diff.relinked])
        repo.updateFile(r.id, file.path, file.size, file.mtimeMs, file.inode);
      for (const f of diff.added) repo.insertFile(first.id, f.path, f.size, f.mtimeMs, f.inode, now);
      for (const { file } of diff.copied) repo.insertFile(first.id, file.path, file.size, file.mtimeMs, file.inode, now);
      const generation = repo.setContent(first.id, scan.fileCount, scan.byteCount, content ? 1 : 0, scanError, now);
      summary.files.added += diff.added.length;
      summary.files.removed += diff.removed.length;
      summary.files.modified += diff.modified.length;
      summary.files.renamed += diff.renamed.length;
      summary.files.copied += diff.copied.length;
      if (scanError !== row.scan_error) events.record(now, "dataset.scan_error", first.id, { path: row.path, error: scanError });
      if (scanError) summary.errors.push(`${row.path}: ${scanError}`);
      if (!content) return { generation };
      events.record(now, "files.changed", first.id, {
        path: row.path,
        generation,
        counts: {
          added: diff.added.length,
          removed: diff.removed.length,
          modified: diff.modified.length,
          renamed: diff.renamed.length,
          copied: diff.copied.length,
        },
        added: cap(diff.added.map((f) => f.path)),
        removed: cap(diff.removed.map((r) => r.path)),
        modified: cap(diff.modified.map((m) => m.file.path)),
        renamed: cap(diff.renamed.map((m) => [m.row.path, m.file.path])),
        copied: cap(diff.copied.map((c) => [c.from, c.file.path])),
      });
      const change: ContentChange = {
        datasetId: first.id,
        path: row.path,
        generation,
        changed: [
          ...diff.added.map((f) => f.path),
          ...diff.copied.map((c) => c.file.path),
          ...diff.modified.map((m) => m.file.path),
          ...diff.renamed.map((m) => m.file.path),
        ],
        removed: [...diff.removed.map((r) => r.path), ...diff.renamed.map((m) => m.row.path)],
      };
      return { generation, change };
    })
    .immediate();
}

/** Writes the whole manifest from the rows (streamed, checksums included) and records the generation it reflects. */
export function writeManifestFromRows(repo: SyncRepo, ds: { id: number; uid: string }, abs: FsPath, generation: number): void {
  const files = (function* () {
    for (const r of repo.files(ds.id)) yield { path: r.path, size: r.size, mtimeMs: r.mtime_ms, inode: r.inode, ...(r.sha256 ? { sha256: r.sha256 } : {}) };
  })();
  writeManifest(abs, ds.uid, generation, files);
  repo.setManifestGeneration(ds.id, generation);
}

function rewriteManifest(repo: SyncRepo, ds: SyncDatasetRow, abs: FsPath, generation: number, summary: SyncSummary): void {
  try {
    writeManifestFromRows(repo, ds, abs, generation);
  } catch (e) {
    summary.errors.push(`${ds.path}: cannot write the sidecar manifest: ${errText(e)}`);
  }
}

/** A whole walk found nothing to change: the manifest is written again only when it is lost or behind (a crash). */
function keepManifest(repo: SyncRepo, ds: SyncDatasetRow, abs: FsPath, summary: SyncSummary): void {
  if (ds.manifest_generation !== ds.generation || !hasManifest(abs)) rewriteManifest(repo, ds, abs, ds.generation, summary);
}

/** A renamed file as the log records it: with the checksum its row keeps while its size and mtime are unchanged. */
function keepChecksum({ row, file }: FileDiff["renamed"][number]): FileEntry {
  return row.sha256 && row.size === file.size && row.mtime_ms === file.mtimeMs ? { ...file, sha256: row.sha256 } : file;
}

/** After a commit: the changes appended to the manifest log (or the whole manifest, when it was behind or the log is long). */
function manifestAfter(repo: SyncRepo, before: SyncDatasetRow, abs: FsPath, generation: number, diff: FileDiff, summary: SyncSummary): void {
  if (before.manifest_generation !== before.generation || !hasManifest(abs)) return rewriteManifest(repo, before, abs, generation, summary);
  const changes: ManifestChange[] = [
    ...diff.removed.map((r) => ({ removed: r.path })),
    ...diff.renamed.map((m) => ({ removed: m.row.path })),
    ...[...diff.added, ...diff.copied.map((c) => c.file), ...diff.modified.map((m) => m.file), ...diff.renamed.map(keepChecksum)].map((file) => ({ file })),
  ];
  try {
    const compact = appendManifest(abs, generation, changes);
    repo.setManifestGeneration(before.id, generation);
    if (compact) rewriteManifest(repo, before, abs, generation, summary);
  } catch (e) {
    summary.errors.push(`${before.path}: cannot write the sidecar manifest: ${errText(e)}`);
  }
}
