import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import sharp from "sharp";
import type { DType } from "../../src/preview/readers/reader.types.ts";

/** Known voxel values for generated files: distinct along x, y and z, and negative/fractional where the type allows. */
export function phantom(dtype: DType, x: number, y: number, z: number): number {
  const base = x + 7 * y + 131 * z;
  switch (dtype) {
    case "uint8":
      return base % 251;
    case "int8":
      return (base % 251) - 125;
    case "uint16":
      return (base * 37) % 65521;
    case "int16":
      return ((base * 37) % 65521) - 32000;
    case "uint32":
      return base * 100_003;
    case "int32":
      return base * 100_003 - 2_000_000_000;
    case "float32":
      return Math.fround(base * 0.25 - 100.5);
    case "float64":
      return base * 0.125 - 1e6;
  }
}

const BYTES: Record<DType, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };

/** Encodes one slice of phantom values in the given byte order. */
export function sliceBytes(dtype: DType, w: number, h: number, z: number, littleEndian: boolean, value = phantom): Uint8Array {
  const n = BYTES[dtype];
  const out = new Uint8Array(w * h * n);
  const v = new DataView(out.buffer);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * n;
      const val = value(dtype, x, y, z);
      switch (dtype) {
        case "uint8":
          v.setUint8(o, val);
          break;
        case "int8":
          v.setInt8(o, val);
          break;
        case "uint16":
          v.setUint16(o, val, littleEndian);
          break;
        case "int16":
          v.setInt16(o, val, littleEndian);
          break;
        case "uint32":
          v.setUint32(o, val, littleEndian);
          break;
        case "int32":
          v.setInt32(o, val, littleEndian);
          break;
        case "float32":
          v.setFloat32(o, val, littleEndian);
          break;
        case "float64":
          v.setFloat64(o, val, littleEndian);
          break;
      }
    }
  }
  return out;
}

/** The whole phantom volume as bytes (test volumes are tiny). */
export function volumeBytes(dtype: DType, w: number, h: number, d: number, littleEndian: boolean): Uint8Array {
  const parts = [];
  for (let z = 0; z < d; z++) parts.push(sliceBytes(dtype, w, h, z, littleEndian));
  return concat(parts);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function write(file: string, data: Uint8Array | string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  return file;
}

// ---------- TIFF (own writer: strips or tiles, none/deflate/packbits, either byte order) ----------

export interface TiffOptions {
  dtype: DType;
  width: number;
  height: number;
  /** z indices of the phantom written as pages, in order. */
  pages: number[];
  littleEndian?: boolean;
  compression?: "none" | "deflate" | "packbits";
  tile?: number;
  rowsPerStrip?: number;
  description?: string;
  /** Pixels per unit and the TIFF ResolutionUnit (1 none, 2 inch, 3 cm). */
  resolution?: { x: number; y: number; unit: 1 | 2 | 3 };
  /** PhotometricInterpretation (default 1, BlackIsZero) and, for 3, the ColorMap (3 x 2^bits 16-bit values). */
  photometric?: 0 | 1 | 3;
  colorMap?: number[];
}

/** PackBits with real repeat runs, so the reader's decoder is exercised both ways. */
export function packBits(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    let run = 1;
    while (i + run < src.length && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 3) {
      out.push(257 - run, src[i]!);
      i += run;
      continue;
    }
    const start = i;
    while (i < src.length && i - start < 128) {
      if (i + 2 < src.length && src[i] === src[i + 1] && src[i] === src[i + 2]) break;
      i++;
    }
    out.push(i - start - 1, ...src.subarray(start, i));
  }
  return Uint8Array.from(out);
}

