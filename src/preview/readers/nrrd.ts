import path from "node:path";
import type { DType, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { checkDim, DTYPE_BYTES, normaliseUnit, positiveOr1 } from "./dtype.ts";
import { companion, HEADER_HEAD, headerName, readHead, readListHeader } from "./file-io.ts";
import { expandPattern, rawSliceFilesSource, rawVolumeSource } from "./raw-volume.ts";

const TYPES: [RegExp, DType][] = [
  [/^(signed char|int8|int8_t)$/, "int8"],
  [/^(uchar|unsigned char|uint8|uint8_t)$/, "uint8"],
  [/^(short|short int|signed short|signed short int|int16|int16_t)$/, "int16"],
  [/^(ushort|unsigned short|unsigned short int|uint16|uint16_t)$/, "uint16"],
  [/^(int|signed int|int32|int32_t)$/, "int32"],
  [/^(uint|unsigned int|uint32|uint32_t)$/, "uint32"],
  [/^float$/, "float32"],
  [/^double$/, "float64"],
];

/** The fields of a NRRD header and where its attached data (if any) begins. */
export interface NrrdHeader {
  fields: Map<string, string>;
  headerBytes: number;
  /** Whether the blank line that ends the header (or a LIST of slice files) was found. */
  ended: boolean;
}

/** Parses a NRRD header: magic line, "field: value" lines, comments, up to the blank line. */
export function parseNrrdHeader(bytes: Uint8Array, name: string): NrrdHeader {
  const text = new TextDecoder("latin1").decode(bytes);
  if (!/^NRRD000\d/.test(text)) throw new VolumeReadError(`${name}: bad NRRD magic (expected "NRRD000x")`, name);
  const fields = new Map<string, string>();
  let pos = text.indexOf("\n") + 1;
  while (pos > 0 && pos < text.length) {
    const end = text.indexOf("\n", pos);
    const line = text.slice(pos, end < 0 ? text.length : end).replace(/\r$/, "");
    pos = end < 0 ? text.length : end + 1;
    if (line === "") return { fields, headerBytes: pos, ended: true };
    if (line.startsWith("#") || line.includes(":=")) continue;
    const colon = line.indexOf(": ");
    if (colon < 0) throw new VolumeReadError(`${name}: malformed NRRD header line "${line.slice(0, 40)}"`, name);
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 2).trim();
    fields.set(key, value);
    if ((key === "data file" || key === "datafile") && /^LIST\b/.test(value)) {
      // The slice file names follow, one per line, to the end of the header file.
      const rest = text
        .slice(pos)
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      fields.set("data file list", rest.join("\n"));
      return { fields, headerBytes: bytes.length, ended: true };
    }
    if (end < 0) break;
  }
  // A detached header may end at end of file without a blank line.
  return { fields, headerBytes: bytes.length, ended: false };
}

