import path from "node:path";
import * as dicomParserModule from "dicom-parser";
import type { DataSet } from "dicom-parser";
import type { DType, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { kindFor, positiveOr1, toSlice, DTYPE_BYTES } from "./dtype.ts";
import { PositionedFile, readHead, throwIfAborted } from "./file-io.ts";
import { checkZ } from "./raw-volume.ts";
import { naturalCompare } from "./stack.ts";

const dicomParser = ((dicomParserModule as unknown as { default?: typeof dicomParserModule }).default ?? dicomParserModule) as typeof dicomParserModule;

const IMPLICIT_LE = "1.2.840.10008.1.2";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";
const EXPLICIT_BE = "1.2.840.10008.1.2.2";
const UNCOMPRESSED = new Set([IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE]);

/** The tags of one DICOM file that place it in a series and locate its pixels. */
export interface DicomSlice {
  file: string;
  series: string;
  rows: number;
  columns: number;
  dtype: DType;
  frames: number;
  littleEndian: boolean;
  pixelOffset: number;
  pixelLength: number;
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  spacingBetween?: number;
  position?: [number, number, number];
  orientation?: number[];
  instance?: number;
  slope: number;
  intercept: number;
  window?: [number, number];
}

/**
 * How much of a file is parsed looking for the pixels: the first 16 KiB, and a longer start when the header goes on
 * (Siemens CSA data), up to 64 MiB. No DICOM file is read whole: it may be gigabytes of frames, or of zeros.
 */
const HEADER_READS = [16 * 1024, 1024 * 1024, 64 * 1024 * 1024];

/** A parsed header, or why it failed with what was parsed before (the parser throws strings, Errors, or either wrapped). */
function parseHeader(bytes: Uint8Array, magic: boolean): { ds?: DataSet; partial?: DataSet; reason?: string } {
  try {
    return { ds: dicomParser.parseDicom(bytes, magic ? { untilTag: "x7fe00010" } : { untilTag: "x7fe00010", TransferSyntaxUID: IMPLICIT_LE }) };
  } catch (e) {
    const inner = (e as { exception?: unknown })?.exception ?? e;
    const partial = (e as { dataSet?: DataSet })?.dataSet;
    // It recurses into nested sequences: thousands of levels overflow the stack.
    if (inner instanceof RangeError && /call stack/i.test(inner.message)) return { partial, reason: "sequences nested too deeply" };
    const reason = String(inner instanceof Error ? inner.message : inner).replace(/^dicomParser[.:]\w+: /, "");
    return { partial, reason: reason === "buffer overrun" ? "truncated: an element runs past the end of the file" : reason };
  }
}

/** Whether a file looks like DICOM: the "DICM" marker after the 128-byte preamble. */
export function hasDicomMagic(head: Uint8Array): boolean {
  return head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d;
}

/** A DICOM header as parsed up to its Pixel Data: the data set (or what parsed before a fault), the DICM marker, and
 * whether the read stopped short of the file's end. */
export interface DicomHeader {
  ds?: DataSet;
  partial?: DataSet;
  reason?: string;
  magic: boolean;
  cut: boolean;
}

/** Told each DICOM header a scan parsed (a partial one too), with the file's dataset-relative name. */
export type DicomHeaderListener = (rel: string, ds: DataSet) => void;

/**
 * Parses a DICOM file's header from its first 16 KiB, reading longer starts (up to 64 MiB) only while the header goes
 * on; the slice reader's first step, whose result metadata extraction also sees (scanVolumes' `onDicomHeader`).
 */
export async function readDicomHeader(root: string, rel: string): Promise<DicomHeader> {
  const abs = path.join(root, rel);
  let magic = false;
  let parsed: ReturnType<typeof parseHeader> = {};
  let cut = false;
  for (const size of HEADER_READS) {
    const bytes = await readHead(abs, size, rel);
    if (size === HEADER_READS[0]) magic = hasDicomMagic(bytes);
    parsed = parseHeader(bytes, magic);
    cut = bytes.length === size;
    const elements = (parsed.ds ?? parsed.partial)?.elements ?? {};
    // Without the DICM marker only a start that parsed as DICOM (group 0008 is in every image) is worth a longer read.
    const promising = magic || Object.keys(elements).some((t) => t.startsWith("x0008"));
    if (!cut || parsed.ds?.elements["x7fe00010"] || !promising) break;
  }
  return { ...parsed, magic, cut };
}

/**
 * Reads a DICOM file's header (not its pixels) and checks it is an uncompressed, single-sample image;
 * undefined for DICOM objects that hold no image at all (DICOMDIR, reports, presentation states).
 */
export async function readDicomSlice(root: string, rel: string, onHeader?: DicomHeaderListener): Promise<DicomSlice | undefined> {
  const fail = (why: string) => new VolumeReadError(`${rel}: ${why}`, rel);
  const { magic, cut, ...parsed } = await readDicomHeader(root, rel);
  const parsedSet = parsed.ds ?? parsed.partial;
  if (onHeader && parsedSet) onHeader(rel, parsedSet);
  const maxMiB = HEADER_READS.at(-1)! / 1048576;
  const seen = parsed.ds ?? parsed.partial;
  // A DICOM object that is no image (a DICOMDIR, a report, an encapsulated PDF) may be long: no Rows, nothing to show.
  if (magic && cut && !seen?.elements["x7fe00010"] && !seen?.elements["x00280010"]) return undefined;
  if (cut && seen?.elements["x00280010"] && !seen.elements["x7fe00010"]) throw fail(`no Pixel Data within the first ${maxMiB} MiB: not a readable DICOM file`);
  const ds = parsed.ds;
  if (!ds) throw fail(`not a readable DICOM file (${parsed.reason})`);
  if (!ds.elements["x7fe00010"] && !ds.elements["x00280010"]) {
    if (!magic) throw fail("not a DICOM file (no DICM marker and no image tags)");
    const unclosed = (ds.warnings ?? []).find((w) => w.startsWith("eof encountered"));
    if (unclosed) throw fail("not a readable DICOM file (a sequence runs to the end of the file without being closed)");
    return undefined;
  }
  const syntax = (ds.string("x00020010") ?? IMPLICIT_LE).replace(/\0/g, "").trim();
  if (!UNCOMPRESSED.has(syntax)) throw fail(`compressed DICOM (transfer syntax ${syntax}) is not supported`);
  const rows = ds.uint16("x00280010") ?? 0;
  const columns = ds.uint16("x00280011") ?? 0;
  if (!rows || !columns) throw fail("DICOM file has no image (Rows/Columns missing)");
  const samples = ds.uint16("x00280002") ?? 1;
  if (samples !== 1) throw fail(`DICOM with ${samples} samples per pixel (colour) is not supported`);
  const bits = ds.uint16("x00280100") ?? 16;
  const signed = (ds.uint16("x00280103") ?? 0) === 1;
  const dtype: DType | undefined = (
    { 8: signed ? "int8" : "uint8", 16: signed ? "int16" : "uint16", 32: signed ? "int32" : "uint32" } as Record<number, DType>
  )[bits];
  if (!dtype) throw fail(`unsupported Bits Allocated ${bits}`);
  const pixel = ds.elements["x7fe00010"];
  if (!pixel) throw fail("DICOM file has no Pixel Data element");
  const declaredFrames = ds.intString("x00280008") ?? 1;
  const frames = Number.isSafeInteger(declaredFrames) && declaredFrames > 1 ? declaredFrames : 1;
  const needed = rows * columns * DTYPE_BYTES[dtype] * frames;
  if (pixel.length === 0xffffffff) throw fail("encapsulated (compressed) pixel data is not supported");
  if (pixel.length < needed)
    throw fail(`Pixel Data holds ${pixel.length} bytes, ${columns}x${rows}x${frames} ${dtype} needs ${needed.toLocaleString("en-US")}`);
  const nums = (tag: string) => {
    const s = ds.string(tag);
    if (!s) return undefined;
    const v = s.split("\\").map((x) => Number(x.trim()));
    return v.every(Number.isFinite) ? v : undefined;
  };
  const ps = nums("x00280030");
  const pos = nums("x00200032");
  const slope = ds.floatString("x00281053") ?? 1;
  const intercept = ds.floatString("x00281052") ?? 0;
  const centre = nums("x00281050")?.[0];
  const width = nums("x00281051")?.[0];
  const slice: DicomSlice = {
    file: rel,
    series: (ds.string("x0020000e") ?? `folder:${path.posix.dirname(rel)}`).trim(),
    rows,
    columns,
    dtype,
    frames,
    littleEndian: syntax !== EXPLICIT_BE,
    pixelOffset: pixel.dataOffset,
    pixelLength: pixel.length,
    slope: slope || 1,
    intercept,
  };
  if (ps && ps.length >= 2) slice.pixelSpacing = [ps[0]!, ps[1]!];
  const thickness = ds.floatString("x00180050");
  if (thickness !== undefined && Number.isFinite(thickness)) slice.sliceThickness = thickness;
  const between = ds.floatString("x00180088");
  if (between !== undefined && Number.isFinite(between)) slice.spacingBetween = between;
  if (pos && pos.length >= 3) slice.position = [pos[0]!, pos[1]!, pos[2]!];
  const orient = nums("x00200037");
  if (orient && orient.length >= 6) slice.orientation = orient;
  const instance = ds.intString("x00200013");
  if (instance !== undefined && Number.isFinite(instance)) slice.instance = instance;
  if (centre !== undefined && width !== undefined && width > 0) {
    const a = (centre - width / 2 - intercept) / slice.slope;
    const b = (centre + width / 2 - intercept) / slice.slope;
    slice.window = [Math.min(a, b), Math.max(a, b)];
  }
  return slice;
}

/** Orders a series along the slice normal (Image Position · (row × column direction)), else by Instance Number. */
export function sortSeries(slices: DicomSlice[]): DicomSlice[] {
  const o = slices[0]?.orientation;
  const normal = o ? [o[1]! * o[5]! - o[2]! * o[4]!, o[2]! * o[3]! - o[0]! * o[5]!, o[0]! * o[4]! - o[1]! * o[3]!] : [0, 0, 1];
  const key = (s: DicomSlice) => (s.position ? s.position[0] * normal[0]! + s.position[1] * normal[1]! + s.position[2] * normal[2]! : undefined);
  const allPositioned = slices.every((s) => key(s) !== undefined);
  return slices.slice().sort((a, b) => {
    if (allPositioned && key(a) !== key(b)) return key(a)! - key(b)!;
    if (a.instance !== undefined && b.instance !== undefined && a.instance !== b.instance) return a.instance - b.instance;
    return naturalCompare(a.file, b.file);
  });
}

/** Groups DICOM slices into series (by Series Instance UID and image geometry); multi-frame files stand alone. */
export function groupSeries(slices: DicomSlice[]): DicomSlice[][] {
  const groups = new Map<string, DicomSlice[]>();
  for (const s of slices) {
    const key = s.frames > 1 ? `file:${s.file}` : `${s.series}|${s.rows}|${s.columns}|${s.dtype}`;
    const list = groups.get(key) ?? [];
    list.push(s);
    groups.set(key, list);
  }
  return [...groups.values()].map(sortSeries);
}

/** A DICOM series (one file per slice, each slice a positioned read of its pixel bytes) or one multi-frame file. */
export function openDicomSeries(root: string, series: DicomSlice[]): VolumeSource {
  const first = series[0]!;
  const multiFrame = first.frames > 1;
  const depth = multiFrame ? first.frames : series.length;
  let dz = first.spacingBetween ?? first.sliceThickness ?? 1;
  const p0 = series[0]?.position;
  const p1 = series[1]?.position;
  if (p0 && p1) {
    const d = Math.hypot(p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]);
    if (d > 0) dz = d;
  }
  const sliceBytes = first.rows * first.columns * DTYPE_BYTES[first.dtype];
  const scaled = first.slope !== 1 || first.intercept !== 0;
  return {
    kind: kindFor(depth),
    format: multiFrame ? "dicom-multiframe" : series.length > 1 ? "dicom-series" : "dicom",
    file: first.file,
    files: series.map((s) => s.file),
    width: first.columns,
    height: first.rows,
    depth,
    dtype: first.dtype,
    // Pixel Spacing is "row spacing \ column spacing": x is the column spacing.
    spacing: first.pixelSpacing ? [positiveOr1(first.pixelSpacing[1]), positiveOr1(first.pixelSpacing[0]), positiveOr1(dz)] : [1, 1, 1],
    unit: first.pixelSpacing ? "mm" : "px",
    ...(first.window ? { dataRange: first.window } : {}),
    ...(scaled ? { valueScale: { slope: first.slope, intercept: first.intercept } } : {}),
    async readSlice(z, signal) {
      checkZ(z, depth, first.file);
      throwIfAborted(signal);
      const slice = multiFrame ? first : series[z]!;
      if (slice.rows !== first.rows || slice.columns !== first.columns) {
        throw new VolumeReadError(`${slice.file}: slice is ${slice.columns}x${slice.rows}, the series is ${first.columns}x${first.rows}`, slice.file);
      }
      const file = new PositionedFile(path.join(root, slice.file), slice.file);
      const offset = slice.pixelOffset + (multiFrame ? z * sliceBytes : 0);
      return toSlice(first.dtype, await file.readExact(offset, sliceBytes), slice.littleEndian);
    },
    async close() {},
  };
}
