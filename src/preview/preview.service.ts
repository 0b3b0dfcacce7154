import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../context.ts";
import type { FileRule, PreviewLimits } from "../config.ts";
import { RunAgain, type JobHandler, type JobKind } from "../jobs/job.types.ts";
import { estimateEta } from "../jobs/jobs.service.ts";
import { jobsRepo } from "../jobs/jobs.repo.ts";
import { isVolumeInput, scanVolumes, VolumeReadError } from "./readers/index.ts";
import { log } from "../log.ts";
import type { PreviewPlan, PreviewRow } from "./preview.repo.ts";
import { coarseDirOf, MESH_FILE, MESH_THUMB, type BuildMeta } from "./tiler.child.ts";
import { meshFormat } from "../mesh/mesh.reader.ts";
import { globMatcher } from "../jobs/rules.ts";
import { buildInChild } from "./tiler.process.ts";
import { checkVolumeLimits } from "./limits.ts";
import { estimateBuildMemory } from "./memory-budget.ts";
import { PreviewLimitError } from "../errors.ts";
import { openablePath, storedPath } from "../sync/names.ts";
import { isDiskFull } from "../platform/disk-full.ts";

/** Bumped when the tile layout changes, so every preview is built again in the new layout (2: sharded). */
export const PREVIEW_FORMAT = 2;
/** Bumped when a mesh preview's files change (2: the thumbnail), so only mesh previews are built again. */
export const MESH_PREVIEW_FORMAT = 2;
/** The job kind that builds a dataset's previews. */
export const PREVIEW_JOB = "preview";
/** What a mesh build is counted at against the memory budget (streamed, capped by `max_triangles`). */
const MESH_MEMORY = 512 * 2 ** 20;
/** Below rule commands (20): a dataset is analysed before its previews are built. */
const PREVIEW_PRIORITY = 10;

/** Where the tiles of all previews live, one folder per content key. */
export function previewsDir(ctx: AppContext): string {
  return path.join(ctx.config.state, "previews");
}

/** The folder of one content key's tiles. */
export function previewDir(ctx: AppContext, contentKey: string): string {
  return path.join(previewsDir(ctx), contentKey);
}

/** The folder a row's tiles are served from: its coarse levels while only those are published, else the full build. */
export function servedDir(ctx: AppContext, row: Pick<PreviewRow, "content_key" | "coarse">): string {
  const dir = previewDir(ctx, row.content_key);
  return row.coarse ? coarseDirOf(dir) : dir;
}

/** Temp builds go here; a crash leaves them behind and the next start removes them. */
export function previewTmpDir(ctx: AppContext): string {
  return path.join(previewsDir(ctx), ".tmp");
}

/**
 * Keys a preview by the dataset it belongs to (its identity `uid`, kept through renames, moves and `mata rebuild`,
 * never shared with a copy) and the volume's files (relative path, size, mtime), so a renamed or moved dataset
 * keeps its tiles. Names, sizes and mtimes alone are no key: every signed-in user can list them and give their own
 * files the same, and would then be served another dataset's tiles from their own dataset's URLs. An equal copy
 * in another dataset is built again instead.
 */
export function contentKey(datasetUid: string, file: string, files: { path: string; size: number; mtime_ms: number }[], mesh = false): string {
  const h = createHash("sha256");
  h.update(`mata-preview v${PREVIEW_FORMAT}${mesh ? ` mesh v${MESH_PREVIEW_FORMAT}` : ""}\n${datasetUid}\n${file}\n`);
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) h.update(`${f.path}\0${f.size}\0${Math.floor(f.mtime_ms)}\n`);
  return h.digest("hex").slice(0, 40);
}

/** The files a preview reads: every file the volume readers read, and meshes. */
const readByPreviews = (file: string) => isVolumeInput(file) || meshFormat(file) !== null;

/** Which of a dataset's files the preview rules cover: a rule's glob, or for a rule without one what the readers read. */
export function previewCovers(rules: FileRule[]): (file: string) => boolean {
  const matchers = rules.filter((r) => r.action === PREVIEW_JOB).map((r) => (r.glob === undefined ? readByPreviews : globMatcher(r.glob)));
  return (file) => matchers.some((m) => m(file));
}

