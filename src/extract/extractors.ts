// The built-in extractors: from a dataset's files to its `Scan` subtree (instrument settings) and `Image` subtree (size,
// type and spacing). Geometry and header fields come from the preview readers (src/preview/readers/), which already
// parse every format beneath the share root; this file only decides what of it becomes a tag and how it is written.
import path from "node:path";
import { scanVolumes, type VolumeSource } from "../preview/readers/index.ts";
import type { DataSet } from "dicom-parser";
import { MAX_TEXT_HEADER, readWhole } from "../preview/readers/file-io.ts";
import { iniFields, parseIni } from "../preview/readers/ini.ts";
import { parseImageJ } from "../preview/readers/tiff.ts";
import { printable } from "../preview/readers/reader.types.ts";
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from "../tags/tag-limits.ts";
import type { TagNode } from "../tags/tag.types.ts";
import { dicomAttributes, formatNumber, withUnit } from "./dicom-attributes.ts";

/** The top-level keys the built-in extractors own. */
export const SCAN_KEY = "Scan";
export const IMAGE_KEY = "Image";

/** The order settings appear in under `Scan`, whichever file gave them. */
const SCAN_ORDER = [
  "Manufacturer",
  "Model",
  "Modality",
  "Voltage",
  "Current",
  "Tube current",
  "Exposure",
  "Exposure time",
  "Filter",
  "Projections",
  "Rotation step",
  "Frame averaging",
  "Source to object",
  "Source to detector",
  "Pixel size",
  "Slice thickness",
  "Pixel spacing",
  "Date",
  "Microscope",
  "Objective",
  "Software",
  "Description",
];

/** At most this many images get a child of their own under `Image` (a folder of 5,000 photos is no scan). */
const MAX_IMAGES = 50;

/** What extraction found in one dataset. */
export interface Extracted {
  /** The `Scan` subtree, or null when no file held instrument settings. */
  scan: TagNode | null;
  /** The `Image` subtree, or null when no image was found. */
  image: TagNode | null;
  /** Identifying DICOM attributes by keyword, with how many files carry each. */
  identifiers: Map<string, number>;
  /** Files that were recognised but could not be read, each with the reader's message. */
  problems: string[];
}

/** Settings found so far: the first file to give a key wins (files are looked at in path order). */
class Settings {
  readonly values = new Map<string, string>();
  set(key: string, value: string | undefined): void {
    const v = value === undefined ? "" : cleanText(value, MAX_VALUE_LENGTH);
    if (v !== "" && !this.values.has(key)) this.values.set(key, v);
  }
  tree(): TagNode | null {
    if (this.values.size === 0) return null;
    const rank = (k: string) => (SCAN_ORDER.indexOf(k) + SCAN_ORDER.length + 1) % (SCAN_ORDER.length + 1);
    const keys = [...this.values.keys()].sort((a, b) => rank(a) - rank(b));
    return { key: SCAN_KEY, value: "", children: keys.map((k) => leaf(k, this.values.get(k)!)) };
  }
}

/** Runs every extractor over a dataset folder (`root`, in stored form) and its files (relative to it). */
export async function extractFiles(root: string, files: string[], signal: AbortSignal): Promise<Extracted> {
  const candidates = files.filter((f) => !f.startsWith(".mata/") && !f.includes("/.mata/"));
  const settings = new Settings();
  const identifiers = new Map<string, number>();
  // Every file, SkyScan logs included: the readers pick their own and apply a log's pixel size to the stack beside it.
  // Each DICOM header they parse is looked at here too (settings, identifiers), so no file is read twice.
  const dicom = new Map<string, ReturnType<typeof dicomAttributes>>();
  const onDicomHeader = (rel: string, ds: DataSet) => dicom.set(rel, dicomAttributes(ds));
  const { sources, failures } = await scanVolumes(root, candidates, { onDicomHeader });
  // In file order, whatever order the headers were read in: the first file's settings win.
  for (const rel of [...dicom.keys()].sort()) {
    const got = dicom.get(rel)!;
    for (const [k, v] of got.scan) settings.set(k, v);
    for (const id of got.identifiers) identifiers.set(id, (identifiers.get(id) ?? 0) + 1);
  }
  const problems = failures.map((f) => f.message);
  try {
    signal.throwIfAborted();
    for (const s of sources) fromHeader(s, settings);
    for (const log of candidates.filter((f) => /\.log$/i.test(f))) {
      signal.throwIfAborted();
      await fromSkyScanLog(root, log, settings);
    }
    return { scan: settings.tree(), image: imageTree(sources), identifiers, problems };
  } finally {
    await Promise.all(sources.map((s) => s.close()));
  }
}

/** Instrument settings from the header fields a reader kept, by format. */
function fromHeader(s: VolumeSource, out: Settings): void {
  const h = s.header ?? {};
  switch (s.format) {
    case "nikon-xtek": {
      out.set("Manufacturer", "Nikon");
      out.set("Voltage", withUnit(h.xraykv, "kV"));
      out.set("Current", withUnit(h.xrayua, "µA"));
      out.set("Exposure", withUnit(h.exposure ?? h.exposurems, "ms"));
      out.set("Filter", [withUnit(h.filter_thicknessmm, "mm"), h.filter_material].filter(Boolean).join(" ") || undefined);
      out.set("Projections", h.projections);
      out.set("Source to object", withUnit(h.srctoobject, "mm"));
      out.set("Source to detector", withUnit(h.srctodetector, "mm"));
      break;
    }
    case "nifti":
      out.set("Description", h.descrip);
      break;
    case "nrrd":
      out.set("Description", h.content);
      break;
    case "metaimage":
      out.set("Modality", h.modality?.replace(/^MET_MOD_/i, ""));
      break;
    default:
      if (s.format.startsWith("tiff")) fromTiff(h, out);
  }
}

