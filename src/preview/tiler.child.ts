import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { registerShareRoot } from "../platform/share-root.ts";
import { peakRss, readSpecLine } from "../platform/child-io.ts";
import { detectVolumes, displayWindow } from "./readers/index.ts";
import { buildPyramid, planLevels, scratchDirOf } from "./pyramid.ts";
import { coarseLevel, coarseShare, subsampled } from "./coarse.ts";
import { collectGarbageEvery, configureImageThreads } from "./tile-encoder.ts";
import { buildMeshPreview, type MeshPreviewInfo } from "../mesh/mesh.build.ts";
import { checkVolumeLimits } from "./limits.ts";
import { DEFAULT_LIMITS, type PreviewLimits } from "../config.ts";

/** The environment marker that makes the `mata` executable (or `bun src/main.ts`) act as a tiler child. */
export const TILER_CHILD_ENV = "MATA_TILER_CHILD";

/** The GLB of a mesh preview, inside its preview folder. */
export const MESH_FILE = "mesh.glb";
/** The list thumbnail of a mesh preview (mesh.thumbnail.ts), beside its GLB; a mesh build with one records levels = 1. */
export const MESH_THUMB = "thumb.png";

/** What the parent asks one child to build: a single volume of a dataset, into tmpDir, renamed to outDir. */
export interface BuildSpec {
  /** The share root (config `root`): every file of the volume is opened beneath it, refusing symlinks. */
  shareRoot: string;
  datasetPath: string;
  /** The volume's files, relative to the dataset folder. */
  files: string[];
  /** The file naming the volume (VolumeSource.file). */
  file: string;
  tmpDir: string;
  outDir: string;
  /** A surface mesh becomes a web-ready GLB; anything else a tile pyramid. */
  kind?: "volume" | "mesh";
  orientations: "xyz" | "xy";
  encoding: "jpeg" | "raw";
  quality: number;
  /** The configured caps (config `max_voxels` ...); checked again here, before the build allocates. */
  limits?: PreviewLimits;
  /** The size of the level the coarse pass builds (default COARSE_VOXELS; tests set it low). */
  coarseVoxels?: number;
}

/** Where a build's coarse levels are published while its full build runs: beside the full build's folder. */
export const coarseDirOf = (outDir: string): string => `${outDir}.coarse`;

/** Everything a build into `tmpDir` may leave behind: its folders and their brick scratch, coarse pass included. */
export const buildLeftovers = (tmpDir: string): string[] => [tmpDir, coarseDirOf(tmpDir)].flatMap((dir) => [dir, scratchDirOf(dir)]);

/** What the child reports, one JSON object per line on stdout. */
export type ChildMessage =
  | { type: "progress"; fraction: number }
  | { type: "coarse"; window: [number, number]; levels: number }
  | { type: "done"; window: [number, number]; windowFrom: string; levels: number; tiles: number; maxRss?: number }
  | { type: "error"; message: string; maxRss?: number };

/** The metadata written beside `info`, so a reused build (a copied dataset) knows its window and levels. */
export interface BuildMeta {
  window: [number, number];
  windowFrom: string;
  levels: number;
  tiles: number;
  file: string;
  builtAt: number;
  /** For a mesh preview: triangles before and after simplification, bounds, GLB size. */
  mesh?: MeshPreviewInfo;
}

function send(m: ChildMessage): void {
  process.stdout.write(JSON.stringify(m) + "\n");
}

/** Builds one preview as a separate process, so a cancel can SIGKILL libvips mid-operation; returns the exit code. */
export async function runTilerChild(): Promise<number> {
  // Only the parent stops a build (SIGKILL, then it clears the temp dir and re-queues the job on a shutdown): a Ctrl-C
  // or a service stop signalling the whole group would otherwise end it first and the parent would see a failed build.
  // Without a parent the build still ends: its stdin closes (readSpec).
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => {});
  let spec: BuildSpec | null = null;
  try {
    spec = await readSpecLine<BuildSpec>("build spec");
    registerShareRoot(spec.shareRoot);
    configureImageThreads(1);
    collectGarbageEvery(500);
    const meta = spec.kind === "mesh" ? await buildMesh(spec) : await buildVolume(spec);
    writeFileSync(path.join(spec.tmpDir, "mata.json"), JSON.stringify(meta));
    mkdirSync(path.dirname(spec.outDir), { recursive: true });
    // Equal content built by someone else meanwhile: theirs stays, ours goes.
    if (existsSync(spec.outDir)) rmSync(spec.tmpDir, { recursive: true, force: true });
    else renameSync(spec.tmpDir, spec.outDir);
    send({ type: "done", window: meta.window, windowFrom: meta.windowFrom, levels: meta.levels, tiles: meta.tiles, maxRss: peakRss() });
    return 0;
  } catch (e) {
    if (spec) for (const dir of buildLeftovers(spec.tmpDir)) rmSync(dir, { recursive: true, force: true });
    send({ type: "error", message: spec ? failureMessage(spec, e) : String((e as Error)?.message ?? e), maxRss: peakRss() });
    return 1;
  }
}

