import path from "node:path";
import type { VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { groupNumbered } from "./stack.ts";
import { openMetaImage } from "./metaimage.ts";
import { openNifti } from "./nifti.ts";
import { openNrrd } from "./nrrd.ts";
import { openXtek } from "./xtek.ts";
import { openVgi } from "./vgi.ts";
import { groupSeries, hasDicomMagic, openDicomSeries, readDicomSlice, type DicomHeaderListener, type DicomSlice } from "./dicom.ts";
import { MAX_TEXT_HEADER, readHead, readWhole } from "./file-io.ts";
import { openMultiPageTiff, openTiffStack, readTiffInfo, type TiffInfo } from "./tiff.ts";
import { openPictures, readPictureInfo, type PictureInfo } from "./image2d.ts";
import { openBmps, readBmpInfo, type BmpInfo } from "./bmp.ts";

/** The outcome of looking at a dataset: readable sources and recognised files that are broken. */
export interface VolumeScan {
  sources: VolumeSource[];
  failures: VolumeReadError[];
}

/** A header format: which names it answers to and how to open one. */
interface HeaderFormat {
  test: RegExp;
  open: (root: string, rel: string) => Promise<VolumeSource>;
  /** For ambiguous extensions: only files whose first bytes pass are treated as this format. */
  sniff?: (head: Uint8Array) => boolean;
}

/** NIfTI-1 pair headers (.hdr) share the extension with other formats: sizeof_hdr 348 in either byte order. */
function isNiftiHeader(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const v = new DataView(head.buffer, head.byteOffset, 4);
  return v.getInt32(0, true) === 348 || v.getInt32(0, false) === 348;
}

const HEADER_FORMATS: HeaderFormat[] = [
  { test: /\.(mhd|mha)$/i, open: openMetaImage },
  { test: /\.nii(\.gz)?$/i, open: openNifti },
  { test: /\.(nrrd|nhdr)$/i, open: openNrrd },
  { test: /\.(xtekct|xtekvolume)$/i, open: openXtek },
  { test: /\.vgi$/i, open: openVgi },
  { test: /\.hdr$/i, open: openNifti, sniff: isNiftiHeader },
];

const TIFF = /\.tiff?$/i;
const PNG = /\.png$/i;
const JPEG = /\.jpe?g$/i;
const BMP = /\.bmp$/i;
const DICOM = /\.(dcm|dicom|ima)$/i;
const NO_EXTENSION = /(^|\/)[^./]+$/;

// Data files that headers name (MetaImage ElementDataFile, NRRD data file, Analyze .img, Nikon .vol, gzip'ed ones).
const DATA_FILE = /\.(raw|zraw|img|vol|dat|bin|gz)$/i;

/**
 * Whether a file may be read by a preview: every header format above, the data files headers usually name,
 * pictures, and DICOM (also without an extension). A change to any other file (notes, logs) never rebuilds one.
 */
export function isVolumeInput(rel: string): boolean {
  if (rel.startsWith(".mata/") || rel.includes("/.mata/") || isZarrPart(rel)) return false;
  return HEADER_FORMATS.some((f) => f.test.test(rel)) || [TIFF, PNG, JPEG, BMP, DICOM, DATA_FILE, NO_EXTENSION].some((re) => re.test(rel));
}

/** What a caller may see besides the sources while the readers look at a dataset. */
export interface ScanOptions {
  /** Called with each DICOM header parsed (or what parsed of it), so metadata extraction reads no file twice. */
  onDicomHeader?: DicomHeaderListener;
}

/** A file inside a Zarr store (an OME-Zarr export's chunks and metadata): never a volume of its own to preview. */
function isZarrPart(rel: string): boolean {
  return /(^|\/)[^/]*\.zarr\//i.test(rel) || /(^|\/)\.mata-tmp-[^/]*\//.test(rel);
}

/** Finds every volume and 2D image among a dataset's files; broken ones are reported, never thrown past here. */
export async function scanVolumes(root: string, files: string[], opts: ScanOptions = {}): Promise<VolumeScan> {
  const sources: VolumeSource[] = [];
  const failures: VolumeReadError[] = [];
  const claimed = new Set<string>();
  const candidates = files.filter((f) => !f.startsWith(".mata/") && !f.includes("/.mata/") && !isZarrPart(f)).sort();
  const attempt = async (file: string, step: () => Promise<VolumeSource | VolumeSource[]>) => {
    try {
      const got = await step();
      for (const s of Array.isArray(got) ? got : [got]) {
        sources.push(s);
        for (const f of s.files) claimed.add(f);
      }
    } catch (e) {
      failures.push(asReadError(file, e));
    }
  };

  for (const file of candidates) {
    const format = HEADER_FORMATS.find((f) => f.test.test(file));
    if (!format) continue;
    if (format.sniff && !format.sniff(await readHead(path.join(root, file), 16).catch(() => new Uint8Array()))) continue;
    await attempt(file, () => format.open(root, file));
  }
  const free = (re: RegExp) => candidates.filter((f) => re.test(f) && !claimed.has(f));

  for (const group of groupNumbered(free(TIFF))) {
    await attempt(group.files[0]!, () => openTiffGroup(root, group.files));
  }
  for (const group of groupNumbered(free(PNG))) {
    await attempt(group.files[0]!, () =>
      openStackOrSingles(
        root,
        group.files,
        (a, r) => readPictureInfo(a, r),
        sameSize,
        (rels, info) => openPictures(root, rels, info, rels.length > 1 ? "png-stack" : "png"),
      ),
    );
  }
  for (const file of free(JPEG)) {
    await attempt(file, async () => openPictures(root, [file], await readPictureInfo(path.join(root, file), file), "jpeg"));
  }
  for (const group of groupNumbered(free(BMP))) {
    await attempt(group.files[0]!, () =>
      openStackOrSingles(
        root,
        group.files,
        (a, r) => readBmpInfo(a, r),
        sameSize,
        (rels, info) => openBmps(root, rels, info),
      ),
    );
  }
  await scanDicom(
    root,
    candidates.filter((f) => !claimed.has(f) && (DICOM.test(f) || NO_EXTENSION.test(f))),
    sources,
    failures,
    opts.onDicomHeader,
  );
  await applySkyScanLogs(root, candidates, sources);
  sources.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { sources, failures };
}

/** A reader's failure as it is recorded; one that is no VolumeReadError is a fault of ours or a library's, said so. */
function asReadError(file: string, e: unknown): VolumeReadError {
  if (e instanceof VolumeReadError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  return new VolumeReadError(`${file}: unexpected error while reading it (${err.name}: ${err.message || "no message"})`, file);
}

function sameSize(a: PictureInfo | BmpInfo, b: PictureInfo | BmpInfo): boolean {
  return a.width === b.width && a.height === b.height && ("dtype" in a && "dtype" in b ? a.dtype === b.dtype : true);
}

/** Numbered files become one stack when the first and last agree in size and type; otherwise each stands alone. */
async function openStackOrSingles<I>(
  root: string,
  rels: string[],
  info: (abs: string, rel: string) => Promise<I>,
  compatible: (a: I, b: I) => boolean,
  open: (rels: string[], info: I) => VolumeSource,
): Promise<VolumeSource[]> {
  const first = await info(path.join(root, rels[0]!), rels[0]!);
  if (rels.length === 1) return [open(rels, first)];
  const last = await info(path.join(root, rels.at(-1)!), rels.at(-1)!);
  if (compatible(first, last)) return [open(rels, first)];
  const out: VolumeSource[] = [open([rels[0]!], first), open([rels.at(-1)!], last)];
  for (const rel of rels.slice(1, -1)) out.push(open([rel], await info(path.join(root, rel), rel)));
  return out;
}

/** A numbered run of single-page TIFFs is a stack; a multi-page TIFF is a volume by itself; a lone page is an image. */
async function openTiffGroup(root: string, rels: string[]): Promise<VolumeSource[]> {
  const single = async (rel: string, info?: TiffInfo): Promise<VolumeSource> => {
    const i = info ?? (await readTiffInfo(path.join(root, rel), rel));
    if (i.pages.length === 0) throw new VolumeReadError(`${rel}: TIFF has no full-resolution page`, rel);
    return i.pages.length > 1 || i.contiguous ? openMultiPageTiff(root, rel, i) : openTiffStack(root, [rel], { ...i, notes: i.notes });
  };
  const first = await readTiffInfo(path.join(root, rels[0]!), rels[0]!);
  if (rels.length > 1 && first.pages.length === 1 && !first.contiguous) {
    const last = await readTiffInfo(path.join(root, rels.at(-1)!), rels.at(-1)!);
    if (last.pages.length === 1 && last.width === first.width && last.height === first.height && last.dtype === first.dtype) {
      return [openTiffStack(root, rels, first)];
    }
  }
  const out: VolumeSource[] = [];
  for (const rel of rels) {
    // A broken member of a run that is not a stack must not hide the good ones.
    out.push(await single(rel, rel === rels[0] ? first : undefined));
  }
  return out;
}

/** DICOM headers read at the same time; each is at most 64 MiB (a hostile one), so this bounds the memory too. */
const DICOM_READS_AT_ONCE = 4;

/** Reads the header of every DICOM candidate, then opens one source per series; extension-less files need the DICM marker. */
async function scanDicom(root: string, files: string[], sources: VolumeSource[], failures: VolumeReadError[], onHeader?: DicomHeaderListener): Promise<void> {
  const one = async (file: string): Promise<DicomSlice | VolumeReadError | undefined> => {
    if (!DICOM.test(file)) {
      const head = await readHead(path.join(root, file), 132).catch(() => new Uint8Array());
      if (!hasDicomMagic(head)) return undefined;
    }
    try {
      return await readDicomSlice(root, file, onHeader);
    } catch (e) {
      return asReadError(file, e);
    }
  };
  // A few headers read at once (a series is hundreds of small reads); results are kept in file order.
  const results: (DicomSlice | VolumeReadError | undefined)[] = new Array(files.length);
  let next = 0;
  const reader = async () => {
    for (let i = next++; i < files.length; i = next++) results[i] = await one(files[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(DICOM_READS_AT_ONCE, files.length) }, reader));
  const slices: DicomSlice[] = [];
  for (const r of results) {
    if (r instanceof VolumeReadError) failures.push(r);
    else if (r) slices.push(r);
  }
  for (const series of groupSeries(slices)) sources.push(openDicomSeries(root, series));
}

/** Bruker SkyScan writes reconstructions as plain image stacks and the voxel size only in "*_rec.log" beside them. */
async function applySkyScanLogs(root: string, files: string[], sources: VolumeSource[]): Promise<void> {
  const sizes = new Map<string, number>();
  for (const log of files.filter((f) => /_rec\.log$/i.test(f))) {
    const text = new TextDecoder("latin1").decode(await readWhole(path.join(root, log), log, MAX_TEXT_HEADER).catch(() => new Uint8Array()));
    const m = text.match(/^Pixel Size \(um\)\s*=\s*([0-9.eE+-]+)/m);
    const size = m ? Number(m[1]) : NaN;
    if (Number.isFinite(size) && size > 0) sizes.set(path.posix.dirname(log), size);
  }
  for (const s of sources) {
    const size = sizes.get(path.posix.dirname(s.file));
    if (size === undefined || s.unit !== "px" || !/-stack$/.test(s.format)) continue;
    s.spacing = [size, size, size];
    s.unit = "µm";
  }
}
