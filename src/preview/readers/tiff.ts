import path from "node:path";
import { fromFile, type GeoTIFF, type GeoTIFFImage } from "geotiff";
import type { DType, SliceData, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { DTYPE_BYTES, allocSlice, checkDim, checkSliceSize, kindFor, normaliseUnit, positiveOr1 } from "./dtype.ts";
import { fileSize, guard, throwIfAborted, withHeldPath } from "./file-io.ts";
import { checkZ, rawVolumeSource } from "./raw-volume.ts";
import { registerTiffCodecs } from "./tiff-codecs.ts";
import { omePlaneIndex, parseOme } from "./ome.ts";
import { countTiffPages } from "./tiff-chain.ts";

registerTiffCodecs();

/** What the first page (and the page chain) of a TIFF file says about the picture. */
export interface TiffInfo {
  width: number;
  height: number;
  dtype: DType;
  samples: number;
  /** Indices of the full-resolution pages that are z-slices (reduced-resolution pages and other channels left out). */
  pages: number[];
  spacing: [number, number, number];
  unit: string;
  dataRange?: [number, number];
  notes: string[];
  /** The first page's ImageDescription and Software, Make and Model tags (what the metadata extractors read). */
  header: Record<string, string>;
  /** Set when an ImageJ stack's description promises more images than the file has pages (ImageJ's contiguous layout). */
  contiguous?: { offset: number; images: number; littleEndian: boolean };
}

/** Reads a TIFF's page chain and first-page tags; the file is closed again before returning. */
export async function readTiffInfo(abs: string, rel: string): Promise<TiffInfo> {
  return guard(rel, async () => {
    // The chain is checked first: geotiff would follow a looping one for ever.
    const { tiff, count } = await withHeldPath(abs, rel, async (held, fd) => ({ count: await countTiffPages(fd, rel), tiff: await fromFile(held) }));
    try {
      return await describe(tiff, rel, count);
    } catch (e) {
      throw unreadable(rel, e, "not a readable TIFF file");
    } finally {
      await tiff.close();
    }
  });
}

/** geotiff's own errors ("Invalid field type: 0", a RangeError past a DataView) in words, naming the file. */
function unreadable(rel: string, e: unknown, what: string): unknown {
  if (e instanceof VolumeReadError || (e as Error)?.name === "AbortError") return e;
  return new VolumeReadError(`${rel}: ${what} (${(e as Error)?.message ?? String(e)})`, rel);
}

async function describe(tiff: GeoTIFF, rel: string, count: number): Promise<TiffInfo> {
  const first = await tiff.getImage(0);
  let width: number, height: number;
  try {
    width = checkDim(first.getWidth(), "ImageWidth");
    height = checkDim(first.getHeight(), "ImageLength");
  } catch (e) {
    throw new VolumeReadError(`${rel}: ${(e as Error).message}`, rel);
  }
  const samples = first.getSamplesPerPixel();
  const dtype = pageDType(first, rel);
  try {
    checkSliceSize(width, height, DTYPE_BYTES[dtype] * Math.max(1, Math.min(samples, 3)), `${rel}: first page`);
  } catch (e) {
    throw new VolumeReadError((e as Error).message, rel);
  }
  const fd = first.getFileDirectory();
  const description = String((await fd.loadValue("ImageDescription")) ?? "");
  const ij = parseImageJ(description);
  const notes: string[] = [];
  if (samples >= 3) notes.push("RGB converted to luminance");
  const photometric = Number((await fd.loadValue("PhotometricInterpretation")) ?? 1);
  if (photometric === 3) notes.push("palette colours converted to luminance");
  if (photometric === 0) notes.push("WhiteIsZero inverted");

  let pages: number[] = [];
  const ome = ij ? undefined : parseOme(description);
  if (ome && ome.sizeC * ome.sizeZ * ome.sizeT <= count) {
    // OME-TIFF: planes in the declared dimension order; show channel 0 of the first time point.
    for (let z = 0; z < ome.sizeZ; z++) pages.push(omePlaneIndex(ome, 0, z, 0));
    if (ome.sizeC > 1) notes.push(`first of ${ome.sizeC} channels shown`);
    if (ome.sizeT > 1) notes.push(`first of ${ome.sizeT} time points shown`);
  } else if (ij && (ij.channels > 1 || ij.frames > 1)) {
    // ImageJ hyperstacks store pages channel-fastest, then z, then time: take channel 0 of the first time point.
    const slices = ij.slices || Math.floor(count / (ij.channels * ij.frames));
    for (let z = 0; z < slices && z * ij.channels < count; z++) pages.push(z * ij.channels);
    if (ij.channels > 1) notes.push(`first of ${ij.channels} channels shown`);
    if (ij.frames > 1) notes.push(`first of ${ij.frames} time points shown`);
  } else {
    for (let i = 0; i < count; i++) {
      const img = i === 0 ? first : await tiff.getImage(i);
      const subfile = Number((await img.getFileDirectory().loadValue("NewSubfileType")) ?? 0);
      if (subfile & 1) continue;
      if (img.getWidth() !== width || img.getHeight() !== height) continue;
      pages.push(i);
    }
  }

  const res = await resolution(first);
  let unit = normaliseUnit(ij?.unit) ?? res.unit;
  let sx = res.x;
  let sy = res.y;
  if (!unit || unit === "px") {
    unit = "px";
    sx = sy = 1;
  }
  let sz = ij?.spacing !== undefined ? positiveOr1(ij.spacing) : sx;
  if (ome && ome.physical[0] !== undefined) {
    // OME sizes win over resolution tags; a Z size in another unit is converted only between metric units.
    unit = ome.units[0];
    sx = ome.physical[0];
    sy = ome.physical[1] ?? sx;
    sz = ome.physical[2] !== undefined ? convertLength(ome.physical[2], ome.units[2], unit) : sx;
  }
  const header: Record<string, string> = description ? { description } : {};
  for (const tag of ["Software", "Make", "Model"] as const) {
    const v = await fd.loadValue(tag);
    if (typeof v === "string" && v.trim() !== "") header[tag.toLowerCase()] = v;
  }
  const info: TiffInfo = { width, height, dtype, samples, pages, spacing: [sx, sy, unit === "px" ? 1 : sz], unit, notes, header };
  if (ij?.min !== undefined && ij.max !== undefined && ij.max > ij.min) info.dataRange = [ij.min, ij.max];

  const images = ij ? ij.images || ij.slices : 0;
  if (ij && count === 1 && images > 1 && samples === 1) {
    const compression = Number((await fd.loadValue("Compression")) ?? 1);
    const offsets = (await fd.loadValue("StripOffsets")) as ArrayLike<number> | undefined;
    if (compression === 1 && offsets && offsets.length >= 1) {
      info.contiguous = { offset: Number(offsets[0]), images, littleEndian: first.littleEndian };
      info.pages = [];
      for (let i = 0; i < images; i++) info.pages.push(i);
    }
  }
  return info;
}

const METRES: Record<string, number> = { m: 1, cm: 1e-2, mm: 1e-3, µm: 1e-6, nm: 1e-9 };

/** Converts a length between metric units; unknown units are returned unchanged. */
function convertLength(value: number, from: string, to: string): number {
  const a = METRES[from];
  const b = METRES[to];
  return a !== undefined && b !== undefined ? (value * a) / b : value;
}

function pageDType(img: GeoTIFFImage, rel: string): DType {
  const bits = img.getBitsPerSample(0);
  const format = img.getSampleFormat(0) ?? 1;
  const key = `${format}:${bits}`;
  const map: Record<string, DType> = {
    "1:8": "uint8",
    "2:8": "int8",
    "1:16": "uint16",
    "2:16": "int16",
    "1:32": "uint32",
    "2:32": "int32",
    "3:32": "float32",
    "3:64": "float64",
  };
  const dtype = map[key];
  if (!dtype) throw new VolumeReadError(`${rel}: unsupported TIFF sample type (${bits}-bit, SampleFormat ${format})`, rel);
  return dtype;
}

interface ImageJInfo {
  images: number;
  slices: number;
  channels: number;
  frames: number;
  spacing?: number;
  unit?: string;
  min?: number;
  max?: number;
}

/** Parses an ImageJ ImageDescription ("ImageJ=1.53c\nimages=30\nslices=30\nunit=micron\nspacing=2.5"). */
export function parseImageJ(description: string): ImageJInfo | undefined {
  if (!description.startsWith("ImageJ=")) return undefined;
  const kv = new Map<string, string>();
  for (const line of description.split(/\r?\n/)) {
    const eq = line.indexOf("=");
    if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const int = (k: string) => {
    const v = Number(kv.get(k));
    return Number.isInteger(v) && v > 0 ? v : 0;
  };
  const num = (k: string) => (kv.has(k) && Number.isFinite(Number(kv.get(k))) ? Number(kv.get(k)) : undefined);
  return {
    images: int("images"),
    slices: int("slices"),
    channels: int("channels") || 1,
    frames: int("frames") || 1,
    spacing: num("spacing"),
    unit: kv.get("unit")?.replace(/\\u00B5/gi, "µ"),
    min: num("min"),
    max: num("max"),
  };
}

async function resolution(img: GeoTIFFImage): Promise<{ x: number; y: number; unit: string }> {
  const fd = img.getFileDirectory();
  const rational = (v: unknown): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number") return v;
    const a = v as ArrayLike<number>;
    if (a.length >= 2 && Number(a[1]) !== 0) return Number(a[0]) / Number(a[1]);
    if (a.length === 1) return Number(a[0]);
    return undefined;
  };
  const xr = rational(await fd.loadValue("XResolution"));
  const yr = rational(await fd.loadValue("YResolution")) ?? xr;
  const ru = Number((await fd.loadValue("ResolutionUnit")) ?? 2);
  if (!xr || !yr || !(xr > 0) || !(yr > 0)) return { x: 1, y: 1, unit: "px" };
  // Resolution is pixels per unit; inch and centimetre are given as millimetres per pixel.
  if (ru === 2) return { x: 25.4 / xr, y: 25.4 / yr, unit: "mm" };
  if (ru === 3) return { x: 10 / xr, y: 10 / yr, unit: "mm" };
  return { x: 1 / xr, y: 1 / yr, unit: "px" };
}

/** Decodes one page as a single-channel slice of the expected size (RGB pages become luminance). */
export async function readTiffPage(
  tiff: GeoTIFF,
  index: number,
  expect: { width: number; height: number; dtype: DType },
  rel: string,
  fileBytes: number,
  signal?: AbortSignal,
): Promise<SliceData> {
  const img = await tiff.getImage(index);
  if (img.getWidth() !== expect.width || img.getHeight() !== expect.height) {
    throw new VolumeReadError(`${rel}: page ${index} is ${img.getWidth()}x${img.getHeight()}, the volume is ${expect.width}x${expect.height}`, rel);
  }
  const dtype = pageDType(img, rel);
  if (dtype !== expect.dtype) throw new VolumeReadError(`${rel}: page ${index} is ${dtype}, the volume is ${expect.dtype}`, rel);
  await checkBlocks(img, fileBytes, index, rel, DTYPE_BYTES[dtype]);
  const samples = img.getSamplesPerPixel();
  const decode = async (which: number[]) => {
    try {
      return await img.readRasters({ samples: which, interleave: false, signal });
    } catch (e) {
      throw unreadable(rel, e, `page ${index} cannot be decoded`);
    }
  };
  if (samples >= 3) {
    const [r, g, b] = (await decode([0, 1, 2])) as unknown as ArrayLike<number>[];
    return luminance(r!, g!, b!, dtype);
  }
  const rasters = (await decode([0])) as unknown as SliceData[];
  const plane = rasters[0]!;
  const photometric = Number((await img.getFileDirectory().loadValue("PhotometricInterpretation")) ?? 1);
  if (photometric === 3) return applyPalette(plane, (await img.getFileDirectory().loadValue("ColorMap")) as ArrayLike<number> | undefined, dtype, rel);
  if (photometric === 0 && (dtype === "uint8" || dtype === "uint16")) {
    // WhiteIsZero: flip so that bright is high, as every other source is.
    const max = dtype === "uint8" ? 255 : 65535;
    for (let i = 0; i < plane.length; i++) plane[i] = max - (plane[i] as number);
  }
  return plane;
}

/** Palette pages show the luminance of each index's colour (a gray ramp palette gives the gray values back). */
function applyPalette(indices: SliceData, colorMap: ArrayLike<number> | undefined, dtype: DType, rel: string): SliceData {
  const entries = colorMap ? Math.floor(colorMap.length / 3) : 0;
  if (!colorMap || entries === 0) throw new VolumeReadError(`${rel}: palette TIFF without a ColorMap`, rel);
  const lut = new Float64Array(entries);
  const scale = dtype === "uint8" ? 1 / 257 : 1;
  for (let i = 0; i < entries; i++) {
    const r = Number(colorMap[i]),
      g = Number(colorMap[entries + i]),
      b = Number(colorMap[2 * entries + i]);
    lut[i] = Math.round((0.2126 * r + 0.7152 * g + 0.0722 * b) * scale);
  }
  const out = allocSlice(dtype, indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i] as number;
    if (k >= entries) throw new VolumeReadError(`${rel}: palette index ${k} beyond the ColorMap's ${entries} entries`, rel);
    out[i] = lut[k]!;
  }
  return out;
}

