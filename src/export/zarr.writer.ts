// Writing one volume as OME-Zarr 0.4 (Zarr v2): a multiscale group whose levels are 2x means of the one before,
// chunks of 64^3 voxels compressed with gzip (napari, Fiji's n5-zarr and Neuroglancer all read it). The volume
// arrives one z-slice at a time and each level keeps one slab of chunk depth, so memory does not grow with depth.
import { DTYPE_BYTES, type DType, type SliceData, type VolumeSource } from "../preview/readers/reader.types.ts";

/** The chunk edge along every axis (the z edge shrinks for slices so large that 64 of them exceed the slab budget). */
export const CHUNK = 64;
/** The pyramid stops at the first level whose larger side is at most this. */
export const SMALLEST_SIDE = 64;
/**
 * The default memory one level-0 slab may take (the levels above it add a third more): 64 slices of 2048^2 uint16 would
 * be 512 MiB and the child's peak over 1 GB, so such a volume gets chunks of 32 x 64 x 64 instead.
 */
export const SLAB_BUDGET = 256 * 1024 * 1024;

/** Zarr v2's little-endian type strings for the readers' voxel types. */
const ZARR_DTYPE: Record<DType, string> = {
  uint8: "|u1",
  int8: "|i1",
  uint16: "<u2",
  int16: "<i2",
  uint32: "<u4",
  int32: "<i4",
  float32: "<f4",
  float64: "<f8",
};

type ArrayCtor = { new (n: number): SliceData; new (buffer: ArrayBuffer): SliceData; BYTES_PER_ELEMENT: number };
const CTORS: Record<DType, ArrayCtor> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** OME-NGFF's names for the units the readers report; anything else is left out of the axes (it stays unitless). */
const NGFF_UNITS: Record<string, string> = {
  mm: "millimeter",
  millimeter: "millimeter",
  um: "micrometer",
  µm: "micrometer",
  μm: "micrometer",
  micron: "micrometer",
  micrometer: "micrometer",
  nm: "nanometer",
  nanometer: "nanometer",
  cm: "centimeter",
  centimeter: "centimeter",
  m: "meter",
  meter: "meter",
  inch: "inch",
  angstrom: "angstrom",
};

/** The NGFF unit name for a reader's unit, or undefined when it names none (pixels). */
export function ngffUnit(unit: string): string | undefined {
  return NGFF_UNITS[unit.trim().toLowerCase()] ?? NGFF_UNITS[unit.trim()];
}

/** One level of the pyramid: its size (z, y, x), chunk shape and voxel size. */
export interface Level {
  shape: [number, number, number];
  chunks: [number, number, number];
  /** Voxel size along z, y, x in the source's unit. */
  scale: [number, number, number];
}

/** The levels for a volume: each halves y and x (and z while it has more than one slice) until the larger side is at most 64. */
export function planLevels(
  dims: { width: number; height: number; depth: number },
  spacing: [number, number, number],
  bytesPerVoxel: number,
  slabBudget = SLAB_BUDGET,
): Level[] {
  // 64 slices per slab unless that exceeds the budget: then a power of two that fits (a chunk is never thinner than 1).
  const sliceBytes = dims.width * dims.height * bytesPerVoxel;
  let zChunk = CHUNK;
  while (zChunk > 1 && zChunk * sliceBytes > slabBudget) zChunk /= 2;
  const levels: Level[] = [];
  let [z, y, x] = [dims.depth, dims.height, dims.width];
  let scale: [number, number, number] = [spacing[2], spacing[1], spacing[0]];
  for (;;) {
    levels.push({ shape: [z, y, x], chunks: [Math.min(zChunk, z), Math.min(CHUNK, y), Math.min(CHUNK, x)], scale });
    if (Math.max(x, y) <= SMALLEST_SIDE) break;
    const fz = z > 1 ? 2 : 1;
    scale = [scale[0] * fz, scale[1] * 2, scale[2] * 2];
    [z, y, x] = [Math.ceil(z / fz), Math.ceil(y / 2), Math.ceil(x / 2)];
  }
  return levels;
}

/** The group's `.zattrs`: OME-NGFF 0.4 multiscales with z, y, x axes, their unit, and each level's scale. */
export function multiscalesAttrs(name: string, levels: Level[], unit: string, source: Pick<VolumeSource, "file" | "format">): Record<string, unknown> {
  const u = ngffUnit(unit);
  return {
    multiscales: [
      {
        version: "0.4",
        name,
        axes: ["z", "y", "x"].map((n) => ({ name: n, type: "space", ...(u ? { unit: u } : {}) })),
        datasets: levels.map((l, i) => ({ path: String(i), coordinateTransformations: [{ type: "scale", scale: l.scale }] })),
        type: "local_mean",
        metadata: {
          description: "each level is the mean of 2x2x2 voxels of the one before (2x2 in y, x once z is one slice)",
          source: source.file,
          format: source.format,
        },
      },
    ],
  };
}

