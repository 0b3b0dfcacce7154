import sharp from "sharp";

/** The size of the list thumbnail's longer side. */
export const THUMB_SIZE = 256;

/** Encodes one 8-bit grayscale chunk; "raw" is Neuroglancer's uncompressed encoding (x fastest), "jpeg" the compact one. */
export async function encodeChunk(px: Buffer, width: number, height: number, opts: { encoding: "jpeg" | "raw"; quality: number }): Promise<Uint8Array> {
  if (opts.encoding === "raw") return px;
  // sharp writes three channels unless told the picture is grayscale.
  return sharp(px, { raw: { width, height, channels: 1 } })
    .toColourspace("b-w")
    .jpeg({ quality: opts.quality })
    .toBuffer();
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
