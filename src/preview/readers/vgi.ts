import path from "node:path";
import type { DType, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { checkDim, normaliseUnit, positiveOr1 } from "./dtype.ts";
import { headerName, MAX_TEXT_HEADER, readWhole } from "./file-io.ts";
import { iniFields, iniGet, parseIni } from "./ini.ts";
import { rawVolumeSource } from "./raw-volume.ts";

/** Opens a VGStudio .vgi header ({volume1} [representation]/[file1]/[geometry]) and its raw volume file. */
export async function openVgi(root: string, rel: string): Promise<VolumeSource> {
  const fail = (why: string) => new VolumeReadError(`${rel}: ${why}`, rel);
  const ini = parseIni(new TextDecoder("latin1").decode(await readWhole(path.join(root, rel), rel, MAX_TEXT_HEADER)));
  const get = (k: string, sections?: string[]) => iniGet(ini, k, sections);
  const size = (get("size", ["file1"]) ?? get("size", ["representation"]) ?? get("size") ?? "").split(/\s+/).filter(Boolean).map(Number);
  if (size.length < 2) throw fail(`no volume size (expected "size = X Y Z" in [file1] or [representation])`);
  let width: number, height: number, depth: number;
  try {
    width = checkDim(size[0]!, "size x");
    height = checkDim(size[1]!, "size y");
    depth = size.length >= 3 ? checkDim(size[2]!, "size z") : 1;
  } catch (e) {
    throw fail((e as Error).message);
  }
  const datatype = (get("datatype", ["file1"]) ?? get("datatype") ?? "unsigned integer").toLowerCase();
  const bits = Number(get("bitsperelement", ["file1"]) ?? get("bitsperelement") ?? (datatype.includes("float") ? 32 : 16));
  const dtype = vgiType(datatype, bits);
  if (!dtype) throw fail(`unsupported data type "${datatype}" with ${bits} bits`);
  const format = (get("fileformat", ["file1"]) ?? "raw").toLowerCase();
  if (format !== "raw") throw fail(`unsupported file format "${format}" (only raw volumes are read)`);
  const name = get("name", ["file1"]);
  if (!name) throw fail("no data file name ([file1] Name)");
  const dataRel = path.posix.join(path.posix.dirname(rel), headerName(name.replace(/\\/g, "/").split("/").at(-1)!));
  const skip = Number(get("skipheader", ["file1"]) ?? 0) || 0;
  const endian = (get("endian", ["file1"]) ?? "little").toLowerCase();
  const range = (get("datarange", ["file1"]) ?? get("datarange", ["representation"]) ?? "").split(/\s+/).filter(Boolean).map(Number);
  const res = (get("resolution", ["geometry"]) ?? get("resolution") ?? "").split(/\s+/).filter(Boolean).map(Number);
  const unit = normaliseUnit(get("unit", ["geometry"]) ?? get("unit")) ?? (res.length ? "mm" : "px");
  const dataRange: [number, number] | undefined =
    range.length === 2 && range.every(Number.isFinite) && range[1]! > range[0]! ? [range[0]!, range[1]!] : undefined;
  return rawVolumeSource(
    {
      format: "vgstudio",
      file: rel,
      files: [rel, dataRel],
      width,
      height,
      depth,
      dtype,
      spacing: [positiveOr1(res[0]), positiveOr1(res[1] ?? res[0]), positiveOr1(res[2] ?? res[0])],
      unit,
      ...(dataRange ? { dataRange } : {}),
      header: iniFields(ini),
    },
    { dataPath: path.join(root, dataRel), dataName: dataRel, offset: skip, littleEndian: !endian.startsWith("big"), compression: "none" },
  );
}

function vgiType(datatype: string, bits: number): DType | undefined {
  if (datatype.includes("float")) return bits === 64 ? "float64" : bits === 32 ? "float32" : undefined;
  const signed = datatype.includes("signed") && !datatype.includes("unsigned");
  if (bits === 8) return signed ? "int8" : "uint8";
  if (bits === 16) return signed ? "int16" : "uint16";
  if (bits === 32) return signed ? "int32" : "uint32";
  return undefined;
}
