import { writeFile } from "node:fs/promises";
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
  await sharp(px, { raw: { width, height, channels: 1 } }).toColourspace("b-w").jpeg({ quality: opts.quality }).toFile(file);
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