/** Opens a .nrrd (attached data) or .nhdr (detached data file) with raw or gzip encoding. */
export async function openNrrd(root: string, rel: string): Promise<VolumeSource> {
  const abs = path.join(root, rel);
  const head = await readHead(abs, HEADER_HEAD, rel);
  let { fields, headerBytes, ended } = parseNrrdHeader(head, rel);
  // A list of slice files runs to the end of the header file, which may be longer than the first read.
  if (fields.has("data file list")) ({ fields, headerBytes } = parseNrrdHeader(await readListHeader(abs, head, rel), rel));
  const fail = (why: string) => new VolumeReadError(`${rel}: ${why}`, rel);
  if (!ended && head.length >= HEADER_HEAD) throw fail(`the header does not end within its first ${HEADER_HEAD / 1024} KiB (a line longer than that?)`);
  const typeName = (fields.get("type") ?? "").toLowerCase();
  const dtype = TYPES.find(([re]) => re.test(typeName))?.[1];
  if (!dtype) throw fail(`unsupported NRRD type "${typeName || "(missing)"}"`);
  const dimension = Number(fields.get("dimension"));
  const sizes = (fields.get("sizes") ?? "").split(/\s+/).filter(Boolean).map(Number);
  if (!(dimension >= 2) || sizes.length !== dimension) throw fail(`sizes "${fields.get("sizes")}" do not match dimension ${fields.get("dimension")}`);
  const kinds = (fields.get("kinds") ?? "").split(/\s+/).filter(Boolean);
  // A leading non-spatial axis (RGB-color, vector, list...) holds interleaved channels; keep the first.
  const channelAxis = kinds.length === dimension && !/^(domain|space|time|\?\?\?|none)$/i.test(kinds[0]!) ? 1 : 0;
  const channels = channelAxis ? sizes[0]! : 1;
  const spatial = sizes.slice(channelAxis);
  if (spatial.length < 2) throw fail("fewer than two spatial axes");
  let width: number, height: number, depth: number;
  try {
    width = checkDim(spatial[0]!, "size x");
    height = checkDim(spatial[1]!, "size y");
    depth = spatial.length >= 3 ? checkDim(spatial[2]!, "size z") : 1;
  } catch (e) {
    throw fail((e as Error).message);
  }
  const encoding = (fields.get("encoding") ?? "").toLowerCase();
  const compression = encoding === "raw" ? "none" : encoding === "gzip" || encoding === "gz" ? "gzip" : undefined;
  if (!compression) throw fail(`unsupported NRRD encoding "${encoding || "(missing)"}" (raw and gzip are read)`);
  const endian = (fields.get("endian") ?? "little").toLowerCase();
  if (endian !== "little" && endian !== "big" && DTYPE_BYTES[dtype] > 1) throw fail(`endian "${fields.get("endian")}" is neither little nor big`);
  const skipText = fields.get("byte skip") ?? "0";
  if (!/^(-1|\d+)$/.test(skipText.trim())) throw fail(`byte skip "${skipText}" is not a number of bytes`);

  const spacing = axisSpacing(fields, dimension).slice(channelAxis);
  const units = (fields.get("space units") ?? fields.get("units") ?? "").match(/"([^"]*)"/g)?.map((u) => u.slice(1, -1));
  const unit = normaliseUnit(units?.[0]) ?? (spacing.some((s) => s !== undefined) ? "mm" : "px");

  const dataField = fields.get("data file") ?? fields.get("datafile");
  let dataRel = rel;
  let offset = 0;
  let streamStart = 0;
  if (dataField && (/^LIST\b/.test(dataField) || /%/.test(dataField))) {
    if (compression !== "none") throw fail("gzip-compressed slice files are not supported");
    const names = /^LIST\b/.test(dataField) ? (fields.get("data file list") ?? "").split("\n").filter(Boolean) : expandPattern(dataField, rel);
    if (!names || names.length === 0) throw fail(`data file "${dataField}" names no slice files`);
    const sliceRels = names.map((n) => companion(rel, headerName(n)));
    const byteSkip = Number(fields.get("byte skip") ?? 0);
    return rawSliceFilesSource(
      {
        format: "nrrd",
        file: rel,
        files: [rel, ...sliceRels],
        width,
        height,
        depth,
        dtype,
        spacing: unit === "px" ? [1, 1, 1] : [positiveOr1(spacing[0]), positiveOr1(spacing[1]), positiveOr1(spacing[2])],
        unit,
        ...(channels > 1 ? { notes: [`first of ${channels} channels shown`] } : {}),
        header: Object.fromEntries(fields),
      },
      sliceRels.map((r) => ({ path: path.join(root, r), name: r })),
      { offset: byteSkip === -1 ? -1 : Math.max(0, byteSkip), littleEndian: endian !== "big", channels },
    );
  }
  if (dataField) {
    dataRel = companion(rel, headerName(dataField));
  } else {
    streamStart = headerBytes;
    if (compression === "none") offset = headerBytes;
  }
  if (Number(fields.get("line skip") ?? 0) > 0) throw fail(`"line skip" is not supported`);
  const byteSkip = Number(fields.get("byte skip") ?? 0);
  if (byteSkip === -1) offset = -1;
  else if (byteSkip > 0) offset += byteSkip;

  const notes: string[] = [];
  if (channels > 1) notes.push(`first of ${channels} channels shown`);
  if (spatial.length > 3) notes.push(`first of ${spatial.slice(3).reduce((a, b) => a * b, 1)} volumes shown`);
  return rawVolumeSource(
    {
      format: "nrrd",
      file: rel,
      files: dataRel === rel ? [rel] : [rel, dataRel],
      width,
      height,
      depth,
      dtype,
      spacing: unit === "px" ? [1, 1, 1] : [positiveOr1(spacing[0]), positiveOr1(spacing[1]), positiveOr1(spacing[2])],
      unit,
      ...(notes.length ? { notes } : {}),
      header: Object.fromEntries(fields),
    },
    {
      dataPath: path.join(root, dataRel),
      dataName: dataRel,
      offset,
      littleEndian: endian !== "big",
      compression,
      streamStart: dataField ? 0 : streamStart,
      channels,
    },
  );
}

/** Voxel size per axis from `spacings`, or the length of each `space directions` vector. */
function axisSpacing(fields: Map<string, string>, dimension: number): (number | undefined)[] {
  const out: (number | undefined)[] = new Array(dimension).fill(undefined);
  const spacings = fields.get("spacings");
  if (spacings) {
    spacings.split(/\s+/).forEach((s, i) => {
      const v = Number(s);
      if (i < dimension && Number.isFinite(v)) out[i] = Math.abs(v);
    });
    return out;
  }
  const dirs = fields.get("space directions");
  if (dirs) {
    const tokens = dirs.match(/\([^)]*\)|none/g) ?? [];
    tokens.forEach((t, i) => {
      if (t === "none" || i >= dimension) return;
      const v = t.slice(1, -1).split(",").map(Number);
      const len = Math.hypot(...v);
      if (Number.isFinite(len) && len > 0) out[i] = len;
    });
  }
  return out;
}
