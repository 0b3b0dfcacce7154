// One unit of a preview build: a brick of up to 256 x 256 x 256 voxels of one level, read from its slab's scratch
// file, cut into its XY, XZ and YZ tiles (each tile lies wholly inside one brick), encoded, and halved into its part
// of the next level. Units share nothing but files, so they run on any number of threads at once.
import { closeSync, openSync } from "node:fs";
import { churned } from "../platform/gc.ts";
import { brickAt, readBrick, writePart, type SlabGeometry } from "./bricks.ts";
import type { Orientation } from "./layout.ts";
import { encodeChunk } from "./tile-encoder.ts";

export interface EncodeOptions {
  encoding: "jpeg" | "raw";
  quality: number;
}

/** A brick to build: its level, slab and place, whether it has XZ/YZ tiles, and the next level's slab when there is one. */
export interface BrickUnit {
  level: number;
  slab: SlabGeometry;
  bx: number;
  by: number;
  /** XZ and YZ tiles too, not only XY. */
  sections: boolean;
  /** Where the brick's half goes; `halveZ` pairs slices (2x2x2 means) or keeps each one (2x2). */
  next: { slab: SlabGeometry; halveZ: boolean } | null;
}

/** One encoded tile: its orientation, level, first voxel and bytes, and how many pixels it holds (for progress). */
export type Deliver = (o: Orientation, level: number, origin: [number, number, number], bytes: Uint8Array, pixels: number) => void;

/** YZ tiles gathered at once (a 256^3 brick's 64 columns are 4 MiB). */
const YZ_BLOCK = 64;

/** Encodes in flight at once per unit: libvips encodes on its own threads while the next tiles are cut. */
const IN_FLIGHT = 3;

/** Bounded set of in-flight encodes; the first failure is rethrown. */
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

/** The brick buffer of this thread, kept for its next unit (a fresh 16 MiB each time would wait for the collector). */
let brickBuffer = new Uint8Array(0);

/** Builds one brick: every tile inside it goes to `deliver` as it is encoded, and its half to the next level's slab. */
export async function buildBrick(unit: BrickUnit, enc: EncodeOptions, deliver: Deliver): Promise<void> {
  const { slab, level } = unit;
  const b = brickAt(slab, unit.bx, unit.by);
  const n = slab.n;
  const plane = b.bw * b.bh;
  if (brickBuffer.length < plane * n) brickBuffer = new Uint8Array(plane * n);
  const fd = openSync(slab.file, "r");
  let brick: Uint8Array;
  try {
    brick = readBrick(fd, slab.file, b, n, brickBuffer);
  } finally {
    closeSync(fd);
  }
  const pool = new EncodePool(IN_FLIGHT);
  const emit = (o: Orientation, origin: [number, number, number], px: Buffer, w: number, h: number) =>
    pool.add(async () => {
      const bytes = await encodeChunk(px, w, h, enc);
      // Raw tiles are the pixels themselves: an XY tile is a view of the brick, which the next unit overwrites.
      deliver(o, level, origin, bytes.buffer === brick.buffer ? bytes.slice() : bytes, w * h);
      churned(px.buffer === brick.buffer ? bytes.byteLength : px.byteLength + bytes.byteLength);
    });
  try {
    for (let r = 0; r < n; r++) await emit("xy", [b.x0, b.y0, slab.z0 + r], Buffer.from(brick.buffer, brick.byteOffset + r * plane, plane), b.bw, b.bh);
    if (unit.sections) {
      // XZ tiles: one per row, z going down.
      for (let y = 0; y < b.bh; y++) {
        const buf = Buffer.allocUnsafe(b.bw * n);
        for (let r = 0; r < n; r++) buf.set(brick.subarray(r * plane + y * b.bw, r * plane + (y + 1) * b.bw), r * b.bw);
        await emit("xz", [b.x0, b.y0 + y, slab.z0], buf, b.bw, n);
      }
      // YZ tiles: one per column, y across and z going down, gathered YZ_BLOCK columns at a time.
      const tile = b.bh * n;
      for (let x = 0; x < b.bw; x += YZ_BLOCK) {
        const m = Math.min(YZ_BLOCK, b.bw - x);
        const block = gatherYZ(brick, b.bw, b.bh, n, x, m);
        for (let i = 0; i < m; i++) await emit("yz", [b.x0 + x + i, b.y0, slab.z0], block.subarray(i * tile, (i + 1) * tile), b.bh, n);
      }
    }
    if (unit.next) halve(brick, b.bw, b.bh, n, unit, b.x0, b.y0);
    await pool.drain();
  } catch (e) {
    // The brick buffer stays in use until no encode reads it any more.
    await pool.drain().catch(() => {});
    throw e;
  }
}