/** A level's `.zarray`: Zarr v2, C order, gzip, fill value 0, "." between chunk indices (so chunks are `0.1.2`). */
export function zarray(level: Level, dtype: DType): Record<string, unknown> {
  return {
    zarr_format: 2,
    shape: level.shape,
    chunks: level.chunks,
    dtype: ZARR_DTYPE[dtype],
    compressor: { id: "gzip", level: 1 },
    fill_value: 0,
    order: "C",
    filters: null,
    dimension_separator: ".",
  };
}

/** Where the writer puts files (relative to the `.ome.zarr` folder) and how it compresses a chunk. */
export interface ZarrSink {
  mkdir(rel: string): Promise<void>;
  write(rel: string, data: Uint8Array): Promise<void>;
  /** Compresses one chunk's bytes (gzip); may run elsewhere (a worker), so the writer keeps several in flight. */
  compress(data: Uint8Array): Promise<Uint8Array>;
  /** A chunk buffer of this many bytes, any content, reused once compressed (fresh zeroed arrays per chunk cost more than the gzip). */
  buffer?(bytes: number): ArrayBuffer;
}

/**
 * A level being filled: its band of chunks one chunk deep (the slab, already cut: each slice's rows are copied
 * straight into the chunks they belong to), and the slice waiting for its pair to make the next level.
 */
interface LevelState {
  level: Level;
  /** The band's chunk buffers (bytes), by chunk row then column; null until the band's first slice. */
  band: Uint8Array[] | null;
  /** Slices in the band now, and the z of its first slice. */
  filled: number;
  z0: number;
  pending: SliceData | null;
  /**
   * The means made from this level for the next, in turn: one waits as the next level's pending slice while the next
   * is made, so three always suffice (fresh memory for every slice costs its page faults each time).
   */
  means: SliceData[];
  made: number;
}

/** Writes one volume's levels as it is fed slices in z order; `finish` writes what remains and the metadata. */
export class OmeZarrWriter {
  private readonly states: LevelState[];
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private wake: (() => void) | null = null;
  private failure: unknown = null;
  private readonly maxInFlightBytes: number;
  private readonly bpv: number;

  constructor(
    private readonly sink: ZarrSink,
    private readonly dtype: DType,
    readonly levels: Level[],
    opts: { maxInFlightBytes?: number } = {},
  ) {
    this.bpv = DTYPE_BYTES[dtype];
    this.states = levels.map((level) => ({ level, band: null, filled: 0, z0: 0, pending: null, means: [], made: 0 }));
    this.maxInFlightBytes = opts.maxInFlightBytes ?? inFlightBudget(levels[0]!, this.bpv);
  }

  /** Makes the level folders; call once before the first slice. */
  async start(): Promise<void> {
    await this.sink.write(".zgroup", json({ zarr_format: 2 }));
    for (let i = 0; i < this.levels.length; i++) {
      await this.sink.mkdir(String(i));
      await this.sink.write(`${i}/.zarray`, json(zarray(this.levels[i]!, this.dtype)));
    }
  }

  /** Takes the next level-0 slice (z in order). */
  async push(slice: SliceData): Promise<void> {
    await this.add(0, slice);
  }

  /** Writes the partial bands and the group's attributes, once every slice was pushed. */
  async finish(attrs: Record<string, unknown>): Promise<void> {
    for (let i = 0; i < this.states.length; i++) {
      const s = this.states[i]!;
      // An odd last slice pairs with itself, as the sizes' ceil() said.
      if (s.pending && i + 1 < this.states.length) {
        const p = s.pending;
        s.pending = null;
        await this.add(i + 1, this.mean(i, p, p));
      }
      if (s.filled > 0) await this.writeBand(i);
    }
    await this.drain();
    await this.sink.write(".zattrs", json(attrs));
  }

  /** Waits for every chunk write in flight; rethrows the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private async add(i: number, slice: SliceData): Promise<void> {
    const s = this.states[i]!;
    const [, h, w] = s.level.shape;
    s.band ??= this.newBand(s.level);
    scatter(slice, s.band, s.filled, w, h, s.level.chunks[1], s.level.chunks[2], this.bpv);
    s.filled++;
    if (i + 1 < this.states.length) {
      const zHalves = this.levels[i + 1]!.shape[0] < s.level.shape[0];
      if (!zHalves) await this.add(i + 1, this.mean(i, slice, slice));
      else if (s.pending === null) s.pending = slice;
      else {
        const a = s.pending;
        s.pending = null;
        await this.add(i + 1, this.mean(i, a, slice));
      }
    }
    if (s.filled === s.level.chunks[0]) await this.writeBand(i);
  }

  /** The next level's slice from two of level i, into the next of its three buffers. */
  private mean(i: number, a: SliceData, b: SliceData): SliceData {
    const s = this.states[i]!;
    const [, h, w] = s.level.shape;
    const k = s.made++ % 3;
    const out = downsample(a, b, w, h, this.dtype, s.means[k]);
    s.means[k] = out;
    return out;
  }

