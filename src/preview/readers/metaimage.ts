import path from "node:path";
import type { DType, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { checkDim, DTYPE_BYTES, positiveOr1 } from "./dtype.ts";
import { companion, HEADER_HEAD, headerName, readHead, readListHeader } from "./file-io.ts";
import { expandPattern, rawSliceFilesSource, rawVolumeSource } from "./raw-volume.ts";

const MET_TYPES: Record<string, DType> = {
  MET_UCHAR: "uint8",
  MET_CHAR: "int8",
  MET_USHORT: "uint16",
  MET_SHORT: "int16",
  MET_UINT: "uint32",
  MET_INT: "int32",
  MET_ULONG: "uint32",
  MET_LONG: "int32",
  MET_FLOAT: "float32",
  MET_DOUBLE: "float64",
};

/** A MetaImage header: its fields and where the text ends (LOCAL data starts there in a .mha). */
export interface MetaHeader {
  fields: Map<string, string>;
  headerBytes: number;
}

/** Parses "Key = Value" lines up to and including ElementDataFile, which by the MetaIO rules ends the header. */
export function parseMetaHeader(bytes: Uint8Array, name: string): MetaHeader {
  const fields = new Map<string, string>();
  let pos = 0;
  while (pos < bytes.length) {
    let end = bytes.indexOf(0x0a, pos);
    const lineEnd = end < 0 ? bytes.length : end;
    const line = new TextDecoder("latin1").decode(bytes.subarray(pos, lineEnd)).replace(/\r$/, "");
    pos = end < 0 ? bytes.length : end + 1;
    const eq = line.indexOf("=");
    if (eq < 0) {
      if (line.trim() === "") continue;
      throw new VolumeReadError(`${name}: not a MetaImage header (line "${line.slice(0, 40)}" has no "=")`, name);
    }
    const key = line.slice(0, eq).trim().toLowerCase();
    fields.set(key, line.slice(eq + 1).trim());
    if (key === "elementdatafile") return { fields, headerBytes: pos };
  }
  // A header read to its first HEADER_HEAD bytes without an ElementDataFile line: a line longer than that, or no header.
  if (bytes.length >= HEADER_HEAD) throw new VolumeReadError(`${name}: no ElementDataFile line within the first ${HEADER_HEAD / 1024} KiB of the header`, name);
  throw new VolumeReadError(`${name}: MetaImage header has no ElementDataFile line`, name);
}

/** Opens a MetaImage .mhd/.mha: returns the source and the data files it claims. */
export async function openMetaImage(root: string, rel: string): Promise<VolumeSource> {
  const abs = path.join(root, rel);
  const head = await readHead(abs, HEADER_HEAD, rel);
  const { fields, headerBytes } = parseMetaHeader(head, rel);
  const get = (k: string) => fields.get(k.toLowerCase());
  const nums = (k: string) => (get(k) ?? "").split(/\s+/).filter(Boolean).map(Number);

  const ndims = Number(get("NDims") ?? "0");
  if (!(ndims >= 2)) throw new VolumeReadError(`${rel}: NDims ${get("NDims")} is not 2 or more`, rel);
  const size = nums("DimSize");
  if (size.length < Math.min(ndims, 3)) throw new VolumeReadError(`${rel}: DimSize "${get("DimSize")}" does not give ${ndims} sizes`, rel);
  let width: number, height: number, depth: number;
  try {
    width = checkDim(size[0]!, "DimSize x");
    height = checkDim(size[1]!, "DimSize y");
    depth = ndims >= 3 ? checkDim(size[2]!, "DimSize z") : 1;
  } catch (e) {
    throw new VolumeReadError(`${rel}: ${(e as Error).message}`, rel);
  }
  const typeName = (get("ElementType") ?? "").toUpperCase();
  const dtype = MET_TYPES[typeName];
  if (!dtype) throw new VolumeReadError(`${rel}: unsupported ElementType "${typeName || "(missing)"}"`, rel);
  const channels = Number(get("ElementNumberOfChannels") ?? "1");
  if (!Number.isInteger(channels) || channels < 1) throw new VolumeReadError(`${rel}: invalid ElementNumberOfChannels`, rel);
  const msbField = get("BinaryDataByteOrderMSB") !== undefined ? "BinaryDataByteOrderMSB" : "ElementByteOrderMSB";
  const msbText = (get(msbField) ?? "False").toLowerCase();
  if (msbText !== "true" && msbText !== "false" && DTYPE_BYTES[dtype] > 1)
    throw new VolumeReadError(`${rel}: ${msbField} "${get(msbField)}" is neither True nor False`, rel);
  const msb = msbText === "true";
  const compressed = (get("CompressedData") ?? "False").toLowerCase() === "true";
  const sp = nums("ElementSpacing").length ? nums("ElementSpacing") : nums("ElementSize");

  const dataField = get("ElementDataFile")!;
  let dataRel: string;
  let offset: number;
  let streamStart = 0;
  const headerSize = get("HeaderSize") !== undefined ? Number(get("HeaderSize")) : 0;
  if (!Number.isSafeInteger(headerSize) || headerSize < -1)
    throw new VolumeReadError(`${rel}: HeaderSize "${get("HeaderSize")}" is not a number of bytes`, rel);
  if (dataField.toUpperCase() === "LOCAL") {
    dataRel = rel;
    offset = compressed ? 0 : headerBytes;
    streamStart = headerBytes;
  } else if (/^LIST\b/i.test(dataField) || dataField.includes("%")) {
    if (compressed) throw new VolumeReadError(`${rel}: compressed slice files are not supported`, rel);
    const names = /^LIST\b/i.test(dataField)
      ? new TextDecoder("latin1")
          .decode((await readListHeader(abs, head, rel)).subarray(headerBytes))
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter(Boolean)
      : expandPattern(dataField, rel);
    if (!names || names.length === 0) throw new VolumeReadError(`${rel}: ElementDataFile "${dataField}" names no slice files`, rel);
    const sliceRels = names.map((n) => companion(rel, headerName(n)));
    return rawSliceFilesSource(
      {
        format: "metaimage",
        file: rel,
        files: [rel, ...sliceRels],
        width,
        height,
        depth,
        dtype,
        spacing: [positiveOr1(sp[0]), positiveOr1(sp[1]), positiveOr1(sp[2])],
        unit: sp.length >= 2 ? "mm" : "px",
        ...(channels > 1 ? { notes: [`first of ${channels} channels shown`] } : {}),
        header: Object.fromEntries(fields),
      },
      sliceRels.map((r) => ({ path: path.join(root, r), name: r })),
      { offset: headerSize, littleEndian: !msb, channels },
    );
  } else {
    dataRel = companion(rel, headerName(dataField));
    offset = compressed ? 0 : headerSize;
  }
  const notes: string[] = [];
  if (channels > 1) notes.push(`first of ${channels} channels shown`);
  if (ndims > 3) notes.push(`first of ${size.slice(3).reduce((a, b) => a * b, 1)} volumes shown`);
  const hasSpacing = sp.length >= 2;
  return rawVolumeSource(
    {
      format: "metaimage",
      file: rel,
      files: dataRel === rel ? [rel] : [rel, dataRel],
      width,
      height,
      depth,
      dtype,
      spacing: [positiveOr1(sp[0]), positiveOr1(sp[1]), positiveOr1(sp[2])],
      // MetaIO has no unit field; ITK and every MetaImage writer use millimetres.
      unit: hasSpacing ? "mm" : "px",
      ...(notes.length ? { notes } : {}),
      header: Object.fromEntries(fields),
    },
    {
      dataPath: path.join(root, dataRel),
      dataName: dataRel,
      offset,
      littleEndian: !msb,
      compression: compressed ? "zlib" : "none",
      streamStart,
      channels,
    },
  );
}
