// A level's slab of up to 256 slices, kept in a scratch file as bricks of 256 x 256 x n voxels (8-bit), each brick
// one contiguous run of slices: a worker reads its brick in one call, and all its XY, XZ and YZ tiles lie inside it.
import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { TILE } from "./layout.ts";

/** Where one slab of one level lives: its scratch file, the level's slice size and the slab's slices. */
export interface SlabGeometry {
  file: string;
  /** The level's width and height. */
  w: number;
  h: number;
  /** The slab's first slice and how many it holds (at most TILE). */
  z0: number;
  n: number;
}

/** The brick at column `bx`, row `by` of a slab: its voxel box in the slice plane and where its bytes start. */
export interface Brick {
  x0: number;
  y0: number;
  bw: number;
  bh: number;
  offset: number;
}

/** Bricks across and down a level's slice plane. */
export function brickGrid(w: number, h: number): [number, number] {
  return [Math.ceil(w / TILE), Math.ceil(h / TILE)];
}

/** The bricks of a whole pyramid, every level's slabs together. */
export function brickCount(levels: readonly (readonly [number, number, number])[]): number {
  return levels.reduce((n, [w, h, d]) => n + Math.ceil(w / TILE) * Math.ceil(h / TILE) * Math.ceil(d / TILE), 0);
}

/** The brick (bx, by) of slab `g`: a brick row holds TILE rows of the full width, so its offset has a closed form. */
export function brickAt(g: Pick<SlabGeometry, "w" | "h" | "n">, bx: number, by: number): Brick {
  const x0 = bx * TILE;
  const y0 = by * TILE;
  const bw = Math.min(TILE, g.w - x0);
  const bh = Math.min(TILE, g.h - y0);
  return { x0, y0, bw, bh, offset: (y0 * g.w + x0 * bh) * g.n };
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at, position + at);
}

function readAll(fd: number, into: Uint8Array, position: number, file: string): void {
  for (let got = 0; got < into.length;) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) throw new Error(`the scratch file ${file} ends ${into.length - got} bytes early`);
    got += n;
  }
}

/** Creates a slab's scratch file at its full size (sparse until written), private to this process's user. */
export function createSlab(g: SlabGeometry): void {
  const fd = openSync(g.file, "w", 0o600);
  try {
    ftruncateSync(fd, g.w * g.h * g.n);
  } finally {
    closeSync(fd);
  }
}

export function removeSlab(g: SlabGeometry): void {
  rmSync(g.file, { force: true });
}

/**
 * Writes one whole 8-bit slice (`z` of the level) into its slab: each brick gets the slice's rectangle as one
 * contiguous plane. `scratch` holds one brick plane (TILE x TILE bytes) and is reused.
 */
export function writeSliceToSlab(fd: number, g: SlabGeometry, z: number, px: Uint8Array, scratch: Uint8Array): void {
  const [nx, ny] = brickGrid(g.w, g.h);
  const r = z - g.z0;
  for (let by = 0; by < ny; by++)
    for (let bx = 0; bx < nx; bx++) {
      const b = brickAt(g, bx, by);
      const plane = scratch.subarray(0, b.bw * b.bh);
      for (let y = 0; y < b.bh; y++) plane.set(px.subarray((b.y0 + y) * g.w + b.x0, (b.y0 + y) * g.w + b.x0 + b.bw), y * b.bw);
      writeAll(fd, plane, b.offset + r * b.bw * b.bh);
    }
}

/** Reads a whole brick (its n planes of bw x bh, slice after slice) into `into`, which must hold it. */
export function readBrick(fd: number, file: string, b: Brick, n: number, into: Uint8Array): Uint8Array {
  const bytes = into.subarray(0, b.bw * b.bh * n);
  readAll(fd, bytes, b.offset, file);
  return bytes;
}

/**
 * Writes a brick's 2x-downsampled part into the next level's slab: `part` is `pw x ph x pn` (x fastest), placed at
 * column `px0`, row `py0` and slice `pz0` of the next level (all inside one of its bricks: a brick's half is one
 * quarter or one eighth of the next level's brick).
 */
export function writePart(fd: number, next: SlabGeometry, part: Uint8Array, pw: number, ph: number, pn: number, px0: number, py0: number, pz0: number): void {
  const b = brickAt(next, Math.floor(px0 / TILE), Math.floor(py0 / TILE));
  const plane = b.bw * b.bh;
  const dx = px0 - b.x0;
  const dy = py0 - b.y0;
  // The part's rows are runs of pw bytes inside the brick's planes: one write per run when the part is narrower.
  if (pw === b.bw) {
    for (let r = 0; r < pn; r++) writeAll(fd, part.subarray(r * pw * ph, (r + 1) * pw * ph), b.offset + (pz0 - next.z0 + r) * plane + dy * b.bw);
    return;
  }
  for (let r = 0; r < pn; r++)
    for (let y = 0; y < ph; y++) {
      const src = (r * ph + y) * pw;
      writeAll(fd, part.subarray(src, src + pw), b.offset + (pz0 - next.z0 + r) * plane + (dy + y) * b.bw + dx);
    }
}