const KNOWN_FAILURES = new Set(["VolumeReadError", "MeshReadError", "PreviewLimitError"]);

/**
 * What the dataset page shows for a failed build: a reader's own message names the file (or the data file a header
 * named) and says what is wrong; anything else is a fault of ours or of a library, said so and tied to the file.
 */
export function failureMessage(spec: Pick<BuildSpec, "file" | "files">, e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const named = [spec.file, ...spec.files].some((f) => err.message.startsWith(`${f}: `));
  if (KNOWN_FAILURES.has(err.name)) return named ? err.message : `${spec.file}: ${err.message}`;
  return `${spec.file}: unexpected error while building the preview (${err.name}: ${err.message || "no message"})`;
}

/** Reports progress at most every half percent, so the parent's pipe stays quiet. */
function progressSender(): (fraction: number) => void {
  let last = 0;
  return (fraction) => {
    if (fraction - last >= 0.005 || fraction === 1) {
      last = fraction;
      send({ type: "progress", fraction });
    }
  };
}

function freshDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

async function buildVolume(spec: BuildSpec): Promise<BuildMeta> {
  const sources = await detectVolumes(spec.datasetPath, spec.files);
  const source = sources.find((s) => s.file === spec.file);
  for (const s of sources) if (s !== source) await s.close();
  if (!source) throw new Error(`${spec.file}: no volume or image found in it any more`);
  try {
    // Before the window is sampled or anything allocated: the header's claim against the caps.
    checkVolumeLimits(source.file, source, spec.limits ?? DEFAULT_LIMITS, spec.orientations);
    const { window, from } = await displayWindow(source);
    const progress = progressSender();
    const pyramid = { window, orientations: spec.orientations, encoding: spec.encoding, quality: spec.quality, limits: spec.limits };
    // Coarse first: a large volume's coarse levels, from every 2^c-th slice, are published before the full pass starts.
    const dims = planLevels(source.width, source.height, source.depth, true);
    const c = spec.orientations === "xyz" && source.depth > 1 ? coarseLevel(dims, spec.coarseVoxels) : 0;
    const coarseOut = coarseDirOf(spec.outDir);
    const share = coarseShare(dims, c);
    if (c > 0 && !existsSync(coarseOut) && !existsSync(spec.outDir)) {
      const coarseTmp = coarseDirOf(spec.tmpDir);
      freshDir(coarseTmp);
      const coarse = await buildPyramid(subsampled(source, c), coarseTmp, { ...pyramid, onProgress: (f) => progress(f * share) });
      const meta: BuildMeta = { window, windowFrom: from, levels: coarse.scales.length, tiles: coarse.tiles, file: spec.file, builtAt: Date.now() };
      writeFileSync(path.join(coarseTmp, "mata.json"), JSON.stringify(meta));
      renameSync(coarseTmp, coarseOut);
      send({ type: "coarse", window, levels: meta.levels });
    }
    freshDir(spec.tmpDir);
    const result = await buildPyramid(source, spec.tmpDir, { ...pyramid, onProgress: (f) => progress(share + f * (1 - share)) });
    return { window, windowFrom: from, levels: result.scales.length, tiles: result.tiles, file: spec.file, builtAt: Date.now() };
  } finally {
    await source.close();
  }
}

async function buildMesh(spec: BuildSpec): Promise<BuildMeta> {
  freshDir(spec.tmpDir);
  const mesh = await buildMeshPreview(path.join(spec.datasetPath, spec.file), path.join(spec.tmpDir, MESH_FILE), {
    progress: progressSender(),
    name: spec.file,
    limits: spec.limits,
    thumbnail: path.join(spec.tmpDir, MESH_THUMB),
  });
  return { window: [0, 0], windowFrom: "mesh", levels: 1, tiles: 0, file: spec.file, builtAt: Date.now(), mesh };
}