function readMeta(dir: string): BuildMeta | null {
  try {
    const meta = JSON.parse(readFileSync(path.join(dir, "mata.json"), "utf8")) as BuildMeta;
    return existsSync(path.join(dir, meta.mesh ? MESH_FILE : "info")) && (!meta.mesh || existsSync(path.join(dir, MESH_THUMB))) ? meta : null;
  } catch {
    return null;
  }
}

/** How the preview job builds (tests: raw tiles, a low coarse-pass threshold). */
export interface PreviewJobOptions {
  encoding?: "jpeg" | "raw";
  quality?: number;
  /** The size of the level the coarse pass builds (default COARSE_VOXELS). */
  coarseVoxels?: number;
}

/**
 * The preview feature's job kind, registered at start-up with the others. Its start hook clears half-made builds
 * a crash left in the tmp dir (before any build runs) and queues previews of datasets changed while stopped.
 */
export function previewJob(opts: PreviewJobOptions = {}): JobKind {
  return {
    name: PREVIEW_JOB,
    priority: PREVIEW_PRIORITY,
    handler: previewHandler(opts),
    // A file the readers' list misses is an input still when a volume's header of that dataset names it.
    inputs: (file, datasetId, ctx) => readByPreviews(file) || ctx.services.preview.repo.isExtraInput(datasetId, file),
    start(ctx, queue, settleMs) {
      rmSync(previewTmpDir(ctx), { recursive: true, force: true });
      const behind = datasetsBehind(ctx);
      for (const d of behind) queue.enqueue(PREVIEW_JOB, { datasetId: d.id, generation: d.generation, delayMs: settleMs, dedupeKey: `${PREVIEW_JOB}:${d.id}` });
      if (behind.length > 0) log.info("previews queued for datasets changed while stopped", { datasets: behind.length });
      // Builds of an older layout: meshes without a list thumbnail, tile pyramids of one file per tile.
      const repo = ctx.services.preview.repo;
      const seen = new Set(behind.map((b) => b.id));
      const older = [
        ...repo.meshesWithoutThumbnail(),
        ...repo.readyTiles().filter((p) => !existsSync(path.join(previewDir(ctx, p.content_key), "xy", "info"))),
      ].filter((d) => !seen.has(d.id) && seen.add(d.id));
      for (const d of older) queue.enqueue(PREVIEW_JOB, { datasetId: d.id, generation: d.generation, delayMs: settleMs, dedupeKey: `${PREVIEW_JOB}:${d.id}` });
      if (older.length > 0) log.info("previews of an older layout queued to be built again", { datasets: older.length });
    },
  };
}

/**
 * The preview job: finds the dataset's volumes, reuses tiles of equal content, builds the rest one by one in
 * a child process, and fails with the reasons when any volume could not be read.
 */
