import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { VolumeSource } from "./readers/reader.types.ts";
import { windowTo8 } from "./window.ts";
import { encodeGrid, encodeTile, writeThumbnail } from "./tile-encoder.ts";
import { checkVolumeLimits } from "./limits.ts";
import { DEFAULT_LIMITS, type PreviewLimits } from "../config.ts";

/** Tile edge in pixels; the chunk shapes of every scale are [T,T,1], [T,1,T] and [1,T,T]. */
export const TILE = 256;

/** How the pyramid is built: all three orientations with 2x2x2 levels, or XY only with every slice kept (a Deep Zoom stack). */
export interface PyramidOptions {
  window: [number, number];
  orientations: "xyz" | "xy";
  encoding: "jpeg" | "raw";
  quality: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Encodes in flight at once; libvips work runs on its own threads while the next tiles are cut. */
  parallel?: number;
  /** The caps checked before any slab is allocated (default DEFAULT_LIMITS). */
  limits?: PreviewLimits;
}

/** One scale of the Neuroglancer precomputed `info` file. */
export interface ScaleInfo {
  key: string;
  size: [number, number, number];
  resolution: [number, number, number];
  voxel_offset: [number, number, number];
  chunk_sizes: [number, number, number][];
  encoding: "jpeg" | "raw";
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

/** Bounded set of in-flight encodes; the first failure is rethrown to the builder. */
class EncodePool {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  /** Tiles written (a grid task adds its extra tiles itself). */
  tiles = 0;
  constructor(private readonly limit: number) {}

