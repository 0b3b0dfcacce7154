// Reconciling the files of one dataset folder with its rows, in one transaction.
import type { AppContext, ContentChange } from "../context.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { log } from "../log.ts";
import { contentHash, diffChangesContent, diffFiles } from "./file-diff.ts";
import { lstatOrNull, type FsPath } from "./fs.ts";
import { hasSidecarFile, writeManifest } from "./sidecar.ts";
import type { SyncFileRow, SyncRepo } from "./sync.repo.ts";
import type { SyncSummary } from "./summary.ts";
import { walkDataset, type FileEntry } from "./walk.ts";

/** Decides whether a file seen on disk has stopped changing (watcher runs); a full scan takes every file as is. */
export type StableCheck = (datasetPath: string, file: FileEntry) => boolean;

const LIST_CAP = 1000;
const cap = <T>(xs: T[]) => xs.slice(0, LIST_CAP);

/**
 * Walks one dataset folder and brings its file rows, totals, generation and scan error up to date.
 * Returns true when some file was left out because it was still being written (look again later).
 */
export function reconcileDatasetFiles(
  ctx: AppContext,
  repo: SyncRepo,
  datasetId: number,
  abs: FsPath,
  extraErrors: string[],
  summary: SyncSummary,
  isStable?: StableCheck,
): boolean {
  const first = repo.byId(datasetId);
  if (!first) return false;
  const errors = [...extraErrors];
  const unreadable: string[] = [];
  const walked = walkDataset(abs, errors, unreadable);
  // The folder vanished since it was listed: the next run marks it missing; its rows stay as they are.
  if (!lstatOrNull(abs)?.isDirectory()) return false;
  let scanError = errors.length ? errors.join("; ").slice(0, 2000) : null;
  const unstablePaths = new Set<string>();
  const stableFiles = isStable ? walked.filter((f) => isStable(first.path, f) || (unstablePaths.add(f.path), false)) : walked;
  const inside = (p: string) => unreadable.some((u) => u === "" || p.startsWith(`${u}/`));
  // What the dataset holds now: stable files as seen, plus, as last recorded, files still being written and files
  // below a folder that cannot be read at the moment (a permission glitch loses nothing).
  const current = (rows: SyncFileRow[]): FileEntry[] => {
    const disk = [...stableFiles];
    for (const r of rows)
      if (unstablePaths.has(r.path) || (unreadable.length > 0 && inside(r.path)))
        disk.push({ path: r.path, size: r.size, mtimeMs: r.mtime_ms, inode: r.inode });
    return disk;
  };

  let rows = repo.filesOf(datasetId);
  let disk = current(rows);
  let diff = diffFiles(disk, rows);
  summary.files.present += disk.length;
  if (scanError && scanError === first.scan_error) summary.errors.push(`${first.path}: ${scanError}`);
  // A deleted `.mata/` (or manifest) is written again whole, even when no file changed.
  const manifestLost = !hasSidecarFile(abs, "manifest.json");
  if (manifestLost && !diffChangesContent(diff)) {
    try {
      writeManifest(abs, first.uid, disk);
    } catch (e) {
      scanError = [scanError, `cannot write the sidecar manifest: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`].filter(Boolean).join("; ");
    }
  }
  if (!diffChangesContent(diff) && diff.relinked.length === 0 && scanError === first.scan_error) return unstablePaths.size > 0;

  if (diffChangesContent(diff)) {
    try {
      writeManifest(abs, first.uid, disk);
    } catch (e) {
      scanError = [scanError, `cannot write the sidecar manifest: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`].filter(Boolean).join("; ");
    }
  }
  const events = eventsRepo(ctx.db);
  const now = ctx.clock.now();
  let change: ContentChange | undefined;
  let applied = false;
  ctx.db
    .transaction(() => {
      // Another process (`mata scan` beside `mata serve`) may have committed since the first look: diff again under the lock.
      const row = repo.byId(datasetId);
      if (!row) return;
      rows = repo.filesOf(datasetId);
      disk = current(rows);
      diff = diffFiles(disk, rows);
      const content = diffChangesContent(diff);
      if (!content && diff.relinked.length === 0 && scanError === row.scan_error) return;
      applied = true;
      for (const r of diff.removed) repo.deleteFile(r.id);
      for (const { row: r } of diff.renamed) repo.setFileTempPath(r.id);
      for (const { row: r, file } of [...diff.renamed, ...diff.modified, ...diff.relinked])
        repo.updateFile(r.id, file.path, file.size, file.mtimeMs, file.inode);
      for (const f of diff.added) repo.insertFile(datasetId, f.path, f.size, f.mtimeMs, f.inode, now);
      for (const { file } of diff.copied) repo.insertFile(datasetId, file.path, file.size, file.mtimeMs, file.inode, now);
      let bytes = 0;
      for (const f of disk) bytes += f.size;
      const generation = repo.setContent(datasetId, disk.length, bytes, content ? contentHash(disk) : row.content_hash, content ? 1 : 0, scanError, now);
      if (content) {
        events.record(now, "files.changed", datasetId, {
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
        change = {
          datasetId,
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
      }
      if (scanError !== row.scan_error) {
        events.record(now, "dataset.scan_error", datasetId, { path: row.path, error: scanError });
        if (scanError) summary.errors.push(`${row.path}: ${scanError}`);
      }
    })
    .immediate();

  if (applied) {
    summary.files.added += diff.added.length;
    summary.files.removed += diff.removed.length;
    summary.files.modified += diff.modified.length;
    summary.files.renamed += diff.renamed.length;
    summary.files.copied += diff.copied.length;
  }
  if (change) {
    for (const listener of ctx.hooks.contentChanged) {
      try {
        listener(change);
      } catch (e) {
        log.error("contentChanged listener failed", { datasetId, error: String(e) });
      }
    }
  }
  return unstablePaths.size > 0;
}
