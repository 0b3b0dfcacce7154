import path from "node:path";
import type { SliceData, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { kindFor } from "./dtype.ts";
import { PositionedFile, fileSize, readHead, throwIfAborted } from "./file-io.ts";
import { checkZ } from "./raw-volume.ts";

/** The parts of a BMP header needed to read its pixels by position (sharp/libvips cannot read BMP). */
export interface BmpInfo {
  width: number;
  height: number;
  topDown: boolean;
  bits: 8 | 24 | 32;
  dataOffset: number;
  stride: number;
  /** Gray value of each palette entry (8-bit files); SkyScan reconstructions use a gray ramp. */
  palette?: Uint8Array;
  gray: boolean;
}

/** Parses a Windows BMP header (BITMAPINFOHEADER or later) and checks the file holds every row it claims. */
export async function readBmpInfo(abs: string, rel: string): Promise<BmpInfo> {
  const head = await readHead(abs, 14 + 124 + 256 * 4, rel);
  const fail = (why: string) => new VolumeReadError(`${rel}: ${why}`, rel);
  if (head.length < 26 || head[0] !== 0x42 || head[1] !== 0x4d) throw fail('bad BMP magic (expected "BM")');
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dataOffset = v.getUint32(10, true);
  const dibSize = v.getUint32(14, true);
  if (dibSize < 40 || head.length < 14 + 40) throw fail(`unsupported BMP header size ${dibSize}`);
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bits = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  if (width < 1 || rawHeight === 0) throw fail(`invalid BMP size ${width}x${rawHeight}`);
  if (bits !== 8 && bits !== 24 && bits !== 32) throw fail(`unsupported BMP depth ${bits} bits`);
  if (!(compression === 0 || (compression === 3 && bits === 32))) throw fail(`compressed BMP (method ${compression}) is not supported`);
  const height = Math.abs(rawHeight);
  const stride = Math.floor((bits * width + 31) / 32) * 4;
  const size = await fileSize(abs, rel);
  if (dataOffset + stride * height > size) {
    throw fail(`truncated: header says ${width}x${height} at ${bits} bits (${stride * height} bytes from ${dataOffset}), the file has ${size} bytes`);
  }
  const info: BmpInfo = { width, height, topDown: rawHeight < 0, bits, dataOffset, stride, gray: bits === 8 };
  if (bits === 8) {
    const used = v.getUint32(46, true) || 256;
    const start = 14 + dibSize;
    const palette = new Uint8Array(256);
    let gray = true;
    for (let i = 0; i < Math.min(used, 256); i++) {
      const o = start + i * 4;
      if (o + 3 > head.length) throw fail("truncated BMP palette");
      const b = head[o]!,
        g = head[o + 1]!,
        r = head[o + 2]!;
      if (r !== g || g !== b) gray = false;
      palette[i] = Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b);
    }
    info.palette = palette;
    info.gray = gray;
  }
  return info;
}

/** Reads the pixel rows with one positioned read and returns them top row first, as 8-bit gray. */
export async function readBmpPixels(abs: string, rel: string, expect: { width: number; height: number }): Promise<SliceData> {
  const info = await readBmpInfo(abs, rel);
  if (info.width !== expect.width || info.height !== expect.height) {
    throw new VolumeReadError(`${rel}: picture is ${info.width}x${info.height}, the stack is ${expect.width}x${expect.height}`, rel);
  }
  const file = new PositionedFile(abs, rel);
  let rows: Uint8Array;
  try {
    rows = new Uint8Array(await file.readExact(info.dataOffset, info.stride * info.height));
  } finally {
    await file.close();
  }
  const { width, height, stride, bits } = info;
  const out = new Uint8Array(width * height);
  const step = bits / 8;
  for (let y = 0; y < height; y++) {
    const src = (info.topDown ? y : height - 1 - y) * stride;
    const dst = y * width;
    if (bits === 8) {
      const pal = info.palette!;
      for (let x = 0; x < width; x++) out[dst + x] = pal[rows[src + x]!]!;
    } else {
      for (let x = 0, s = src; x < width; x++, s += step) {
        out[dst + x] = Math.round(0.0722 * rows[s]! + 0.7152 * rows[s + 1]! + 0.2126 * rows[s + 2]!);
      }
    }
  }
  return out;
}

/** A single BMP or a numbered stack of BMPs (e.g. SkyScan reconstructions), as 8-bit gray. */
export function openBmps(root: string, rels: string[], info: BmpInfo): VolumeSource {
  return {
    format: rels.length > 1 ? "bmp-stack" : "bmp",
    kind: kindFor(rels.length),
    file: rels[0]!,
    files: rels,
    width: info.width,
    height: info.height,
    depth: rels.length,
    dtype: "uint8",
    spacing: [1, 1, 1],
    unit: "px",
    ...(info.gray ? {} : { notes: ["RGB converted to luminance"] }),
    async readSlice(z, signal) {
      checkZ(z, rels.length, rels[0]!);
      throwIfAborted(signal);
      return readBmpPixels(path.join(root, rels[z]!), rels[z]!, info);
    },
    async close() {},
  };
}