/** Writes a baseline TIFF with one IFD per page. */
export function writeTiff(file: string, o: TiffOptions): string {
  const le = o.littleEndian ?? true;
  const bps = BYTES[o.dtype] * 8;
  const sampleFormat = o.dtype.startsWith("float") ? 3 : o.dtype.startsWith("int") ? 2 : 1;
  const compressionCode = { none: 1, deflate: 8, packbits: 32773 }[o.compression ?? "none"];
  const encode = (b: Uint8Array) => (o.compression === "deflate" ? new Uint8Array(deflateSync(b)) : o.compression === "packbits" ? packBits(b) : b);
  const chunks: Uint8Array[] = [];
  let cursor = 8;
  const blobs: { page: number; offsets: number[]; counts: number[] }[] = [];
  const n = BYTES[o.dtype];
  for (const z of o.pages) {
    const raw = sliceBytes(o.dtype, o.width, o.height, z, le);
    const pieces: Uint8Array[] = [];
    if (o.tile) {
      const t = o.tile;
      for (let ty = 0; ty < o.height; ty += t) {
        for (let tx = 0; tx < o.width; tx += t) {
          const tileBuf = new Uint8Array(t * t * n);
          for (let y = 0; y < t && ty + y < o.height; y++) {
            const w = Math.min(t, o.width - tx);
            tileBuf.set(raw.subarray(((ty + y) * o.width + tx) * n, ((ty + y) * o.width + tx + w) * n), y * t * n);
          }
          pieces.push(encode(tileBuf));
        }
      }
    } else {
      const rps = o.rowsPerStrip ?? o.height;
      for (let y = 0; y < o.height; y += rps) {
        pieces.push(encode(raw.subarray(y * o.width * n, Math.min(o.height, y + rps) * o.width * n)));
      }
    }
    const offsets: number[] = [];
    const counts: number[] = [];
    for (const p of pieces) {
      offsets.push(cursor);
      counts.push(p.length);
      chunks.push(p);
      cursor += p.length;
      if (cursor % 2) {
        chunks.push(new Uint8Array(1));
        cursor++;
      }
    }
    blobs.push({ page: z, offsets, counts });
  }
  // IFDs after the pixel data.
  const ifds: Uint8Array[] = [];
  for (let p = 0; p < blobs.length; p++) {
    const b = blobs[p]!;
    const entries: [number, number, number[] | string][] = [];
    entries.push([256, 4, [o.width]], [257, 4, [o.height]], [258, 3, [bps]], [259, 3, [compressionCode]], [262, 3, [o.photometric ?? 1]]);
    if (o.colorMap) entries.push([320, 3, o.colorMap]);
    if (o.description !== undefined && p === 0) entries.push([270, 2, o.description]);
    if (o.tile) {
      entries.push([322, 4, [o.tile]], [323, 4, [o.tile]], [324, 4, b.offsets], [325, 4, b.counts]);
    } else {
      entries.push([273, 4, b.offsets], [278, 4, [o.rowsPerStrip ?? o.height]], [279, 4, b.counts]);
    }
    entries.push([277, 3, [1]]);
    if (o.resolution) entries.push([282, 5, [o.resolution.x * 1000, 1000]], [283, 5, [o.resolution.y * 1000, 1000]], [296, 3, [o.resolution.unit]]);
    entries.push([339, 3, [sampleFormat]]);
    entries.sort((a, b2) => a[0] - b2[0]);
    const extra: Uint8Array[] = [];
    const ifdSize = 2 + entries.length * 12 + 4;
    let extraAt = cursor + ifdSize;
    const ifd = new Uint8Array(ifdSize);
    const v = new DataView(ifd.buffer);
    v.setUint16(0, entries.length, le);
    entries.forEach(([tag, type, values], i) => {
      const e = 2 + i * 12;
      v.setUint16(e, tag, le);
      v.setUint16(e + 2, type, le);
      let bytes: Uint8Array;
      let count: number;
      if (typeof values === "string") {
        bytes = new TextEncoder().encode(values + "\0");
        count = bytes.length;
      } else {
        const size = type === 3 ? 2 : 4;
        count = type === 5 ? values.length / 2 : values.length;
        bytes = new Uint8Array(values.length * size);
        const bv = new DataView(bytes.buffer);
        values.forEach((x, k) => (size === 2 ? bv.setUint16(k * 2, x, le) : bv.setUint32(k * 4, x, le)));
      }
      v.setUint32(e + 4, count, le);
      if (bytes.length <= 4) ifd.set(bytes, e + 8);
      else {
        v.setUint32(e + 8, extraAt, le);
        extra.push(bytes);
        extraAt += bytes.length + (bytes.length % 2);
        if (bytes.length % 2) extra.push(new Uint8Array(1));
      }
    });
    const next = p + 1 < blobs.length ? extraAt : 0;
    v.setUint32(ifdSize - 4, next, le);
    ifds.push(ifd, ...extra);
    cursor = extraAt;
  }
  const header = new Uint8Array(8);
  const hv = new DataView(header.buffer);
  header[0] = header[1] = le ? 0x49 : 0x4d;
  hv.setUint16(2, 42, le);
  hv.setUint32(4, 8 + chunks.reduce((a, c) => a + c.length, 0), le);
  return write(file, concat([header, ...chunks, ...ifds]));
}