/** The largest tile decoded for a page smaller than it (a 4096x4096 16-bit tile). */
const MAX_TILE_BYTES = 32 * 1024 * 1024;

/**
 * Checks every strip or tile of a page lies inside the file before decoding: a corrupt count or offset
 * would otherwise make the decoder read and inflate garbage for seconds.
 */
async function checkBlocks(img: GeoTIFFImage, fileBytes: number, index: number, rel: string, sampleBytes: number): Promise<void> {
  const fd = img.getFileDirectory();
  const tiled = fd.hasTag("TileOffsets");
  const offsets = (await fd.loadValue(tiled ? "TileOffsets" : "StripOffsets")) as ArrayLike<number> | undefined;
  const counts = (await fd.loadValue(tiled ? "TileByteCounts" : "StripByteCounts")) as ArrayLike<number> | undefined;
  const bad = (why: string) => new VolumeReadError(`${rel}: page ${index}: ${why}`, rel);
  const scalar = async (tag: "TileWidth" | "TileLength" | "RowsPerStrip", fallback?: number): Promise<number> => {
    const v = await fd.loadValue(tag);
    const n = v === undefined ? fallback : typeof v === "number" ? v : (v as ArrayLike<number>).length === 1 ? Number((v as ArrayLike<number>)[0]) : NaN;
    if (n === undefined || !Number.isInteger(n) || n < 1) throw bad(`invalid ${tag}`);
    return n;
  };
  for (const tag of ["Compression", "PhotometricInterpretation", "SamplesPerPixel", "PlanarConfiguration", "Predictor"] as const) {
    const v = await fd.loadValue(tag);
    if (v !== undefined && typeof v !== "number" && (v as ArrayLike<number>).length !== 1) throw bad(`invalid ${tag}`);
  }
  for (const tag of ["BitsPerSample", "SampleFormat"] as const) {
    const v = await fd.loadValue(tag);
    if (v !== undefined && typeof v !== "number" && (v as ArrayLike<number>).length > img.getSamplesPerPixel()) throw bad(`invalid ${tag}`);
  }
  const width = img.getWidth();
  const height = img.getHeight();
  const planes = Number((await fd.loadValue("PlanarConfiguration")) ?? 1) === 2 ? img.getSamplesPerPixel() : 1;
  let expected: number;
  if (tiled) {
    const tw = await scalar("TileWidth");
    const th = await scalar("TileLength");
    // A tile is decoded whole before it is cut to the page: one far larger than the page is a lie to allocate for.
    const pixelBytes = sampleBytes * (planes === 1 ? img.getSamplesPerPixel() : 1);
    if (tw * th * pixelBytes > Math.max(width * height * pixelBytes, MAX_TILE_BYTES))
      throw bad(`a ${tw}x${th} tile is far larger than the ${width}x${height} page`);
    expected = Math.ceil(width / tw) * Math.ceil(height / th) * planes;
  } else {
    const rps = Math.min(await scalar("RowsPerStrip", height), height);
    expected = Math.ceil(height / rps) * planes;
  }
  if (!offsets || !counts || offsets.length !== expected || counts.length !== expected) {
    throw bad(`the ${tiled ? "tile" : "strip"} table has ${offsets?.length ?? 0} offsets and ${counts?.length ?? 0} byte counts, the layout needs ${expected}`);
  }
  for (let i = 0; i < offsets.length; i++) {
    if (Number(offsets[i]) + Number(counts[i]) > fileBytes) {
      throw new VolumeReadError(
        `${rel}: ${tiled ? "tile" : "strip"} ${i} of page ${index} ends at byte ${Number(offsets[i]) + Number(counts[i])}, past the end of the file (${fileBytes} bytes): truncated or corrupt`,
        rel,
      );
    }
  }
}