function previewHandler(opts: PreviewJobOptions = {}): JobHandler {
  return async (job, run) => {
    const { ctx, signal } = run;
    const repo = ctx.services.preview.repo;
    if (job.datasetId === null) throw new Error("a preview job needs a dataset");
    const ds = repo.dataset(job.datasetId);
    if (!ds || ds.state !== "present") return;
    // In stored form (names that are not UTF-8 escaped): the readers and the child open it by its exact bytes.
    const abs = `${storedPath(ctx.config.root)}/${ds.path}`;
    const covers = previewCovers(ctx.config.rules);
    const all = repo.files(ds.id);
    const covered = all.filter((f) => covers(f.path));
    const meshRows = covered.filter((f) => meshFormat(f.path) !== null);
    const fileRows = covered.filter((f) => meshFormat(f.path) === null);
    // The content key covers every file a volume reads, companions the rules do not name included.
    const byPath = new Map(all.map((f) => [f.path, f]));
    const now = () => ctx.clock.now();

    // Good volumes still get previews when another file of the dataset is broken; the broken one is listed as failed.
    const { sources: found, failures: unreadable } =
      fileRows.length > 0
        ? await scanVolumes(
            abs,
            fileRows.map((f) => f.path),
          )
        : { sources: [], failures: [] };
    signal.throwIfAborted();
    // Recorded before the build, so a change to one of them while it runs stops it and queues the next.
    repo.setExtraInputs(ds.id, extraInputs(found, unreadable));
    const broken = unreadable.map((e, i) => ({ file: fileOf(e, i), message: e.message }));
    // A header claiming more than the caps allow fails its own preview here, before any child allocates for it.
    const sources: typeof found = [];
    for (const s of found) {
      const over = overLimits(s, ctx.config.limits);
      if (over) {
        broken.push({ file: s.file, message: over });
        await s.close();
      } else sources.push(s);
    }
    const ordered = [
      ...sources.map((s) => ({ s, file: s.file })),
      ...broken.map((b) => ({ s: null, file: b.file })),
      ...meshRows.map((m) => ({ s: m, file: m.path })),
    ].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const plans: (PreviewPlan & { error?: string })[] = ordered.map(({ s, file }, n) =>
      s !== null && "mtime_ms" in s
        ? {
            n,
            file,
            kind: "mesh",
            format: meshFormat(file)!,
            width: 0,
            height: 0,
            depth: 0,
            dtype: "",
            spacing: [1, 1, 1],
            unit: "",
            notes: [],
            contentKey: contentKey(ds.uid, file, [s], true),
          }
        : s === null
          ? {
              n,
              file,
              kind: "volume",
              format: "",
              width: 0,
              height: 0,
              depth: 0,
              dtype: "",
              spacing: [1, 1, 1],
              unit: "px",
              notes: [],
              contentKey: contentKey(ds.uid, file, []),
              error: broken.find((b) => b.file === file)!.message,
            }
          : {
              n,
              file: s.file,
              kind: s.kind,
              format: s.format,
              width: s.width,
              height: s.height,
              depth: s.depth,
              dtype: s.dtype,
              spacing: s.spacing,
              unit: s.unit,
              notes: s.notes ?? [],
              contentKey: contentKey(
                ds.uid,
                s.file,
                s.files.map((f) => byPath.get(f) ?? { path: f, size: -1, mtime_ms: 0 }),
              ),
            },
    );
    const filesOf = new Map(sources.map((s) => [s.file, s.files]));
    await Promise.all(sources.map((s) => s.close()));

    const rows = repo.replace(
      ds.id,
      ds.generation,
      plans.map((p) => {
        if (p.error !== undefined) return { ...p, state: "failed" as const, error: p.error };
        const meta = readMeta(previewDir(ctx, p.contentKey));
        // A coarse build published before a stop is shown again while the full build is made.
        const coarse = meta ? null : readMeta(coarseDirOf(previewDir(ctx, p.contentKey)));
        const shown = meta ?? coarse;
        return {
          ...p,
          state: shown ? ("ready" as const) : ("queued" as const),
          window: shown?.window ?? null,
          levels: shown?.levels ?? 0,
          coarse: coarse !== null,
        };
      }),
      now(),
    );
    const failures: string[] = broken.map((b) => b.message);
    const toBuild = rows.filter((r) => r.state !== "failed" && (r.state !== "ready" || r.coarse || !readMeta(previewDir(ctx, r.content_key))));
    for (const [i, row] of toBuild.entries()) {
      signal.throwIfAborted();
      // Several builds at once stay within the memory budget: this one waits (queued) until its estimate fits.
      const release = await ctx.services.preview.memory.acquire(row.kind === "mesh" ? MESH_MEMORY : estimateBuildMemory(row), signal);
      // A row showing its coarse levels stays viewable while the rest is built.
      if (!row.coarse) repo.setState(row.id, "running", null, now());
      const coarseDir = coarseDirOf(previewDir(ctx, row.content_key));
      try {
        const done = await buildInChild(
          {
            shareRoot: ctx.config.root,
            datasetPath: abs,
            files: filesOf.get(row.file) ?? [row.file],
            file: row.file,
            tmpDir: path.join(previewTmpDir(ctx), `${row.content_key}.${process.pid}.${job.id}`),
            outDir: previewDir(ctx, row.content_key),
            kind: row.kind === "mesh" ? "mesh" : "volume",
            orientations: "xyz",
            encoding: opts.encoding ?? "jpeg",
            quality: opts.quality ?? 85,
            limits: ctx.config.limits,
            coarseVoxels: opts.coarseVoxels,
          },
          signal,
          (fraction) => {
            repo.setProgress(row.id, fraction);
            run.progress((i + fraction) / toBuild.length);
          },
          (coarse) => repo.setCoarse(row.id, coarse.window, coarse.levels, now()),
        );
        repo.setReady(row.id, done.window, done.levels, now());
        rmSync(coarseDir, { recursive: true, force: true });
      } catch (e) {
        if (signal.aborted) {
          repo.resetRunning(ds.id);
          throw e;
        }
        const message = e instanceof Error ? e.message : String(e);
        // Out of disk space the build is not broken: it stays queued and the queue tries the job again later.
        repo.setState(row.id, isDiskFull(e) ? "queued" : "failed", message, now());
        rmSync(coarseDir, { recursive: true, force: true });
        failures.push(message);
      } finally {
        release();
      }
    }
    removeUnreferenced(ctx);
    // Renamed or moved while it was built (its folder is gone from the path it was read at, or the database already
    // knows the new one): build again once the scan has followed it, rather than failing for good.
    const current = repo.dataset(ds.id);
    if (failures.length > 0 && current?.state === "present" && (current.path !== ds.path || !existsSync(openablePath(abs))))
      throw new RunAgain(`the dataset moved away from ${ds.path} during the build`, 3000);
    if (failures.length > 0)
      throw new Error(failures.length === 1 ? failures[0]! : `${failures.length} of ${rows.length} previews failed: ${failures.join("; ")}`);
  };
}