/** An LZW-compressed (optionally tiled) 8/16-bit TIFF written by libtiff through sharp, an encoder independent of ours. */
export async function writeLzwTiff(file: string, dtype: "uint8" | "uint16", w: number, h: number, z: number, tile?: number, bigtiff = false): Promise<string> {
  const bytes = sliceBytes(dtype, w, h, z, true);
  const input = dtype === "uint16" ? new Uint16Array(bytes.buffer) : bytes;
  let s = sharp(input, { raw: { width: w, height: h, channels: 1 } });
  if (dtype === "uint16") s = s.toColourspace("grey16");
  const buf = await s.tiff({ compression: "lzw", bigtiff, ...(tile ? { tile: true, tileWidth: tile, tileHeight: tile } : {}) }).toBuffer();
  return write(file, new Uint8Array(buf));
}

/** A grayscale PNG (8 or 16-bit) of phantom slice z, written by sharp. */
export async function writePng(file: string, dtype: "uint8" | "uint16", w: number, h: number, z: number): Promise<string> {
  const bytes = sliceBytes(dtype, w, h, z, true);
  const input = dtype === "uint16" ? new Uint16Array(bytes.buffer) : bytes;
  let s = sharp(input, { raw: { width: w, height: h, channels: 1 } });
  if (dtype === "uint16") s = s.toColourspace("grey16");
  return write(file, new Uint8Array(await s.png().toBuffer()));
}

/** An RGB picture whose three channels are equal except one known pixel, written by sharp. */
export async function writeRgb(file: string, format: "png" | "jpeg" | "tiff", w: number, h: number, gray: number): Promise<string> {
  const px = new Uint8Array(w * h * 3).fill(gray);
  const s = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  const encoded = format === "png" ? s.png() : format === "jpeg" ? s.jpeg({ quality: 95 }) : s.tiff({ compression: "lzw" });
  return write(file, new Uint8Array(await encoded.toBuffer()));
}

/** A BMP: 8-bit with a gray palette, or 24-bit BGR; bottom-up unless topDown. */
export function writeBmp(file: string, w: number, h: number, z: number, bits: 8 | 24, topDown = false): string {
  const stride = Math.floor((bits * w + 31) / 32) * 4;
  const paletteBytes = bits === 8 ? 1024 : 0;
  const offset = 14 + 40 + paletteBytes;
  const out = new Uint8Array(offset + stride * h);
  const v = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  v.setUint32(2, out.length, true);
  v.setUint32(10, offset, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, w, true);
  v.setInt32(22, topDown ? -h : h, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, bits, true);
  v.setUint32(34, stride * h, true);
  if (bits === 8) for (let i = 0; i < 256; i++) out.set([i, i, i, 0], 54 + i * 4);
  for (let y = 0; y < h; y++) {
    const row = offset + (topDown ? y : h - 1 - y) * stride;
    for (let x = 0; x < w; x++) {
      const val = phantom("uint8", x, y, z);
      if (bits === 8) out[row + x] = val;
      else out.set([val, val, val], row + x * 3);
    }
  }
  return write(file, out);
}

