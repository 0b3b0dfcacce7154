// Writing one volume as OME-Zarr 0.4 (Zarr v2): a multiscale group whose levels are 2x means of the one before,
// chunks of 64^3 voxels compressed with gzip (napari, Fiji's n5-zarr and Neuroglancer all read it). The volume
// arrives one z-slice at a time and each level keeps one slab of chunk depth, so memory does not grow with depth.
import type { DType, SliceData, VolumeSource } from "../preview/readers/reader.types.ts";

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

/** Bytes per voxel of a reader's type. */
export function bytesPerVoxel(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

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

/** A level being filled: its slab of chunk-depth slices, and the slice waiting for its pair to make the next level. */
interface LevelState {
  level: Level;
  slab: SliceData;
  /** Slices in the slab now, and the z of the slab's first slice. */
  filled: number;
  z0: number;
  pending: SliceData | null;
}

/** Writes one volume's levels as it is fed slices in z order; `finish` writes what remains and the metadata. */
export class OmeZarrWriter {
  private readonly states: LevelState[];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  private readonly maxInFlight: number;

  constructor(
    private readonly sink: ZarrSink,
    private readonly dtype: DType,
    readonly levels: Level[],
    opts: { maxInFlight?: number } = {},
  ) {
    const Ctor = CTORS[dtype];
    this.states = levels.map((level) => ({ level, slab: new Ctor(level.chunks[0] * level.shape[1] * level.shape[2]), filled: 0, z0: 0, pending: null }));
    this.maxInFlight = opts.maxInFlight ?? 8;
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

  /** Writes the partial slabs and the group's attributes, once every slice was pushed. */
  async finish(attrs: Record<string, unknown>): Promise<void> {
    for (let i = 0; i < this.states.length; i++) {
      const s = this.states[i]!;
      // An odd last slice pairs with itself, as the sizes' ceil() said.
      if (s.pending && i + 1 < this.states.length) {
        const p = s.pending;
        s.pending = null;
        await this.add(i + 1, downsample(p, p, s.level.shape[2], s.level.shape[1], this.dtype));
      }
      if (s.filled > 0) await this.writeSlab(i);
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
    s.slab.set(slice as never, s.filled * h * w);
    s.filled++;
    if (i + 1 < this.states.length) {
      const zHalves = this.levels[i + 1]!.shape[0] < s.level.shape[0];
      if (!zHalves) await this.add(i + 1, downsample(slice, slice, w, h, this.dtype));
      else if (s.pending === null) s.pending = slice;
      else {
        const a = s.pending;
        s.pending = null;
        await this.add(i + 1, downsample(a, slice, w, h, this.dtype));
      }
    }
    if (s.filled === s.level.chunks[0]) await this.writeSlab(i);
  }

  /** Cuts the level's slab into chunks (edge chunks padded with the fill value, as Zarr v2 wants) and writes them. */
  private async writeSlab(i: number): Promise<void> {
    const s = this.states[i]!;
    const [cz, cy, cx] = s.level.chunks;
    const [, h, w] = s.level.shape;
    const zi = s.z0 / cz;
    const Ctor = CTORS[this.dtype];
    for (let y0 = 0; y0 < h; y0 += cy) {
      for (let x0 = 0; x0 < w; x0 += cx) {
        const bytes = cz * cy * cx * Ctor.BYTES_PER_ELEMENT;
        const chunk = this.sink.buffer ? new Ctor(this.sink.buffer(bytes)) : new Ctor(cz * cy * cx);
        const rows = Math.min(cy, h - y0);
        const cols = Math.min(cx, w - x0);
        // Edge chunks are padded with the fill value (a reused buffer holds an older chunk's voxels).
        if (this.sink.buffer && (rows < cy || cols < cx || s.filled < cz)) chunk.fill(0);
        gather(s.slab, chunk, s.filled, w, h, y0, x0, rows, cols, cy, cx);
        await this.queue(`${i}/${zi}.${y0 / cy}.${x0 / cx}`, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    }
    s.z0 += s.filled;
    s.filled = 0;
  }

  /** Compresses and writes one chunk, keeping at most `maxInFlight` at once so memory stays bounded. */
  private async queue(rel: string, bytes: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    const p: Promise<void> = this.sink
      .compress(bytes)
      .then((packed) => this.sink.write(rel, packed))
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}

/** Copies one chunk's voxels out of a slab, row by row (a plain loop: a subarray per 64-voxel row costs twice as much). */
function gather(
  slab: SliceData,
  chunk: SliceData,
  depth: number,
  w: number,
  h: number,
  y0: number,
  x0: number,
  rows: number,
  cols: number,
  cy: number,
  cx: number,
): void {
  const src = slab as Float64Array;
  const dst = chunk as Float64Array;
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < rows; y++) {
      const from = (z * h + y0 + y) * w + x0;
      const to = (z * cy + y) * cx;
      for (let x = 0; x < cols; x++) dst[to + x] = src[from + x]!;
    }
  }
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v, null, 1));
}

/**
 * The next level's slice from two slices of this one (the same one twice when z is not halved): the mean of each
 * 2x2x2 block, rounded to nearest for integer types; an odd last row or column pairs with itself.
 */
export function downsample(a: SliceData, b: SliceData, w: number, h: number, dtype: DType): SliceData {
  const w2 = Math.ceil(w / 2);
  const h2 = Math.ceil(h / 2);
  const out = new CTORS[dtype](w2 * h2);
  const round = dtype !== "float32" && dtype !== "float64";
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
  return out;
}