/**
 * The files the found volumes read, and those a broken one was missing or could not read (named by its header,
 * perhaps not there yet), that the readers' own list of inputs misses: the preview's inputs in this dataset.
 */
function extraInputs(sources: { files: string[] }[], failures: Error[]): string[] {
  const named = new Set<string>();
  for (const s of sources) for (const f of s.files) named.add(f);
  for (const e of failures) if (e instanceof VolumeReadError && e.file) named.add(e.file);
  return [...named].filter((f) => !readByPreviews(f)).sort();
}

function overLimits(s: { file: string; width: number; height: number; depth: number }, limits: PreviewLimits): string | null {
  try {
    checkVolumeLimits(s.file, s, limits);
    return null;
  } catch (e) {
    if (e instanceof PreviewLimitError) return e.message;
    throw e;
  }
}

function fileOf(e: Error, i: number): string {
  if (e instanceof VolumeReadError && e.file) return e.file;
  return `unreadable file ${i + 1}`;
}

/**
 * Datasets changed while no server was running (e.g. by `mata scan`) whose files the preview rules cover: the
 * queue builds them at start, as if the change had just happened.
 */
export function datasetsBehind(ctx: AppContext): { id: number; generation: number }[] {
  const repo = ctx.services.preview.repo;
  if (!ctx.config.rules.some((r) => r.action === PREVIEW_JOB)) return [];
  const covers = previewCovers(ctx.config.rules);
  return repo.behind().filter((d) => repo.files(d.id).some((f) => covers(f.path)));
}

/** Deletes tile folders no dataset refers to any more (deleted datasets, changed content). */
export function removeUnreferenced(ctx: AppContext): void {
  const dir = previewsDir(ctx);
  if (!existsSync(dir)) return;
  const keep = ctx.services.preview.repo.referencedKeys();
  const coarse = ctx.services.preview.repo.coarseKeys();
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".") || keep.has(name) || (name.endsWith(".coarse") && coarse.has(name.slice(0, -".coarse".length)))) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) rmSync(full, { recursive: true, force: true });
  }
}

/** The dataset page's one-line preview status, as the dataset detail JSON reports it. */
export interface PreviewSummary {
  state: "none" | "queued" | "running" | "ready" | "failed";
  progress: number;
  etaSeconds?: number | null;
  error?: string;
}