/** A MetaImage header (+ .raw unless LOCAL), returning the header path. */
export function writeMetaImage(
  dir: string,
  name: string,
  o: { dtype: DType; w: number; h: number; d: number; msb?: boolean; local?: boolean; spacing?: number[]; dimsOverride?: string; compressed?: boolean },
): string {
  const met: Record<DType, string> = {
    uint8: "MET_UCHAR",
    int8: "MET_CHAR",
    uint16: "MET_USHORT",
    int16: "MET_SHORT",
    uint32: "MET_UINT",
    int32: "MET_INT",
    float32: "MET_FLOAT",
    float64: "MET_DOUBLE",
  };
  let data = volumeBytes(o.dtype, o.w, o.h, o.d, !o.msb);
  if (o.compressed) data = new Uint8Array(deflateSync(data));
  const ext = o.local ? ".mha" : ".mhd";
  const dataName = o.local ? "LOCAL" : `${name}.${o.compressed ? "zraw" : "raw"}`;
  const header = [
    "ObjectType = Image",
    `NDims = ${o.d > 1 ? 3 : 2}`,
    `BinaryData = True`,
    `BinaryDataByteOrderMSB = ${o.msb ? "True" : "False"}`,
    `CompressedData = ${o.compressed ? "True" : "False"}`,
    `ElementSpacing = ${(o.spacing ?? [0.5, 0.25, 2]).slice(0, o.d > 1 ? 3 : 2).join(" ")}`,
    `DimSize = ${o.dimsOverride ?? (o.d > 1 ? `${o.w} ${o.h} ${o.d}` : `${o.w} ${o.h}`)}`,
    `ElementType = ${met[o.dtype]}`,
    `ElementDataFile = ${dataName}`,
    "",
  ].join("\n");
  const headerPath = path.join(dir, name + ext);
  if (o.local) write(headerPath, concat([new TextEncoder().encode(header), data]));
  else {
    write(headerPath, header);
    write(path.join(dir, dataName), data);
  }
  return headerPath;
}

const NIFTI_CODES: Record<DType, number> = { uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768 };

/** A NIfTI-1 single file (.nii or .nii.gz) of the phantom, with optional scaling and calibration range. */
export function writeNifti(
  file: string,
  o: {
    dtype: DType;
    w: number;
    h: number;
    d: number;
    littleEndian?: boolean;
    pixdim?: number[];
    units?: number;
    slope?: number;
    inter?: number;
    cal?: [number, number];
    dimsOverride?: number[];
    magic?: string;
  },
): string {
  const le = o.littleEndian ?? true;
  const header = new Uint8Array(352);
  const v = new DataView(header.buffer);
  v.setInt32(0, 348, le);
  const dims = o.dimsOverride ?? [3, o.w, o.h, o.d, 1, 1, 1, 1];
  dims.forEach((d, i) => v.setInt16(40 + i * 2, d, le));
  v.setInt16(70, NIFTI_CODES[o.dtype], le);
  v.setInt16(72, BYTES[o.dtype] * 8, le);
  (o.pixdim ?? [1, 0.5, 0.75, 1.5]).forEach((p, i) => v.setFloat32(76 + i * 4, p, le));
  v.setFloat32(108, 352, le);
  v.setFloat32(112, o.slope ?? 0, le);
  v.setFloat32(116, o.inter ?? 0, le);
  header[123] = o.units ?? 2;
  if (o.cal) {
    v.setFloat32(124, o.cal[1], le);
    v.setFloat32(128, o.cal[0], le);
  }
  header.set(new TextEncoder().encode(o.magic ?? "n+1\0"), 344);
  const all = concat([header, volumeBytes(o.dtype, o.w, o.h, o.d, le)]);
  return write(file, file.endsWith(".gz") ? new Uint8Array(gzipSync(all)) : all);
}