  async add(work: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const p: Promise<void> = work()
      .catch((e) => {
        this.failure ??= e;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    this.tiles++;
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}

/** One level's working state: the slab of up to TILE slices for XZ/YZ tiles and the half-made next slice. */
interface Level {
  index: number;
  w: number;
  h: number;
  d: number;
  dir: string;
  slab: Uint8Array | null;
  slabStart: number;
  slabCount: number;
  /** 2x2 sums of an even slice waiting for its odd partner (2x2x2 mean). */
  pending: Uint16Array | null;
}

/**
 * Writes a multiscale 8-bit pyramid in the Neuroglancer precomputed layout in ONE pass over z: each slice is
 * windowed, cut into XY tiles, kept in a slab of at most 256 slices for the XZ and YZ tiles, and averaged into
 * the next level on the fly, so memory is bounded by the slabs whatever the depth.
 */
export async function buildPyramid(source: VolumeSource, outDir: string, opts: PyramidOptions): Promise<PyramidResult> {
  // The header's claim is checked before the slabs (up to 256 slices of a level each) are allocated.
  checkVolumeLimits(source.file, source, opts.limits ?? DEFAULT_LIMITS, opts.orientations);
  const xyz = opts.orientations === "xyz" && source.depth > 1;
  const downZ = opts.orientations === "xyz";
  const dims = planLevels(source.width, source.height, source.depth, downZ && source.depth > 1);
  const res0 = resolutionNm(source.spacing, source.unit);
  const pool = new EncodePool(opts.parallel ?? 8);
  const chunkSizes: [number, number, number][] = xyz
    ? [
        [TILE, TILE, 1],
        [TILE, 1, TILE],
        [1, TILE, TILE],
      ]
    : [[TILE, TILE, 1]];
  const levels: Level[] = dims.map(([w, h, d], index) => {
    const dir = path.join(outDir, String(index));
    mkdirSync(dir, { recursive: true });
    return { index, w, h, d, dir, slab: xyz ? new Uint8Array(w * h * Math.min(TILE, d)) : null, slabStart: 0, slabCount: 0, pending: null };
  });
  // z is halved only while a level still has more than one slice: a thin volume's coarse levels keep the z step
  // of the last real halving, so size x resolution stays the volume's true depth.
  const zFactor = levels.map((_, i) => 2 ** levels.slice(1, i + 1).filter((_, j) => downZ && levels[j]!.d > 1).length);
  const scales: ScaleInfo[] = levels.map((l) => {
    const fz = zFactor[l.index]!;
    return {
      key: String(l.index),
      size: [l.w, l.h, l.d],
      resolution: [res0[0] * 2 ** l.index, res0[1] * 2 ** l.index, res0[2] * fz],
      voxel_offset: [0, 0, 0],
      chunk_sizes: chunkSizes,
      encoding: opts.encoding,
    };
  });
  const enc = { encoding: opts.encoding, quality: opts.quality };
  const thumbZ = Math.floor(source.depth / 2);

  const jpeg = opts.encoding === "jpeg";
  const span = (i: number, size: number) => `${i * TILE}-${Math.min((i + 1) * TILE, size)}`;

  const emitXY = async (l: Level, z: number, px: Uint8Array) => {
    // A slice of several tiles is one libvips call (much cheaper than one call per tile).
    if (jpeg && (l.w > TILE || l.h > TILE)) {
      const buf = Buffer.from(px.buffer, px.byteOffset, px.byteLength);
      pool.tiles += Math.ceil(l.w / TILE) * Math.ceil(l.h / TILE) - 1;
      await pool.add(() => encodeGrid(buf, l.w, l.h, TILE, l.dir, (col, row) => `${span(col, l.w)}_${span(row, l.h)}_${z}-${z + 1}`, opts.quality));
      return;
    }
    for (let y0 = 0; y0 < l.h; y0 += TILE) {
      const y1 = Math.min(y0 + TILE, l.h);
      for (let x0 = 0; x0 < l.w; x0 += TILE) {
        const x1 = Math.min(x0 + TILE, l.w);
        const tw = x1 - x0;
        const buf = Buffer.allocUnsafe(tw * (y1 - y0));
        for (let y = y0; y < y1; y++) buf.set(px.subarray(y * l.w + x0, y * l.w + x1), (y - y0) * tw);
        const file = path.join(l.dir, `${x0}-${x1}_${y0}-${y1}_${z}-${z + 1}`);
        await pool.add(() => encodeTile(buf, tw, y1 - y0, file, enc));
      }
    }
  };

  const flushSlab = async (l: Level) => {
    const slab = l.slab!;
    const zs = l.slabStart;
    const n = l.slabCount;
    const ze = zs + n;
    const plane = l.w * l.h;
    // XZ tiles: one per y row and x tile, z going down.
    for (let y = 0; y < l.h; y++) {
      for (let x0 = 0; x0 < l.w; x0 += TILE) {
        const x1 = Math.min(x0 + TILE, l.w);
        const tw = x1 - x0;
        const buf = Buffer.allocUnsafe(tw * n);
        for (let r = 0; r < n; r++) {
          const at = r * plane + y * l.w;
          buf.set(slab.subarray(at + x0, at + x1), r * tw);
        }
        await pool.add(() => encodeTile(buf, tw, n, path.join(l.dir, `${x0}-${x1}_${y}-${y + 1}_${zs}-${ze}`), enc));
      }
    }
    // YZ tiles: one per x column and y tile, y across and z going down.
    for (let x = 0; x < l.w; x++) {
      for (let y0 = 0; y0 < l.h; y0 += TILE) {
        const y1 = Math.min(y0 + TILE, l.h);
        const tw = y1 - y0;
        const buf = Buffer.allocUnsafe(tw * n);
        for (let r = 0; r < n; r++) {
          let src = r * plane + y0 * l.w + x;
          const row = r * tw;
          for (let i = 0; i < tw; i++, src += l.w) buf[row + i] = slab[src]!;
        }
        await pool.add(() => encodeTile(buf, tw, n, path.join(l.dir, `${x}-${x + 1}_${y0}-${y1}_${zs}-${ze}`), enc));
      }
    }
    l.slabStart = ze;
    l.slabCount = 0;
  };

  const processSlice = async (li: number, z: number, px: Uint8Array): Promise<void> => {
    const l = levels[li]!;
    await emitXY(l, z, px);
    if (l.slab) {
      l.slab.set(px, l.slabCount * l.w * l.h);
      l.slabCount++;
      if (l.slabCount === Math.min(TILE, l.d) || z === l.d - 1) await flushSlab(l);
    }
    const next = levels[li + 1];
    if (!next) return;
    const sums = sum2x2(px, l.w, l.h, next.w, next.h);
    if (!downZ || source.depth === 1) return processSlice(li + 1, z, mean(sums, l.w, l.h, next.w, next.h, 1));
    if (z % 2 === 0 && z < l.d - 1) {
      l.pending = sums;
      return;
    }
    let zc = 1;
    if (z % 2 === 1) {
      const p = l.pending!;
      for (let i = 0; i < sums.length; i++) sums[i] = sums[i]! + p[i]!;
      zc = 2;
      l.pending = null;
    }
    await processSlice(li + 1, z >> 1, mean(sums, l.w, l.h, next.w, next.h, zc));
  };

  const px0 = new Uint8Array(source.width * source.height);
  for (let z = 0; z < source.depth; z++) {
    opts.signal?.throwIfAborted();
    const data = await source.readSlice(z, opts.signal);
    if (data.length < px0.length) throw new Error(`${source.file}: slice ${z} has ${data.length} samples, expected ${px0.length}`);
    const px = windowTo8(data, opts.window, new Uint8Array(px0.length));
    if (z === thumbZ) await writeThumbnail(px, source.width, source.height, path.join(outDir, "thumb.jpg"));
    await processSlice(0, z, px);
    opts.onProgress?.((z + 1) / source.depth);
  }
  await pool.drain();
  const info = { "@type": "neuroglancer_multiscale_volume", type: "image", data_type: "uint8", num_channels: 1, scales };
  writeFileSync(path.join(outDir, "info"), JSON.stringify(info));
  return { scales, tiles: pool.tiles };
}

/** Sums of each 2x2 block (1x2, 2x1 or 1x1 at odd edges) of a w x h slice. */
function sum2x2(px: Uint8Array, w: number, h: number, w2: number, h2: number): Uint16Array {
  const out = new Uint16Array(w2 * h2);
  for (let y = 0; y < h; y++) {
    const row = (y >> 1) * w2;
    const src = y * w;
    for (let x = 0; x < w; x++) out[row + (x >> 1)]! += px[src + x]!;
  }
  return out;
}

/** Divides 2x2(x2) sums by how many voxels each really had, rounding to nearest. */
function mean(sums: Uint16Array, w: number, h: number, w2: number, h2: number, zc: number): Uint8Array {
  const out = new Uint8Array(w2 * h2);
  for (let y = 0; y < h2; y++) {
    const cy = 2 * y + 1 < h ? 2 : 1;
    for (let x = 0; x < w2; x++) {
      const cx = 2 * x + 1 < w ? 2 : 1;
      const i = y * w2 + x;
      out[i] = Math.round(sums[i]! / (cx * cy * zc));
    }
  }
  return out;
}