/** Sums up a dataset's previews and its preview job for the dataset detail JSON and page. */
export function previewSummary(ctx: AppContext, datasetId: number): PreviewSummary {
  const now = ctx.clock.now();
  const rows = ctx.services.preview.repo.list(datasetId);
  const jobs = jobsRepo(ctx.db);
  const active = jobs.active(datasetId, PREVIEW_JOB);
  const running = active.find((j) => j.state === "running");
  if (running) return { state: "running", progress: running.progress, etaSeconds: estimateEta(running, now) };
  if (active.length > 0) return { state: "queued", progress: 0 };
  const failed = rows.find((r) => r.state === "failed");
  if (failed) return { state: "failed", progress: 0, error: `${failed.file}: ${failed.error ?? "failed"}` };
  const last = jobs.last(datasetId, PREVIEW_JOB);
  if (rows.length > 0 && rows.every((r) => r.state === "ready")) return { state: "ready", progress: 1 };
  if (last && (last.state === "failed" || last.state === "cancelled")) return { state: "failed", progress: 0, error: last.error ?? last.state };
  return { state: "none", progress: 0 };
}

/** One preview as the API lists it. */
export interface PreviewView {
  n: number;
  file: string;
  kind: PreviewRow["kind"];
  format: string;
  state: PreviewRow["state"];
  progress: number;
  error?: string;
  size: [number, number, number];
  dtype: string;
  spacing: [number, number, number];
  unit: string;
  window: [number, number] | null;
  levels: number;
  notes: string[];
  tiles?: string;
  thumbnail?: string;
  /** Changes with the preview's content; tile, thumbnail and mesh URLs carry it since they are cached for a year. */
  version: string;
  /** False while only the coarse levels are shown (the full build is still running). */
  complete: boolean;
  /** The GLB of a ready mesh preview. */
  mesh?: string;
}

/** Thumbnail URLs of the datasets that have a ready picture preview (or a mesh with its rendered thumbnail), for a page of a list. */
export function thumbnailUrls(ctx: AppContext, datasetIds: number[]): Map<number, string> {
  return new Map(
    ctx.services.preview.repo
      .firstPictures(datasetIds)
      .map((r) => [r.dataset_id, `/api/v1/datasets/${r.dataset_id}/previews/${r.n}/thumbnail?v=${previewVersion(r)}`]),
  );
}

/** The kind of each listed dataset's first preview (volume, image or mesh), whatever its state; absent when it has none. */
export function previewKinds(ctx: AppContext, datasetIds: number[]): Map<number, PreviewRow["kind"]> {
  return new Map(ctx.services.preview.repo.firstKinds(datasetIds).map((r) => [r.dataset_id, r.kind]));
}

/** The previews of a dataset for the detail JSON and the viewer, with their tile URLs when ready. */
export function listPreviews(ctx: AppContext, datasetId: number): PreviewView[] {
  return ctx.services.preview.repo.list(datasetId).map((r) => previewView(r));
}

/** What a preview's URLs carry, since they are cached for a year: its content, and whether only its coarse levels are shown. */
export function previewVersion(r: Pick<PreviewRow, "content_key" | "coarse">): string {
  return `${r.content_key.slice(0, 16)}${r.coarse ? "c" : ""}`;
}

/** Turns a row into the API view. */
export function previewView(r: PreviewRow): PreviewView {
  const base = `/api/v1/datasets/${r.dataset_id}/previews/${r.n}`;
  const v = previewVersion(r);
  return {
    n: r.n,
    file: r.file,
    kind: r.kind,
    format: r.format,
    state: r.state,
    progress: r.progress,
    ...(r.error ? { error: r.error } : {}),
    size: [r.width, r.height, r.depth],
    dtype: r.dtype,
    spacing: JSON.parse(r.spacing),
    unit: r.unit,
    window: r.window_min === null || r.window_max === null ? null : [r.window_min, r.window_max],
    levels: r.levels,
    notes: JSON.parse(r.notes),
    version: v,
    complete: r.coarse === 0,
    ...(r.state !== "ready"
      ? {}
      : r.kind === "mesh"
        ? {
            mesh: `${base}/${MESH_FILE}?v=${v}`,
            ...(r.levels > 0 ? { thumbnail: `${base}/thumbnail?v=${v}` } : {}),
          }
        : { tiles: `${base}/tiles`, thumbnail: `${base}/thumbnail?v=${v}` }),
  };
}