  /** Chunk buffers for a new band; edge chunks are padded with the fill value (a reused buffer holds older voxels). */
  private newBand(level: Level): Uint8Array[] {
    const [cz, cy, cx] = level.chunks;
    const [, h, w] = level.shape;
    const bytes = cz * cy * cx * this.bpv;
    const band: Uint8Array[] = [];
    for (let y0 = 0; y0 < h; y0 += cy) {
      for (let x0 = 0; x0 < w; x0 += cx) {
        const chunk = new Uint8Array(this.sink.buffer ? this.sink.buffer(bytes) : new ArrayBuffer(bytes));
        if (this.sink.buffer && (y0 + cy > h || x0 + cx > w)) chunk.fill(0);
        band.push(chunk);
      }
    }
    return band;
  }

  /** Hands the level's band to compression, chunk by chunk (a last, thinner band padded with the fill value). */
  private async writeBand(i: number): Promise<void> {
    const s = this.states[i]!;
    const band = s.band!;
    const [cz, cy, cx] = s.level.chunks;
    const zi = s.z0 / cz;
    const columns = Math.ceil(s.level.shape[2] / cx);
    s.band = null;
    for (let k = 0; k < band.length; k++) {
      const chunk = band[k]!;
      if (s.filled < cz && this.sink.buffer) chunk.fill(0, s.filled * cy * cx * this.bpv);
      await this.queue(`${i}/${zi}.${Math.floor(k / columns)}.${k % columns}`, chunk);
    }
    s.z0 += s.filled;
    s.filled = 0;
  }

  /**
   * Compresses and writes one chunk. At most `maxInFlightBytes` of chunks wait for compression or the disk, so memory
   * stays bounded, yet the workers always have a band's worth to do while the next slices are read and cut.
   */
  private async queue(rel: string, bytes: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlightBytes > 0 && this.inFlightBytes + bytes.byteLength > this.maxInFlightBytes) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.failure) throw this.failure;
    }
    const n = bytes.byteLength;
    this.inFlightBytes += n;
    const p: Promise<void> = this.sink
      .compress(bytes)
      .then((packed) => this.sink.write(rel, packed))
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.inFlight.delete(p);
        this.inFlightBytes -= n;
        const wake = this.wake;
        this.wake = null;
        wake?.();
      });
    this.inFlight.add(p);
  }
}

/**
 * Chunks waiting for compression or the disk: a quarter of a level-0 band (at least 8 chunks), so gzip overlaps the
 * reading. The chunk buffers alive at once are then at most a band and a quarter of each level (half a band in flight
 * took a 2048^2 x 400 uint16 export of incompressible noise to 958 MB; the target is 1 GB).
 */
export function inFlightBudget(level0: Level, bytesPerVoxel: number): number {
  const [cz, cy, cx] = level0.chunks;
  const chunk = cz * cy * cx * bytesPerVoxel;
  const band = Math.ceil(level0.shape[1] / cy) * Math.ceil(level0.shape[2] / cx) * chunk;
  return Math.max(8 * chunk, Math.floor(band / 4));
}

/**
 * Copies one slice's rows into the band's chunks at depth `k`: one native copy per chunk row (Buffer#copy, no view
 * made per row), an order of magnitude faster than gathering chunks voxel by voxel out of a slab afterwards.
 */
function scatter(slice: SliceData, band: Uint8Array[], k: number, w: number, h: number, cy: number, cx: number, bpv: number): void {
  const src = Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength);
  const columns = Math.ceil(w / cx);
  const rowBytes = cx * bpv;
  const lastBytes = (w - (columns - 1) * cx) * bpv;
  for (let y = 0; y < h; y++) {
    const cyi = Math.floor(y / cy);
    const to = (k * cy + (y - cyi * cy)) * rowBytes;
    const base = cyi * columns;
    let from = y * w * bpv;
    for (let c = 0; c < columns; c++, from += rowBytes) src.copy(band[base + c]!, to, from, from + (c + 1 < columns ? rowBytes : lastBytes));
  }
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v, null, 1));
}

/**
 * The next level's slice from two slices of this one (the same one twice when z is not halved): the mean of each
 * 2x2x2 block, rounded to nearest for integer types; an odd last row or column pairs with itself.
 */