/** Writes any bytes (raw data, broken files). */
export function writeBytes(file: string, data: Uint8Array | string): string {
  return write(file, data);
}

// ---------- NRRD, DICOM, Nikon XT, VGStudio ----------

const NRRD_TYPES: Record<DType, string> = {
  uint8: "uchar",
  int8: "signed char",
  uint16: "ushort",
  int16: "short",
  uint32: "uint",
  int32: "int",
  float32: "float",
  float64: "double",
};

/** A NRRD: attached (.nrrd) or detached (.nhdr + data file), raw or gzip, either endian. */
export function writeNrrd(
  dir: string,
  name: string,
  o: {
    dtype: DType;
    w: number;
    h: number;
    d: number;
    littleEndian?: boolean;
    gzip?: boolean;
    detached?: boolean;
    directions?: boolean;
    sizesOverride?: string;
  },
): string {
  const le = o.littleEndian ?? true;
  let data = volumeBytes(o.dtype, o.w, o.h, o.d, le);
  if (o.gzip) data = new Uint8Array(gzipSync(data));
  const dataName = `${name}.raw${o.gzip ? ".gz" : ""}`;
  const lines = [
    "NRRD0004",
    "# written by the Mata reader tests",
    `type: ${NRRD_TYPES[o.dtype]}`,
    "dimension: 3",
    `sizes: ${o.sizesOverride ?? `${o.w} ${o.h} ${o.d}`}`,
    o.directions ? "space: left-posterior-superior" : "spacings: 0.5 0.25 2",
    ...(o.directions ? ["space directions: (0.5,0,0) (0,0.25,0) (0,0,2)", 'space units: "mm" "mm" "mm"'] : []),
    `encoding: ${o.gzip ? "gzip" : "raw"}`,
    `endian: ${le ? "little" : "big"}`,
    ...(o.detached ? [`data file: ${dataName}`] : []),
  ];
  const header = new TextEncoder().encode(lines.join("\n") + "\n\n");
  const file = path.join(dir, `${name}.${o.detached ? "nhdr" : "nrrd"}`);
  if (o.detached) {
    write(file, header);
    write(path.join(dir, dataName), data);
  } else write(file, concat([header, data]));
  return file;
}

