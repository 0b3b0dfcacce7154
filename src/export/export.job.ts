// The OME-Zarr export job: every volume of a dataset (or the one asked for) written as `derived/<volume>.ome.zarr`,
// each by a child process; the result is tracked by the sync engine like any other files of the dataset.
import path from "node:path";
import { recordAudit } from "../audit/audit.service.ts";
import type { AppContext } from "../context.ts";
import { conflict, notFound } from "../errors.ts";
import type { JobKind } from "../jobs/job.types.ts";
import { isVolumeInput, scanVolumes } from "../preview/readers/index.ts";
import { storedPath } from "../sync/names.ts";
import { DERIVED_DIR } from "./export.child.ts";

export const EXPORT_JOB = "export.ome-zarr";
/** Below rule commands (20), above previews (10): someone asked for it and waits. */
const EXPORT_PRIORITY = 15;
export { TEMP_PREFIX } from "./export.child.ts";

/** What an export job carries: who asked (for the audit log) and, optionally, the one volume to write. */
export interface ExportPayload {
  actor: string;
  file?: string;
}

/** A volume's export folder name: its file's stem, or its folder's name for a stack of slices, made safe for any share. */
export function exportName(source: { file: string; files: string[] }): string {
  const base = path.posix.basename(source.file);
  let stem = base.replace(/\.(nii\.gz|ome\.tiff?|tar\.gz)$/i, "").replace(/\.[^.]+$/, "");
  if (source.files.length > 1) {
    const dir = path.posix.dirname(source.file);
    stem = dir !== "." ? path.posix.basename(dir) : stem.replace(/[_\-. ]*\d+$/, "") || stem;
  }
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "");
  return `${safe || "volume"}.ome.zarr`;
}

/** Distinct names for the volumes of one dataset (a second `scan` becomes `scan-2.ome.zarr`). */
export function exportNames(sources: { file: string; files: string[] }[]): string[] {
  const seen = new Set<string>();
  return sources.map((s) => {
    const name = exportName(s);
    let unique = name;
    for (let n = 2; seen.has(unique); n++) unique = name.replace(/\.ome\.zarr$/, `-${n}.ome.zarr`);
    seen.add(unique);
    return unique;
  });
}

/** Queues an export of a dataset's volumes for `actor` (a queued one for the same dataset is replaced); returns the job id. */
export function queueExport(ctx: AppContext, datasetId: number, payload: ExportPayload): number {
  const ds = ctx.services.preview.repo.dataset(datasetId);
  if (!ds) throw notFound(`No dataset ${datasetId}`);
  if (ds.state !== "present") throw conflict(`Dataset ${datasetId} is missing from the share; there is nothing to export`);
  return ctx.services.jobs.queue.enqueue(EXPORT_JOB, { datasetId, generation: ds.generation, payload, dedupeKey: `${EXPORT_JOB}:${datasetId}` });
}

/**
 * The export job kind. Its inputs are the files the readers read (never an export's own chunks), so a change to the
 * volume stops a running export (it is queued again for the new content), while its own output does not.
 */
export function exportJob(opts: { slabBudget?: number } = {}): JobKind {
  return {
    name: EXPORT_JOB,
    priority: EXPORT_PRIORITY,
    inputs: (file) => isVolumeInput(file),
    async handler(job, run) {
      const { ctx, signal } = run;
      const p = job.payload as Partial<ExportPayload>;
      if (job.datasetId === null) throw new Error("an export needs a dataset");
      const ds = ctx.services.preview.repo.dataset(job.datasetId);
      if (!ds || ds.state !== "present") return;
      const abs = `${storedPath(ctx.config.root)}/${ds.path}`;
      const files = ctx.services.preview.repo
        .files(ds.id)
        .map((f) => f.path)
        .filter(isVolumeInput);
      const { sources, failures } = await scanVolumes(abs, files);
      await Promise.all(sources.map((s) => s.close()));
      signal.throwIfAborted();
      const volumes = sources.filter((s) => s.kind === "volume" && (p.file === undefined || s.file === p.file));
      if (volumes.length === 0) {
        const why = failures.length > 0 ? `: ${failures.map((f) => f.message).join("; ")}` : "";
        throw new Error(p.file ? `${p.file} is not a readable volume of ${ds.path}${why}` : `${ds.path} holds no volume to export${why}`);
      }
      const names = exportNames(volumes);
      for (const [i, v] of volumes.entries()) {
        // Written as the dataset folder's owner: in this process when it may, else by the privileged helper (a
        // separated server may not write into dataset folders at all).
        const done = await ctx.services.privileged.runExport(
          {
            dataset: { path: ds.path, uid: ds.uid },
            file: v.file,
            files: v.files,
            name: names[i]!,
            job: job.id,
            ...(opts.slabBudget !== undefined ? { slabBudget: opts.slabBudget } : {}),
          },
          signal,
          (f) => run.progress((i + f) / volumes.length),
        );
        exportPeak = Math.max(exportPeak, done.maxRss);
        recordAudit(ctx, {
          action: "export.ome-zarr",
          actor: p.actor ?? "mata",
          datasetId: ds.id,
          target: `${DERIVED_DIR}/${names[i]}`,
          detail: { source: v.file, levels: done.levels, shape: done.shape, dtype: done.dtype, bytes: done.bytes },
        });
      }
    },
  };
}

let exportPeak = 0;

/** The largest peak memory (bytes) an export child reported since the last call, which starts the count again: tests bound it. */
export function takeExportPeakRss(): number {
  const p = exportPeak;
  exportPeak = 0;
  return p;
}
