import path from "node:path";
import type { DType, SliceData, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { kindFor, MAX_SLICE_BYTES } from "./dtype.ts";
import { guard, readWhole, throwIfAborted } from "./file-io.ts";
import { checkZ } from "./raw-volume.ts";

/** sharp (libvips) is loaded on first use, so processes that only read raw volumes never load the native addon. */
async function loadSharp(): Promise<typeof import("sharp").default> {
  return (await import("sharp")).default;
}

/** What sharp reports about a PNG/JPEG before decoding it. */
export interface PictureInfo {
  width: number;
  height: number;
  dtype: DType;
  notes: string[];
}

/** Reads a PNG or JPEG header through sharp (libvips); only 8- and 16-bit pictures exist in these formats. */
export async function readPictureInfo(abs: string, rel: string): Promise<PictureInfo> {
  return guard(rel, async () => {
    const sharp = await loadSharp();
    const meta = await sharp(await readWhole(abs, rel, MAX_SLICE_BYTES)).metadata();
    if (!meta.width || !meta.height) throw new VolumeReadError(`${rel}: picture has no size`, rel);
    const dtype: DType | undefined = meta.depth === "uchar" ? "uint8" : meta.depth === "ushort" ? "uint16" : undefined;
    if (!dtype) throw new VolumeReadError(`${rel}: unsupported sample depth ${meta.depth}`, rel);
    const colour = (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0) >= 3;
    return { width: meta.width, height: meta.height, dtype, notes: colour ? ["RGB converted to luminance"] : [] };
  });
}

/** Decodes a whole PNG/JPEG as one grayscale slice; gray values come through exactly, colour becomes libvips luminance. */
export async function decodePicture(abs: string, rel: string, expect: PictureInfo): Promise<SliceData> {
  return guard(rel, async () => {
    const sharp = await loadSharp();
    // Its bytes, read beneath the share root: sharp would open a path following symlinks (a picture is one slice,
    // so reading it whole costs what decoding it does).
    const input = await readWhole(abs, rel, MAX_SLICE_BYTES);
    const meta = await sharp(input).metadata();
    if (meta.width !== expect.width || meta.height !== expect.height) {
      throw new VolumeReadError(`${rel}: picture is ${meta.width}x${meta.height}, the stack is ${expect.width}x${expect.height}`, rel);
    }
    const wide = expect.dtype === "uint16";
    let pipeline = sharp(input, { failOn: "error" });
    if (meta.hasAlpha) pipeline = pipeline.removeAlpha();
    const { data, info } = await pipeline
      .toColourspace(wide ? "grey16" : "b-w")
      .raw({ depth: wide ? "ushort" : "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new VolumeReadError(`${rel}: could not reduce the picture to one channel`, rel);
    const copy = new Uint8Array(data.length);
    copy.set(data);
    return wide ? new Uint16Array(copy.buffer) : copy;
  });
}

/** A single PNG/JPEG picture, or a numbered stack of them (one file per slice). */
export function openPictures(root: string, rels: string[], info: PictureInfo, format: string): VolumeSource {
  return {
    format,
    kind: kindFor(rels.length),
    file: rels[0]!,
    files: rels,
    width: info.width,
    height: info.height,
    depth: rels.length,
    dtype: info.dtype,
    spacing: [1, 1, 1],
    unit: "px",
    ...(info.notes.length ? { notes: info.notes } : {}),
    async readSlice(z, signal) {
      checkZ(z, rels.length, rels[0]!);
      throwIfAborted(signal);
      return decodePicture(path.join(root, rels[z]!), rels[z]!, info);
    },
    async close() {},
  };
}
