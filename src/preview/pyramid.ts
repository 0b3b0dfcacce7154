import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import type { VolumeSource } from "./readers/reader.types.ts";
import { windowTo8 } from "./window.ts";
import { encodeChunk, writeThumbnail } from "./tile-encoder.ts";
import { checkVolumeLimits } from "./limits.ts";
import { DEFAULT_LIMITS, type PreviewLimits } from "../config.ts";
import { churned } from "../platform/gc.ts";
import { CHUNK_SHAPE, LayoutWriter, ORIENTATIONS, TILE, type Orientation, type ScaleInfo } from "./layout.ts";

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
  /** Bytes a level's slab may hold in memory (default SLAB_BUDGET); a larger one is kept in a file beside `outDir`. */
  slabBudget?: number;
}

/**
 * The largest slab (up to 256 slices of a level, for its XZ and YZ tiles) held in memory. A 4096^2 level's slab is
 * 4 GiB, more than one typed array can be; larger ones go to a file and are read back a band of rows at a time.
 */
export const SLAB_BUDGET = 256 * 2 ** 20;

/**
 * The slices of a level waiting for their XZ and YZ tiles: in memory, or appended to a scratch file when that would
 * exceed the budget, so a build's memory stays bounded whatever the slice size. `band` hands back rows [y0, y1) of
 * every slice held, as [slice][row][x].
 */
class Slab {
  private mem: Uint8Array | null = null;
  private fd: number | null = null;
  private bandBuf: Uint8Array | null = null;
  count = 0;

  constructor(
    private readonly w: number,
    private readonly h: number,
    private readonly capacity: number,
    budget: number,
    private readonly file: string,
  ) {
    if (w * h * capacity <= budget) this.mem = new Uint8Array(w * h * capacity);
    else this.fd = openSync(file, "w+", 0o600);
  }

  append(px: Uint8Array): void {
    const plane = this.w * this.h;
    if (this.mem) this.mem.set(px, this.count * plane);
    else {
      for (let at = 0; at < plane;) at += writeSync(this.fd!, px, at, plane - at, this.count * plane + at);
    }
    this.count++;
  }

  /** Rows [y0, y1) of the slices held: the buffer, the size of one slice in it and the row it starts at. */
  band(y0: number, y1: number): { data: Uint8Array; plane: number; firstRow: number } {
    if (this.mem) return { data: this.mem, plane: this.w * this.h, firstRow: 0 };
    const plane = this.w * (y1 - y0);
    const need = plane * this.count;
    if (!this.bandBuf || this.bandBuf.length < need) this.bandBuf = new Uint8Array(this.w * TILE * this.capacity);
    for (let r = 0; r < this.count; r++) {
      const from = r * this.w * this.h + y0 * this.w;
      for (let got = 0; got < plane;) {
        const n = readSync(this.fd!, this.bandBuf, r * plane + got, plane - got, from + got);
        if (n === 0) throw new Error(`the slab file ${this.file} is shorter than written`);
        got += n;
      }
    }
    return { data: this.bandBuf, plane, firstRow: y0 };
  }

