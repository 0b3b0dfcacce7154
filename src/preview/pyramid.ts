import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import type { VolumeSource } from "./readers/reader.types.ts";
import { windowTo8 } from "./window.ts";
import { writeThumbnail } from "./tile-encoder.ts";
import { checkVolumeLimits } from "./limits.ts";
import { DEFAULT_LIMITS, type PreviewLimits } from "../config.ts";
import { churned } from "../platform/gc.ts";
import { LayoutWriter, ORIENTATIONS, CHUNK_SHAPE, TILE, type Orientation, type ScaleInfo } from "./layout.ts";
import { brickCount, brickGrid, createSlab, removeSlab, writeSliceToSlab, type SlabGeometry } from "./bricks.ts";
import { BrickPool } from "./brick.pool.ts";
import type { Deliver } from "./brick-work.ts";

/** How the pyramid is built: all three orientations with 2x2x2 levels, or XY only with every slice kept (a Deep Zoom stack). */
export interface PyramidOptions {
  window: [number, number];
  orientations: "xyz" | "xy";
  encoding: "jpeg" | "raw";
  quality: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Threads that build bricks at once (default: one per core); 0 or 1 builds them in this thread. */
  threads?: number;
  /** The caps checked before anything is allocated (default DEFAULT_LIMITS). */
  limits?: PreviewLimits;
}

/**
 * Level-0 slabs read ahead of the bricks built from them: reading goes on while the threads build the last slab,
 * and the scratch space stays two slabs (2 x 256 slices, 8-bit) whatever the depth.
 */
const STAGED_AHEAD = 2;

/** What reading (and windowing) a source voxel costs, as a share of encoding one pixel of a tile. */
export const READ_COST = 1 / 16;

/** The scratch folder of a build into `outDir`: beside it, never inside what is published. */
export function scratchDirOf(outDir: string): string {
  return `${outDir}.bricks`;
}

/** What a finished build reports back. */
export interface PyramidResult {
  scales: ScaleInfo[];
  tiles: number;
}

const NM_PER_UNIT: Record<string, number> = { m: 1e9, cm: 1e7, mm: 1e6, um: 1e3, µm: 1e3, micron: 1e3, nm: 1, px: 1 };

/** Voxel size in nanometres for the `info` file; unknown units count as 1 so the proportions still hold. */
export function resolutionNm(spacing: [number, number, number], unit: string): [number, number, number] {
  const f = NM_PER_UNIT[unit.toLowerCase()] ?? 1;
  return [spacing[0] * f, spacing[1] * f, spacing[2] * f];
}

/** The dimensions of each level: halve (rounding up) until the largest side fits one tile. */
export function planLevels(w: number, h: number, d: number, downsampleZ: boolean): [number, number, number][] {
  const dims: [number, number, number][] = [[w, h, d]];
  for (;;) {
    const [cw, ch, cd] = dims[dims.length - 1]!;
    if (Math.max(cw, ch, downsampleZ ? cd : 0) <= TILE) return dims;
    dims.push([Math.ceil(cw / 2), Math.ceil(ch / 2), downsampleZ ? Math.ceil(cd / 2) : cd]);
  }
}

/**
 * Writes a multiscale 8-bit pyramid in the Neuroglancer precomputed layout. One pass over z reads and windows each
 * slice into its level-0 slab (bricks of 256 x 256 x up to 256 voxels in a scratch file); every brick is then built on
 * its own thread (its XY, XZ and YZ tiles, and its half of the next level's slab), and a level's slab is built once
 * the bricks below it are in. Memory is a slice and a brick per thread, whatever the slice size and depth.
 */