/**
 * Columns `x0` to `x0 + m - 1` of a brick as YZ tiles (y across, z going down), one after another in one buffer. Read
 * byte by byte down each column this was the build's costliest JavaScript (every byte from another cache line); where
 * the sides allow it, four rows and four columns go at once as 32-bit words, a 4 x 4 byte transpose in registers
 * (little-endian, as on every platform Bun runs on), about six times faster.
 */
export function gatherYZ(brick: Uint8Array, bw: number, bh: number, n: number, x0: number, m: number): Buffer {
  const tile = bh * n;
  const out = Buffer.from(new ArrayBuffer(m * tile));
  const plane = bw * bh;
  if (bw % 4 !== 0 || bh % 4 !== 0 || x0 % 4 !== 0 || m % 4 !== 0 || brick.byteOffset % 4 !== 0) {
    for (let i = 0; i < m; i++)
      for (let r = 0; r < n; r++) {
        const row = i * tile + r * bh;
        for (let y = 0, src = r * plane + x0 + i; y < bh; y++, src += bw) out[row + y] = brick[src]!;
      }
    return out;
  }
  const src = new Uint32Array(brick.buffer, brick.byteOffset, (plane * n) >> 2);
  const dst = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
  const rowWords = bw >> 2;
  const tileWords = tile >> 2;
  for (let r = 0; r < n; r++)
    for (let y = 0; y < bh; y += 4) {
      let s0 = (r * plane + y * bw + x0) >> 2;
      let d0 = (r * bh + y) >> 2;
      for (let i = 0; i < m; i += 4, s0++, d0 += 4 * tileWords) {
        // Rows y..y+3 of columns x..x+3, each word one row; each word written is one column's four rows.
        const a = src[s0]!;
        const b = src[s0 + rowWords]!;
        const c = src[s0 + 2 * rowWords]!;
        const d = src[s0 + 3 * rowWords]!;
        dst[d0] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24);
        dst[d0 + tileWords] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
        dst[d0 + 2 * tileWords] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
        dst[d0 + 3 * tileWords] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
      }
    }
  return out;
}

/** Writes the brick's 2x2(x2) means, rounded to nearest, into the next level's slab. */
function halve(brick: Uint8Array, bw: number, bh: number, n: number, unit: BrickUnit, x0: number, y0: number): void {
  const { slab: next, halveZ } = unit.next!;
  const pw = Math.ceil(bw / 2);
  const ph = Math.ceil(bh / 2);
  const pn = halveZ ? Math.ceil(n / 2) : n;
  const part = new Uint8Array(pw * ph * pn);
  const sums = new Uint16Array(pw * ph);
  const plane = bw * bh;
  for (let k = 0; k < pn; k++) {
    sums.fill(0);
    // Slices 2k and 2k + 1 (a last odd slice alone) when z is halved, else slice k alone.
    const first = halveZ ? 2 * k : k;
    const zc = halveZ && 2 * k + 1 < n ? 2 : 1;
    for (let r = first; r < first + zc; r++)
      for (let y = 0; y < bh; y++) {
        const row = (y >> 1) * pw;
        const src = r * plane + y * bw;
        for (let x = 0; x < bw; x++) sums[row + (x >> 1)]! += brick[src + x]!;
      }
    const out = k * pw * ph;
    for (let y = 0; y < ph; y++) {
      // Brick sides are even but at the level's own edge, so a pair is cut short only where the level's is.
      const cy = 2 * y + 1 < bh ? 2 : 1;
      for (let x = 0; x < pw; x++) {
        const cx = 2 * x + 1 < bw ? 2 : 1;
        part[out + y * pw + x] = Math.round(sums[y * pw + x]! / (cx * cy * zc));
      }
    }
  }
  const fd = openSync(next.file, "r+");
  try {
    writePart(fd, next, part, pw, ph, pn, x0 / 2, y0 / 2, halveZ ? unit.slab.z0 / 2 : unit.slab.z0);
  } finally {
    closeSync(fd);
  }
}
