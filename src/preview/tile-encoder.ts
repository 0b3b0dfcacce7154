import { readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";

/** The size of the list thumbnail's longer side. */
export const THUMB_SIZE = 256;

/** Encodes one 8-bit grayscale tile; "raw" is Neuroglancer's uncompressed encoding (x fastest), "jpeg" the compact one. */
export async function encodeTile(px: Buffer, width: number, height: number, file: string, opts: { encoding: "jpeg" | "raw"; quality: number }): Promise<void> {
  if (opts.encoding === "raw") {
    await writeFile(file, px);
    return;
  }
  // sharp writes three channels unless told the picture is grayscale.
  await sharp(px, { raw: { width, height, channels: 1 } })
    .toColourspace("b-w")
    .jpeg({ quality: opts.quality })
    .toFile(file);
}

let scratch = 0;

/**
 * Encodes a whole grid of JPEG tiles (edge tiles clipped) in ONE libvips call and moves each tile to the name
 * `nameOf(col, row)` gives, inside `dir`: per-call overhead is most of a small tile's cost, so a slice or a
 * strip of tiles at once is several times cheaper than tile by tile.
 */
export async function encodeGrid(
  px: Buffer,
  width: number,
  height: number,
  tile: number,
  dir: string,
  nameOf: (col: number, row: number) => string,
  quality: number,
): Promise<void> {
  const base = path.join(dir, `.grid-${process.pid}-${scratch++}`);
  try {
    await sharp(px, { raw: { width, height, channels: 1 } })
      .toColourspace("b-w")
      .jpeg({ quality })
      .tile({ size: tile, overlap: 0, depth: "one", layout: "dz" })
      .toFile(`${base}.dz`);
    const level = path.join(`${base}_files`, "0");
    for (const f of await readdir(level)) {
      const m = /^(\d+)_(\d+)\.jpeg$/.exec(f);
      if (m) await rename(path.join(level, f), path.join(dir, nameOf(Number(m[1]), Number(m[2]))));
    }
  } finally {
    await rm(`${base}_files`, { recursive: true, force: true });
    await rm(`${base}.dzi`, { force: true });
  }
}

/** Writes the list thumbnail from one 8-bit slice, fitted inside THUMB_SIZE. */
export async function writeThumbnail(px: Uint8Array, width: number, height: number, file: string): Promise<void> {
  await sharp(px, { raw: { width, height, channels: 1 } })
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: "inside", withoutEnlargement: true })
    .toColourspace("b-w")
    .jpeg({ quality: 85 })
    .toFile(file);
}

/** libvips threads per operation; tiles are small, so parallelism comes from several tiles in flight. */
export function configureImageThreads(threads: number): void {
  sharp.concurrency(threads);
}

/**
 * Runs a full garbage collection every `ms` while a build runs: the engine does not count the tile buffers it
 * hands to libvips as memory pressure, so without a nudge the peak RSS of a long build creeps up with its depth.
 */
export function collectGarbageEvery(ms: number): () => void {
  const timer = setInterval(() => Bun.gc(true), ms);
  return () => clearInterval(timer);
}