export async function buildPyramid(source: VolumeSource, outDir: string, opts: PyramidOptions): Promise<PyramidResult> {
  // The header's claim is checked before anything is allocated.
  checkVolumeLimits(source.file, source, opts.limits ?? DEFAULT_LIMITS, opts.orientations);
  const sections = opts.orientations === "xyz" && source.depth > 1;
  // A volume with sections is halved in z too; a stack of XY slices keeps every slice at every level.
  const halveZ = sections;
  const dims = planLevels(source.width, source.height, source.depth, halveZ);
  const res0 = resolutionNm(source.spacing, source.unit);
  const orientations: readonly Orientation[] = sections ? ORIENTATIONS : ["xy"];
  const chunkSizes = orientations.map((o) => CHUNK_SHAPE[o]);
  // z is halved only while a level still has more than one slice: a thin volume's coarse levels keep the z step
  // of the last real halving, so size x resolution stays the volume's true depth.
  const zFactor = dims.map((_, i) => 2 ** dims.slice(0, i).filter(([, , d]) => halveZ && d > 1).length);
  const scales: ScaleInfo[] = dims.map(([w, h, d], i) => ({
    key: String(i),
    size: [w, h, d],
    resolution: [res0[0] * 2 ** i, res0[1] * 2 ** i, res0[2] * zFactor[i]!],
    voxel_offset: [0, 0, 0],
    chunk_sizes: chunkSizes,
    encoding: opts.encoding,
  }));
  const scratch = scratchDirOf(outDir);
  const out = new LayoutWriter(outDir, scales, orientations);
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  const slabs = dims.map(([, , d]) => Math.ceil(d / TILE));
  const slab = (level: number, k: number): SlabGeometry => {
    const [w, h, d] = dims[level]!;
    return { file: path.join(scratch, `${level}-${k}`), w, h, z0: k * TILE, n: Math.min(TILE, d - k * TILE) };
  };
  // The next level's slab a slab halves into, and how many slabs of this level go into it.
  const parentOf = (k: number) => (halveZ ? k >> 1 : k);
  const partsLeft = dims.map((_, level) =>
    Array.from({ length: slabs[level]! }, (_, k) => (level === 0 ? 0 : halveZ ? [2 * k, 2 * k + 1].filter((c) => c < slabs[level - 1]!).length : 1)),
  );
  const bricksLeft = dims.map((_, level) => new Array<number>(slabs[level]!).fill(0));
  const threads = opts.threads ?? availableParallelism();
  const pool = new BrickPool(Math.min(threads, brickCount(dims)), {
    encoding: opts.encoding,
    quality: opts.quality,
  });
  // Progress follows the work: every pixel encoded, and every voxel read at READ_COST of one encoded.
  const slicePixels = source.width * source.height;
  const work = dims.reduce((n, [w, h, d]) => n + w * h * d, 0) * orientations.length + slicePixels * source.depth * READ_COST;
  let done = 0;
  const advance = (units: number) => {
    done += units;
    opts.onProgress?.(Math.min(0.99, done / work));
  };
  const deliver: Deliver = (o, level, origin, bytes, pixels) => {
    out.add(o, level, origin, bytes);
    churned(bytes.byteLength);
    advance(pixels);
  };

  const building = new Set<Promise<void>>();
  const created = new Set<string>();
  let failure: unknown = null;
  let staged = 0;
  let wake: (() => void) | null = null;
  const stop = (e: unknown) => {
    failure ??= e;
    pool.close();
    wake?.();
  };
  const onAbort = () => stop(opts.signal!.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  /** A slab is whole: its bricks go to the threads (and the next level's slab they halve into is made). */
  const ready = (level: number, k: number) => {
    const g = slab(level, k);
    const next = level + 1 < dims.length ? { slab: slab(level + 1, parentOf(k)), halveZ } : null;
    if (next && !created.has(next.slab.file)) {
      createSlab(next.slab);
      created.add(next.slab.file);
    }
    const [nx, ny] = brickGrid(g.w, g.h);
    bricksLeft[level]![k] = nx * ny;
    for (let by = 0; by < ny; by++)
      for (let bx = 0; bx < nx; bx++) {
        const p: Promise<void> = pool
          .run({ level, slab: g, bx, by, sections, next }, deliver)
          .then(() => brickDone(level, k), stop)
          .finally(() => building.delete(p));
        building.add(p);
      }
  };
  const brickDone = (level: number, k: number) => {
    if (failure || --bricksLeft[level]![k]! > 0) return;
    removeSlab(slab(level, k));
    if (level === 0) {
      staged--;
      wake?.();
    }
    if (level + 1 < dims.length && --partsLeft[level + 1]![parentOf(k)]! === 0) ready(level + 1, parentOf(k));
  };

  try {
    await stage();
    while (building.size > 0) await Promise.all(building);
    if (failure) throw failure;
    out.finish();
    opts.onProgress?.(1);
  } catch (e) {
    stop(e);
    await Promise.allSettled(building);
    out.abandon();
    throw failure ?? e;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    pool.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { scales, tiles: out.chunks };

  /** Reads and windows every slice into its level-0 slab, at most STAGED_AHEAD slabs ahead of the threads. */
  async function stage(): Promise<void> {
    const px = new Uint8Array(source.width * source.height);
    const plane = new Uint8Array(TILE * TILE);
    const thumbZ = Math.floor(source.depth / 2);
    let fd = -1;
    try {
      for (let k = 0; k < slabs[0]!; k++) {
        while (staged >= STAGED_AHEAD && !failure) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        if (failure) throw failure;
        const g = slab(0, k);
        createSlab(g);
        fd = openSync(g.file, "r+");
        staged++;
        for (let z = g.z0; z < g.z0 + g.n; z++) {
          opts.signal?.throwIfAborted();
          if (failure) throw failure;
          const data = await source.readSlice(z, opts.signal);
          if (data.length < px.length) throw new Error(`${source.file}: slice ${z} has ${data.length} samples, expected ${px.length}`);
          windowTo8(data, opts.window, px);
          churned(data.byteLength);
          if (z === thumbZ) await writeThumbnail(px, source.width, source.height, path.join(outDir, "thumb.jpg"));
          writeSliceToSlab(fd, g, z, px, plane);
          advance(slicePixels * READ_COST);
        }
        closeSync(fd);
        fd = -1;
        ready(0, k);
      }
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
}
