import type { DType, SliceData, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { DTYPE_BYTES, checkSliceSize, toSlice, kindFor } from "./dtype.ts";
import { PositionedFile, fileSize, throwIfAborted } from "./file-io.ts";
import { InflateCursor, type StreamCompression } from "./inflate-cursor.ts";

/** Where and how a header-described raw volume stores its samples. */
export interface RawLayout {
  /** Absolute path of the data file and its dataset-relative name for messages. */
  dataPath: string;
  dataName: string;
  /** Byte offset of voxel (0,0,0): in the file, or in the decompressed stream when compressed; -1 = data ends the file. */
  offset: number;
  littleEndian: boolean;
  compression: "none" | StreamCompression;
  /** Compressed stream start inside the data file (after an attached text header). */
  streamStart?: number;
  /** Interleaved samples per voxel; only the first is kept. */
  channels?: number;
}

/** The descriptive part of a source, everything except the reading functions. */
export type SourceInfo = Omit<VolumeSource, "readSlice" | "close" | "kind"> & { kind?: VolumeSource["kind"] };

/** Builds a VolumeSource over a raw layout, checking up front that an uncompressed file holds every voxel the header claims. */
export async function rawVolumeSource(info: SourceInfo, layout: RawLayout): Promise<VolumeSource> {
  const channels = layout.channels ?? 1;
  const bytes = DTYPE_BYTES[info.dtype];
  const sliceSamples = info.width * info.height;
  const sliceBytes = sliceSamples * bytes * channels;
  const total = sliceBytes * info.depth;
  try {
    checkSliceSize(info.width, info.height, bytes * channels, info.file);
  } catch (e) {
    throw new VolumeReadError((e as Error).message, info.file);
  }
  let offset = layout.offset;
  if (!Number.isSafeInteger(offset) || offset < -1) throw new VolumeReadError(`${info.file}: invalid data offset ${offset}`, info.file);
  if (layout.compression === "none") {
    const size = await fileSize(layout.dataPath, layout.dataName);
    if (offset < 0) offset = size - total;
    if (offset < 0 || offset + total > size) {
      throw new VolumeReadError(
        `${layout.dataName}: header of ${info.file} says ${info.width}x${info.height}x${info.depth} ${info.dtype}` +
          `${channels > 1 ? ` x${channels} channels` : ""} = ${total} bytes from offset ${Math.max(layout.offset, 0)}, but the file has ${size} bytes`,
        info.file,
      );
    }
  } else if (offset < 0) {
    throw new VolumeReadError(`${info.file}: a compressed data file cannot have its data "at the end" (skip -1)`, info.file);
  }
  const file = layout.compression === "none" ? new PositionedFile(layout.dataPath, layout.dataName) : undefined;
  const cursor = layout.compression === "none" ? undefined : new InflateCursor(layout.dataPath, layout.dataName, layout.compression, layout.streamStart ?? 0);
  let queue: Promise<unknown> = Promise.resolve();
  const read = async (z: number, signal?: AbortSignal): Promise<SliceData> => {
    throwIfAborted(signal);
    const at = offset + z * sliceBytes;
    const buffer = file ? await file.readExact(at, sliceBytes) : await cursor!.readAt(at, sliceBytes, signal);
    const data = channels > 1 ? firstChannel(buffer, bytes, channels, sliceSamples) : buffer;
    return toSlice(info.dtype, data, layout.littleEndian);
  };
  return {
    ...info,
    kind: info.kind ?? kindFor(info.depth),
    async readSlice(z, signal) {
      checkZ(z, info.depth, info.file);
      // A compressed stream has one cursor: serialise reads so concurrent callers never interleave it.
      const next = queue.then(() => read(z, signal));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      await file?.close();
      cursor?.close();
    },
  };
}

/**
 * A raw volume stored one slice per file (MetaImage "LIST" or "%d" patterns, NRRD data file lists):
 * slice z is one positioned read in file z; the first file is checked up front, the others when read.
 */
export async function rawSliceFilesSource(
  info: SourceInfo,
  slices: { path: string; name: string }[],
  layout: { offset: number; littleEndian: boolean; channels?: number },
): Promise<VolumeSource> {
  const channels = layout.channels ?? 1;
  const bytes = DTYPE_BYTES[info.dtype];
  const sliceSamples = info.width * info.height;
  const sliceBytes = sliceSamples * bytes * channels;
  if (slices.length > MAX_SLICE_FILES)
    throw new VolumeReadError(`${info.file}: the header lists ${slices.length} slice files, more than ${MAX_SLICE_FILES.toLocaleString("en-US")}`, info.file);
  if (slices.length !== info.depth) {
    throw new VolumeReadError(`${info.file}: the header lists ${slices.length} slice files for a depth of ${info.depth}`, info.file);
  }
  try {
    checkSliceSize(info.width, info.height, bytes * channels, info.file);
  } catch (e) {
    throw new VolumeReadError((e as Error).message, info.file);
  }
  const where = async (z: number): Promise<number> => {
    const s = slices[z]!;
    const size = await fileSize(s.path, s.name);
    const at = layout.offset < 0 ? size - sliceBytes : layout.offset;
    if (at < 0 || at + sliceBytes > size) {
      throw new VolumeReadError(`${s.name}: one ${info.width}x${info.height} ${info.dtype} slice needs ${sliceBytes} bytes, the file has ${size}`, info.file);
    }
    return at;
  };
  await where(0);
  return {
    ...info,
    kind: info.kind ?? kindFor(info.depth),
    async readSlice(z, signal) {
      checkZ(z, info.depth, info.file);
      throwIfAborted(signal);
      const s = slices[z]!;
      const buffer = await new PositionedFile(s.path, s.name).readExact(await where(z), sliceBytes);
      return toSlice(info.dtype, channels > 1 ? firstChannel(buffer, bytes, channels, sliceSamples) : buffer, layout.littleEndian);
    },
    async close() {},
  };
}

/** The most slice files one volume may name (a LIST or a pattern); a header naming more is taken for a lie. */
export const MAX_SLICE_FILES = 100_000;

/**
 * Expands a printf-style slice file pattern ("slice%03d.raw 1 100 1": format, first, last, step); undefined when
 * `spec` is no such pattern, a VolumeReadError naming `header` when it names more than MAX_SLICE_FILES files.
 */
export function expandPattern(spec: string, header: string): string[] | undefined {
  const m = spec.trim().match(/^(\S*%0?\d*d\S*)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)(?:\s+\d+)?$/);
  if (!m) return undefined;
  const [, format, a, b, c] = m;
  const first = Number(a),
    last = Number(b),
    step = Number(c);
  if (step === 0) return undefined;
  const count = Math.floor((last - first) / step) + 1;
  if (count > MAX_SLICE_FILES)
    throw new VolumeReadError(
      `${header}: the slice file pattern "${spec.trim()}" names ${count} files, more than ${MAX_SLICE_FILES.toLocaleString("en-US")}`,
      header,
    );
  const out: string[] = [];
  for (let i = first; step > 0 ? i <= last : i >= last; i += step) {
    out.push(format!.replace(/%(0?)(\d*)d/, (_x, zero: string, width: string) => String(i).padStart(Number(width || 0), zero ? "0" : " ")));
  }
  return out;
}

/** Rejects a slice index outside the volume with a message a caller can act on. */
export function checkZ(z: number, depth: number, file: string): void {
  if (!Number.isInteger(z) || z < 0 || z >= depth) throw new RangeError(`${file}: slice ${z} is outside 0..${depth - 1}`);
}

function firstChannel(buffer: ArrayBuffer, bytes: number, channels: number, samples: number): ArrayBuffer {
  const src = new Uint8Array(buffer);
  const out = new Uint8Array(samples * bytes);
  const stride = bytes * channels;
  for (let i = 0, o = 0, s = 0; i < samples; i++, o += bytes, s += stride) {
    for (let b = 0; b < bytes; b++) out[o + b] = src[s + b]!;
  }
  return out.buffer;
}

/** Re-exported so format modules can name dtypes without importing the types file twice. */
export type { DType };