/** Rec. 709 luma of three planes, kept in the source sample type (the viewer shows grayscale tiles). */
export function luminance(r: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, dtype: DType): SliceData {
  const out = allocSlice(dtype, r.length);
  const round = dtype !== "float32" && dtype !== "float64";
  for (let i = 0; i < r.length; i++) {
    const y = 0.2126 * r[i]! + 0.7152 * g[i]! + 0.0722 * b[i]!;
    out[i] = round ? Math.round(y) : y;
  }
  return out;
}

/** A multi-page TIFF: each full-resolution page is a slice; the file stays open until close(). */
export async function openMultiPageTiff(root: string, rel: string, info: TiffInfo): Promise<VolumeSource> {
  const abs = path.join(root, rel);
  const base = {
    format: "tiff-multipage",
    file: rel,
    files: [rel],
    width: info.width,
    height: info.height,
    depth: info.pages.length,
    dtype: info.dtype,
    spacing: info.spacing,
    unit: info.unit,
    ...(info.dataRange ? { dataRange: info.dataRange } : {}),
    ...(info.notes.length ? { notes: info.notes } : {}),
    header: info.header,
  };
  if (info.contiguous) {
    return rawVolumeSource(
      { ...base, format: "tiff-imagej" },
      { dataPath: abs, dataName: rel, offset: info.contiguous.offset, littleEndian: info.contiguous.littleEndian, compression: "none" },
    );
  }
  let opened: Promise<GeoTIFF> | undefined;
  return {
    ...base,
    kind: kindFor(base.depth),
    async readSlice(z, signal) {
      checkZ(z, base.depth, rel);
      throwIfAborted(signal);
      return guard(rel, async () => {
        opened ??= withHeldPath(abs, rel, (held) => fromFile(held));
        return readTiffPage(await opened, info.pages[z]!, info, rel, await fileSize(abs, rel), signal);
      });
    },
    async close() {
      const t = opened;
      opened = undefined;
      if (t) await (await t.catch(() => undefined))?.close();
    },
  };
}

/** A stack of single-page TIFF files, one per slice, in the given (natural) order. */
export function openTiffStack(root: string, rels: string[], info: TiffInfo): VolumeSource {
  return {
    format: rels.length > 1 ? "tiff-stack" : "tiff",
    kind: kindFor(rels.length),
    file: rels[0]!,
    files: rels,
    width: info.width,
    height: info.height,
    depth: rels.length,
    dtype: info.dtype,
    spacing: info.spacing,
    unit: info.unit,
    ...(info.dataRange ? { dataRange: info.dataRange } : {}),
    ...(info.notes.length ? { notes: info.notes } : {}),
    header: info.header,
    async readSlice(z, signal) {
      checkZ(z, rels.length, rels[0]!);
      throwIfAborted(signal);
      const rel = rels[z]!;
      return guard(rel, async () => {
        const abs = path.join(root, rel);
        const tiff = await withHeldPath(abs, rel, (held) => fromFile(held));
        try {
          return await readTiffPage(tiff, 0, info, rel, await fileSize(abs, rel), signal);
        } finally {
          await tiff.close();
        }
      });
    },
    async close() {},
  };
}