/** One DICOM Part 10 slice (uncompressed), explicit or implicit VR little endian, with the geometry tags readers use. */
export function writeDicom(
  file: string,
  o: {
    w: number;
    h: number;
    z: number;
    series: string;
    instance: number;
    position: number;
    implicit?: boolean;
    signed?: boolean;
    slope?: number;
    intercept?: number;
    pixelBytesOverride?: number;
  },
): string {
  const dtype: DType = o.signed ? "int16" : "uint16";
  const enc = new TextEncoder();
  const pad = (s: string, ch: string) => (s.length % 2 ? s + ch : s);
  const elements: Uint8Array[] = [];
  const element = (group: number, el: number, vr: string, value: Uint8Array, explicit: boolean) => {
    const long = ["OB", "OW", "SQ", "UN", "UT"].includes(vr);
    const head = new Uint8Array(explicit ? (long ? 12 : 8) : 8);
    const v = new DataView(head.buffer);
    v.setUint16(0, group, true);
    v.setUint16(2, el, true);
    if (!explicit) v.setUint32(4, value.length, true);
    else {
      head.set(enc.encode(vr), 4);
      if (long) v.setUint32(8, value.length, true);
      else v.setUint16(6, value.length, true);
    }
    return concat([head, value]);
  };
  const str = (s: string, ch = " ") => enc.encode(pad(s, ch));
  const us = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
  const syntax = o.implicit ? "1.2.840.10008.1.2" : "1.2.840.10008.1.2.1";
  const meta = [element(0x0002, 0x0010, "UI", str(syntax, "\0"), true)];
  const ex = !o.implicit;
  const pixels = sliceBytes(dtype, o.w, o.h, o.z, true);
  elements.push(
    element(0x0018, 0x0050, "DS", str("1.5"), ex),
    element(0x0020, 0x000e, "UI", str(o.series, "\0"), ex),
    element(0x0020, 0x0013, "IS", str(String(o.instance)), ex),
    element(0x0020, 0x0032, "DS", str(`-10\\-20\\${o.position}`), ex),
    element(0x0020, 0x0037, "DS", str("1\\0\\0\\0\\1\\0"), ex),
    element(0x0028, 0x0002, "US", us(1), ex),
    element(0x0028, 0x0010, "US", us(o.h), ex),
    element(0x0028, 0x0011, "US", us(o.w), ex),
    element(0x0028, 0x0030, "DS", str("0.25\\0.5"), ex),
    element(0x0028, 0x0100, "US", us(16), ex),
    element(0x0028, 0x0101, "US", us(16), ex),
    element(0x0028, 0x0103, "US", us(o.signed ? 1 : 0), ex),
    element(0x0028, 0x1052, "DS", str(String(o.intercept ?? 0)), ex),
    element(0x0028, 0x1053, "DS", str(String(o.slope ?? 1)), ex),
    element(0x7fe0, 0x0010, "OW", pixels.subarray(0, o.pixelBytesOverride ?? pixels.length), ex),
  );
  const preamble = new Uint8Array(132);
  preamble.set(enc.encode("DICM"), 128);
  return write(file, concat([preamble, ...meta, ...elements]));
}

/** A Nikon XT .xtekct INI with its float32 (or other) .vol. */
export function writeXtek(dir: string, name: string, o: { dtype: DType; w: number; h: number; d: number; voxelsZOverride?: number }): string {
  write(
    path.join(dir, `${name}.xtekct`),
    [
      "[XTekCT]",
      `Name=${name}`,
      `VoxelsX=${o.w}`,
      `VoxelsY=${o.h}`,
      `VoxelsZ=${o.voxelsZOverride ?? o.d}`,
      "VoxelSizeX=0.012",
      "VoxelSizeY=0.012",
      "VoxelSizeZ=0.013",
      "Units=mm",
      "",
    ].join("\r\n"),
  );
  write(path.join(dir, `${name}.vol`), volumeBytes(o.dtype, o.w, o.h, o.d, true));
  return path.join(dir, `${name}.xtekct`);
}

/** A VGStudio .vgi header with its raw volume (and a skipped header of `skip` bytes). */
export function writeVgi(dir: string, name: string, o: { dtype: "uint16" | "float32" | "uint8"; w: number; h: number; d: number; skip?: number }): string {
  const type = o.dtype === "float32" ? "float" : "unsigned integer";
  const bits = o.dtype === "float32" ? 32 : o.dtype === "uint16" ? 16 : 8;
  write(
    path.join(dir, `${name}.vgi`),
    [
      "{volume1}",
      "[representation]",
      `size = ${o.w} ${o.h} ${o.d}`,
      `datatype = ${type}`,
      "datarange = 100 3000",
      `bitsperelement = ${bits}`,
      "[file1]",
      `SkipHeader = ${o.skip ?? 0}`,
      "FileFormat = raw",
      `Size = ${o.w} ${o.h} ${o.d}`,
      `Name = ${name}.vol`,
      `Datatype = ${type}`,
      `BitsPerElement = ${bits}`,
      "{scene}",
      "[geometry]",
      "resolution = 0.05 0.05 0.06",
      "unit = mm",
      "",
    ].join("\n"),
  );
  write(path.join(dir, `${name}.vol`), concat([new Uint8Array(o.skip ?? 0).fill(9), volumeBytes(o.dtype, o.w, o.h, o.d, true)]));
  return path.join(dir, `${name}.vgi`);
}