  /** The rows one band call covers: all of them in memory, one tile's height from a file. */
  get bandRows(): number {
    return this.mem ? this.h : TILE;
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
      rmSync(this.file, { force: true });
    }
    this.mem = null;
    this.bandBuf = null;
  }
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
  slab: Slab | null;
  slabStart: number;
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
  const orientations: readonly Orientation[] = xyz ? ORIENTATIONS : ["xy"];
  const chunkSizes = orientations.map((o) => CHUNK_SHAPE[o]);
  const levels: Level[] = dims.map(([w, h, d], index) => {
    // The scratch file sits beside the build's folder, never inside what is published.
    const slab = xyz ? new Slab(w, h, Math.min(TILE, d), opts.slabBudget ?? SLAB_BUDGET, `${outDir}.slab-${index}`) : null;
    return { index, w, h, d, slab, slabStart: 0, pending: null };
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
  const out = new LayoutWriter(outDir, scales, orientations);
  const toEncode = levels.reduce((n, l) => n + l.w * l.h * l.d, 0) * orientations.length;
  let encoded = 0;
  // Encoded on libvips threads while the next tiles are cut; the shard writes happen back on this thread.
  // Tile buffers are garbage once written; counting them keeps a flush of thousands of raw tiles (no await that lets
  // the periodic collection run) from piling up a gigabyte of them.
  const emit = (o: Orientation, l: Level, origin: [number, number, number], px: Buffer, w: number, h: number) =>
    pool.add(async () => {
      const bytes = await encodeChunk(px, w, h, enc);
      out.add(o, l.index, origin, bytes);
      churned(px === bytes ? px.byteLength : px.byteLength + bytes.byteLength);
      // Progress follows the pixels encoded, so the XZ and YZ tiles of a slab count when they are made, not never.
      encoded += w * h;
      opts.onProgress?.(Math.min(0.99, encoded / toEncode));
    });

  const emitXY = async (l: Level, z: number, px: Uint8Array) => {
    for (let y0 = 0; y0 < l.h; y0 += TILE) {
      const y1 = Math.min(y0 + TILE, l.h);
      for (let x0 = 0; x0 < l.w; x0 += TILE) {
        const x1 = Math.min(x0 + TILE, l.w);
        const tw = x1 - x0;
        const buf = Buffer.allocUnsafe(tw * (y1 - y0));
        for (let y = y0; y < y1; y++) buf.set(px.subarray(y * l.w + x0, y * l.w + x1), (y - y0) * tw);
        await emit("xy", l, [x0, y0, z], buf, tw, y1 - y0);
      }
    }
  };

  const flushSlab = async (l: Level) => {
    const slab = l.slab!;
    const zs = l.slabStart;
    const n = slab.count;
    for (let b0 = 0; b0 < l.h; b0 += slab.bandRows) {
      const b1 = Math.min(b0 + slab.bandRows, l.h);
      const { data, plane, firstRow } = slab.band(b0, b1);
      const at = (r: number, y: number) => r * plane + (y - firstRow) * l.w;
      // XZ tiles: one per y row and x tile, z going down.
      for (let y = b0; y < b1; y++) {
        for (let x0 = 0; x0 < l.w; x0 += TILE) {
          const x1 = Math.min(x0 + TILE, l.w);
          const tw = x1 - x0;
          const buf = Buffer.allocUnsafe(tw * n);
          for (let r = 0; r < n; r++) buf.set(data.subarray(at(r, y) + x0, at(r, y) + x1), r * tw);
          await emit("xz", l, [x0, y, zs], buf, tw, n);
        }
      }
      // YZ tiles: one per x column and y tile, y across and z going down.
      for (let x = 0; x < l.w; x++) {
        for (let y0 = b0; y0 < b1; y0 += TILE) {
          const y1 = Math.min(y0 + TILE, b1);
          const tw = y1 - y0;
          const buf = Buffer.allocUnsafe(tw * n);
          for (let r = 0; r < n; r++) {
            let src = at(r, y0) + x;
            const row = r * tw;
            for (let i = 0; i < tw; i++, src += l.w) buf[row + i] = data[src]!;
          }
          await emit("yz", l, [x, y0, zs], buf, tw, n);
        }
      }
    }
    l.slabStart = zs + n;
    slab.count = 0;
  };

  const processSlice = async (li: number, z: number, px: Uint8Array): Promise<void> => {
    const l = levels[li]!;
    await emitXY(l, z, px);
    if (l.slab) {
      l.slab.append(px);
      if (l.slab.count === Math.min(TILE, l.d) || z === l.d - 1) await flushSlab(l);
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

  try {
    await pass();
    await pool.drain();
    out.finish();
    opts.onProgress?.(1);
  } catch (e) {
    await pool.drain().catch(() => {});
    out.abandon();
    throw e;
  } finally {
    for (const l of levels) l.slab?.close();
  }
  return { scales, tiles: out.chunks };

  async function pass(): Promise<void> {
    const px0 = new Uint8Array(source.width * source.height);
    for (let z = 0; z < source.depth; z++) {
      opts.signal?.throwIfAborted();
      const data = await source.readSlice(z, opts.signal);
      if (data.length < px0.length) throw new Error(`${source.file}: slice ${z} has ${data.length} samples, expected ${px0.length}`);
      const px = windowTo8(data, opts.window, new Uint8Array(px0.length));
      churned(data.byteLength + px.byteLength);
      if (z === thumbZ) await writeThumbnail(px, source.width, source.height, path.join(outDir, "thumb.jpg"));
      await processSlice(0, z, px);
    }
  }
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