/** A TIFF's Make, Model and Software tags, ImageJ's version and an OME-TIFF's instrument and acquisition date. */
function fromTiff(h: Record<string, string>, out: Settings): void {
  out.set("Manufacturer", h.make);
  out.set("Model", h.model);
  const description = h.description ?? "";
  const ij = parseImageJ(description) ? /^ImageJ=(.*)$/m.exec(description)?.[1]?.trim() : undefined;
  out.set("Software", ij !== undefined ? `ImageJ ${ij}`.trim() : h.software);
  if (!/<OME[\s>]/.test(description)) return;
  const attrs = (element: string) => {
    const body = description.match(new RegExp(`<(?:\\w+:)?${element}\\b([^>]*)>`))?.[1] ?? "";
    return (name: string) => body.match(new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`))?.[1];
  };
  const microscope = attrs("Microscope");
  out.set("Microscope", [microscope("Manufacturer"), microscope("Model")].filter(Boolean).join(" ") || undefined);
  const objective = attrs("Objective");
  const magnification = objective("NominalMagnification");
  const na = objective("LensNA");
  out.set(
    "Objective",
    [magnification ? `${formatNumber(Number(magnification))}x` : "", na ? `NA ${formatNumber(Number(na))}` : ""].filter(Boolean).join(" ") || undefined,
  );
  const date = description.match(/<(?:\w+:)?AcquisitionDate>\s*(\d{4}-\d{2}-\d{2})/)?.[1];
  out.set("Date", date);
}

/**
 * A Bruker SkyScan acquisition or reconstruction log (`*.log`, `*_rec.log`: INI sections [System], [Acquisition],
 * [Reconstruction] with "Name (unit)=value" lines); any other `.log` file is left alone.
 */
async function fromSkyScanLog(root: string, rel: string, out: Settings): Promise<void> {
  const bytes = await readWhole(path.join(root, rel), rel, MAX_TEXT_HEADER).catch(() => undefined);
  if (!bytes) return;
  const ini = parseIni(new TextDecoder("latin1").decode(bytes));
  if (!ini.has("system") && !ini.has("acquisition") && !ini.has("reconstruction")) return;
  const h = iniFields(ini);
  if (h.scanner === undefined && h["source voltage (kv)"] === undefined && h["pixel size (um)"] === undefined) return;
  out.set("Manufacturer", "Bruker");
  out.set("Model", h.scanner);
  out.set("Voltage", withUnit(h["source voltage (kv)"], "kV"));
  out.set("Current", withUnit(h["source current (ua)"], "µA"));
  out.set("Exposure", withUnit(h["exposure (ms)"], "ms"));
  out.set("Filter", h.filter);
  out.set("Projections", h["number of files"]);
  out.set("Rotation step", withUnit(h["rotation step (deg)"], "°"));
  out.set("Frame averaging", h["frame averaging"]);
  out.set("Pixel size", withUnit(h["image pixel size (um)"] ?? h["pixel size (um)"], "µm"));
  out.set("Date", skyScanDate(h["study date and time"]));
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** "Jan 04, 2013  13:48:57" (SkyScan's own layout) as "2013-01-04"; the time of day is left out. */
function skyScanDate(v: string | undefined): string | undefined {
  const m = /^([A-Za-z]{3})\w*\s+(\d{1,2}),\s*(\d{4})/.exec(v ?? "");
  const month = m ? MONTHS.indexOf(m[1]!.toLowerCase()) + 1 : 0;
  return m && month > 0 ? `${m[3]}-${String(month).padStart(2, "0")}-${m[2]!.padStart(2, "0")}` : undefined;
}

/** The `Image` subtree: one image's facts as its children, or one child per image (by file) when there are several. */
function imageTree(sources: VolumeSource[]): TagNode | null {
  if (sources.length === 0) return null;
  if (sources.length === 1) return { key: IMAGE_KEY, value: "", children: [leaf("File", sources[0]!.file), ...imageFacts(sources[0]!)] };
  const shown = sources.slice(0, MAX_IMAGES);
  return {
    key: IMAGE_KEY,
    value: `${sources.length} images`,
    children: shown.map((s) => ({ key: cleanText(s.file, MAX_KEY_LENGTH), value: "", children: imageFacts(s) })),
  };
}

/** Format, size, sample type and voxel spacing of one image, units kept in the values. */
function imageFacts(s: VolumeSource): TagNode[] {
  const dims = s.depth > 1 ? [s.width, s.height, s.depth] : [s.width, s.height];
  const out = [leaf("Format", s.format), leaf("Size", dims.join(" x ")), leaf("Type", s.dtype)];
  const spacing = s.spacing.slice(0, dims.length).map(formatNumber);
  if (s.unit !== "px") out.push(leaf("Spacing", spacing.every((v) => v === spacing[0]) ? `${spacing[0]} ${s.unit}` : `${spacing.join(" x ")} ${s.unit}`));
  return out;
}

function leaf(key: string, value: string): TagNode {
  return { key, value: cleanText(value, MAX_VALUE_LENGTH), children: [] };
}

/** Header text fit for a tag: control bytes escaped (as the readers' messages show them), trimmed, cut to the limit. */
function cleanText(v: string, max: number): string {
  return printable(v).trim().slice(0, max);
}
