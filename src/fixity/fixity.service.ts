// Fixity: reads every file of a dataset in a low-priority child, records a first SHA-256 for content not yet hashed,
// and on verification compares content whose size and mtime are unchanged against it: a difference there is bit rot
// or tampering, recorded and reported until the file changes, or matches again (restored from a backup).
import type { AppContext } from "../context.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { log } from "../log.ts";
import { writeManifestFromRows } from "../sync/dataset-files.ts";
import { appendChecksums, type ManifestChecksum } from "../sync/manifest.ts";
import { fsPath, storedPath } from "../sync/names.ts";
import { syncRepo } from "../sync/sync.repo.ts";
import { hashInChild } from "./hash.process.ts";
import { fixityRepo, type MismatchRow } from "./fixity.repo.ts";

/** Files per hasher child: each batch's results are committed (and kept in the manifest) before the next starts. */
const BATCH = 256;

/** What one run did. */
export interface FixityRun {
  /** Checksums recorded for the first time. */
  hashed: number;
  /** Files whose content matched their checksum. */
  matched: number;
  /** Files whose content differs from their checksum while size and mtime do not (found in this run). */
  mismatches: MismatchRow[];
  /** Files not checked: gone, changed since the scan or unreadable (the scan will see to them). */
  skipped: { path: string; reason: string }[];
}

/**
 * Checks one dataset: hashes files without a checksum and, with `verify`, reads every other one and compares. A
 * finished verification is stamped on the dataset; an aborted run keeps what its finished batches found.
 */
export async function checkDataset(
  ctx: AppContext,
  datasetId: number,
  opts: { verify: boolean; signal: AbortSignal; progress?: (fraction: number) => void },
): Promise<FixityRun> {
  const repo = fixityRepo(ctx.db);
  const ds = repo.dataset(datasetId);
  const run: FixityRun = { hashed: 0, matched: 0, mismatches: [], skipped: [] };
  if (!ds || ds.state !== "present") return run;
  const spec = { shareRoot: ctx.config.root, datasetPath: `${storedPath(ctx.config.root)}/${ds.path}` };
  const total = Math.max(1, repo.toRead(datasetId, opts.verify));
  let done = 0;
  for (let after = ""; ;) {
    const rows = repo.page(datasetId, after, BATCH, opts.verify);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.path;
    const results = await hashInChild(
      spec,
      rows.map((r) => r.path),
      opts.signal,
    );
    const now = ctx.clock.now();
    const sums: ManifestChecksum[] = [];
    ctx.db.transaction(() => {
      rows.forEach((row, i) => {
        const r = results[i]!;
        if ("error" in r) return void run.skipped.push({ path: row.path, reason: r.error });
        // Changed since the scan recorded it: new content for the scan to see, not a fixity failure.
        if (r.size !== row.size || r.mtimeMs !== row.mtime_ms) return void run.skipped.push({ path: row.path, reason: "changed since the last scan" });
        if (row.sha256 === null) {
          if (repo.record(row, r.sha256, now)) {
            run.hashed++;
            sums.push({ path: row.path, size: row.size, mtimeMs: row.mtime_ms, sha256: r.sha256 });
          }
        } else if (row.sha256 === r.sha256) {
          repo.matched(row, now);
          run.matched++;
        } else {
          repo.mismatch(row, datasetId, r.sha256, now);
          run.mismatches.push({
            dataset_id: datasetId,
            dataset_path: ds.path,
            path: row.path,
            size: row.size,
            expected: row.sha256,
            actual: r.sha256,
            found_at: now,
          });
          eventsRepo(ctx.db).record(now, "fixity.mismatch", datasetId, { path: row.path, expected: row.sha256, actual: r.sha256 });
          log.warn("fixity: content changed while size and mtime did not", { dataset: ds.path, path: row.path });
        }
      });
    })();
    keepInManifest(ctx, datasetId, sums);
    done += rows.length;
    opts.progress?.(Math.min(1, done / total));
  }
  if (opts.verify) repo.setVerified(datasetId, ctx.clock.now());
  else if (repo.toRead(datasetId, false) === 0) repo.setBaseline(datasetId, ctx.clock.now());
  return run;
}

/** Appends new checksums to the dataset's manifest (so `mata rebuild` keeps them); a failure only means a later rewrite. */
function keepInManifest(ctx: AppContext, datasetId: number, sums: ManifestChecksum[]): void {
  // The generation now, not at the run's start: the scan may have moved the manifest on meanwhile.
  const ds = fixityRepo(ctx.db).dataset(datasetId);
  if (sums.length === 0 || !ds || ds.state !== "present") return;
  const abs = fsPath(ctx.config.root, ds.path);
  try {
    if (appendChecksums(abs, ds.generation, sums)) writeManifestFromRows(syncRepo(ctx.db), ds, abs, ds.generation);
  } catch (e) {
    log.warn("fixity: could not add checksums to the manifest", { dataset: ds.path, error: String(e) });
  }
}

/** A dataset's fixity as the API and its page show it. */
export interface FixityView {
  files: number;
  /** Files with a recorded checksum. */
  hashed: number;
  /** When every file was last read and compared (or first checksummed), if ever. */
  verifiedAt: number | null;
  mismatches: { path: string; size: number; expected: string; actual: string; foundAt: number }[];
}

export function fixityView(ctx: AppContext, datasetId: number): FixityView | null {
  const repo = fixityRepo(ctx.db);
  const counts = repo.counts(datasetId);
  if (!counts) return null;
  const mismatches = repo.mismatches(datasetId).map((m) => ({ path: m.path, size: m.size, expected: m.expected, actual: m.actual, foundAt: m.found_at }));
  return { files: counts.files, hashed: counts.hashed, verifiedAt: counts.verified_at, mismatches };
}

/** Every present dataset's mismatches, newest first (the admin page, `GET /api/v1/fixity`). */
export function allMismatches(
  ctx: AppContext,
  limit: number,
): { total: number; items: (FixityView["mismatches"][number] & { datasetId: number; datasetPath: string })[] } {
  const { total, items } = fixityRepo(ctx.db).allMismatches(limit);
  return {
    total,
    items: items.map((m) => ({
      datasetId: m.dataset_id,
      datasetPath: m.dataset_path,
      path: m.path,
      size: m.size,
      expected: m.expected,
      actual: m.actual,
      foundAt: m.found_at,
    })),
  };
}