export function downsample(a: SliceData, b: SliceData, w: number, h: number, dtype: DType, into?: SliceData): SliceData {
  const out = into ?? new CTORS[dtype](Math.ceil(w / 2) * Math.ceil(h / 2));
  if (w % 2 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && (dtype === "uint16" || dtype === "int16")) {
    // Two 16-bit voxels per 32-bit load: half the loads of the plain loop.
    const a32 = new Uint32Array(a.buffer, a.byteOffset, a.length >> 1);
    const b32 = new Uint32Array(b.buffer, b.byteOffset, b.length >> 1);
    if (dtype === "uint16") mean16(a32, b32, w, h, out as Uint16Array);
    else meanS16(a32, b32, w, h, out as Int16Array);
  } else if (dtype === "uint8" || dtype === "int8" || dtype === "uint16" || dtype === "int16") meanSmall(a, b, w, h, out);
  else meanWide(a, b, w, h, out, dtype !== "float32" && dtype !== "float64");
  return out;
}

/** uint16 means, from 32-bit words of two voxels each (w even): (sum + 4) >> 3 is the sum / 8 rounded half up. */
function mean16(a: Uint32Array, b: Uint32Array, w: number, h: number, out: Uint16Array): void {
  const w2 = w >> 1;
  const h2 = Math.ceil(h / 2);
  for (let y = 0; y < h2; y++) {
    let i0 = y * w;
    let i1 = (2 * y + 1 < h ? 2 * y + 1 : h - 1) * w2;
    let o = y * w2;
    const end = o + w2;
    while (o < end) {
      const p = a[i0]!;
      const q = a[i1]!;
      const r = b[i0++]!;
      const t = b[i1++]!;
      out[o++] = ((p & 0xffff) + (p >>> 16) + (q & 0xffff) + (q >>> 16) + (r & 0xffff) + (r >>> 16) + (t & 0xffff) + (t >>> 16) + 4) >> 3;
    }
  }
}

/** int16 means, as mean16 with each half sign-extended (>> of a negative sum still rounds half up). */
function meanS16(a: Uint32Array, b: Uint32Array, w: number, h: number, out: Int16Array): void {
  const w2 = w >> 1;
  const h2 = Math.ceil(h / 2);
  for (let y = 0; y < h2; y++) {
    let i0 = y * w;
    let i1 = (2 * y + 1 < h ? 2 * y + 1 : h - 1) * w2;
    let o = y * w2;
    const end = o + w2;
    while (o < end) {
      const p = a[i0]!;
      const q = a[i1]!;
      const r = b[i0++]!;
      const t = b[i1++]!;
      out[o++] = (((p << 16) >> 16) + (p >> 16) + ((q << 16) >> 16) + (q >> 16) + ((r << 16) >> 16) + (r >> 16) + ((t << 16) >> 16) + (t >> 16) + 4) >> 3;
    }
  }
}

/** Means of 8- and 16-bit voxels of any width: the sums fit 32 bits, so (sum + 4) >> 3 rounds them. */
function meanSmall(a: SliceData, b: SliceData, w: number, h: number, out: SliceData): void {
  const w2 = Math.ceil(w / 2);
  const h2 = Math.ceil(h / 2);
  const even = w >> 1;
  for (let y = 0; y < h2; y++) {
    let i0 = 2 * y * w;
    let i1 = Math.min(2 * y + 1, h - 1) * w;
    let o = y * w2;
    for (let x = 0; x < even; x++, i0 += 2, i1 += 2)
      out[o++] = (a[i0]! + a[i0 + 1]! + a[i1]! + a[i1 + 1]! + b[i0]! + b[i0 + 1]! + b[i1]! + b[i1 + 1]! + 4) >> 3;
    if (w & 1) out[o] = (2 * (a[i0]! + a[i1]! + b[i0]! + b[i1]!) + 4) >> 3;
  }
}

/** Means of 32- and 64-bit voxels, in doubles: integers rounded half up, floats as they come. */
function meanWide(a: SliceData, b: SliceData, w: number, h: number, out: SliceData, round: boolean): void {
  const w2 = Math.ceil(w / 2);
  const h2 = Math.ceil(h / 2);
  for (let y = 0; y < h2; y++) {
    const r0 = 2 * y * w;
    const r1 = Math.min(2 * y + 1, h - 1) * w;
    const o = y * w2;
    for (let x = 0; x < w2; x++) {
      const c0 = 2 * x;
      const c1 = Math.min(c0 + 1, w - 1);
      const sum = a[r0 + c0]! + a[r0 + c1]! + a[r1 + c0]! + a[r1 + c1]! + b[r0 + c0]! + b[r0 + c1]! + b[r1 + c0]! + b[r1 + c1]!;
      out[o + x] = round ? Math.floor(sum / 8 + 0.5) : sum / 8;
    }
  }
}
