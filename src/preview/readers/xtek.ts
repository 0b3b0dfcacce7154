import path from "node:path";
import type { DType, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { checkDim, normaliseUnit, positiveOr1 } from "./dtype.ts";
import { companion, fileSize, readWhole, headerName, MAX_TEXT_HEADER } from "./file-io.ts";
import { iniFields, iniGet, parseIni } from "./ini.ts";
import { rawVolumeSource } from "./raw-volume.ts";

/**
 * Opens a Nikon XT reconstruction (.xtekct / .xtekVolume INI beside a headerless .vol). CT Pro writes
 * float32 by default; when the .vol is exactly half or a quarter of that size it holds uint16 or uint8
 * (the export options), so the sample type follows the file size and any other size is a lying header.
 */
export async function openXtek(root: string, rel: string): Promise<VolumeSource> {
  const fail = (why: string) => new VolumeReadError(`${rel}: ${why}`, rel);
  const ini = parseIni(new TextDecoder("latin1").decode(await readWhole(path.join(root, rel), rel, MAX_TEXT_HEADER)));
  if (!ini.has("xtekct") && !iniGet(ini, "VoxelsX")) throw fail("not a Nikon XT header (no [XTekCT] section or VoxelsX)");
  const num = (k: string) => Number(iniGet(ini, k));
  let width: number, height: number, depth: number;
  try {
    width = checkDim(num("VoxelsX"), "VoxelsX");
    height = checkDim(num("VoxelsY"), "VoxelsY");
    depth = checkDim(num("VoxelsZ"), "VoxelsZ");
  } catch (e) {
    throw fail((e as Error).message);
  }
  const dir = path.posix.dirname(rel);
  const stem = path.posix.basename(rel).replace(/\.(xtekct|xtekvolume)$/i, "");
  const named = iniGet(ini, "Name");
  const candidates = [...new Set([named ? `${headerName(named)}.vol` : undefined, `${stem}.vol`].filter((x): x is string => !!x))];
  let dataRel: string | undefined;
  let size = 0;
  for (const c of candidates) {
    const r = companion(rel, c);
    try {
      size = await fileSize(path.join(root, r), r);
      dataRel = r;
      break;
    } catch {
      // try the next naming convention
    }
  }
  if (!dataRel) throw fail(`volume data ${candidates.map((c) => path.posix.join(dir, c)).join(" or ")} is missing`);
  const voxels = width * height * depth;
  const bySize: Record<number, DType> = { 4: "float32", 2: "uint16", 1: "uint8" };
  const dtype = size % voxels === 0 ? bySize[size / voxels] : undefined;
  if (!dtype) {
    throw new VolumeReadError(
      `${dataRel}: header ${rel} says ${width}x${height}x${depth} voxels (${voxels * 4} bytes as float32), but the file has ${size} bytes`,
      rel,
    );
  }
  const unit = normaliseUnit(iniGet(ini, "Units")) ?? "mm";
  return rawVolumeSource(
    {
      format: "nikon-xtek",
      file: rel,
      files: [rel, dataRel],
      width,
      height,
      depth,
      dtype,
      spacing: [positiveOr1(num("VoxelSizeX")), positiveOr1(num("VoxelSizeY")), positiveOr1(num("VoxelSizeZ"))],
      unit,
      header: iniFields(ini),
    },
    { dataPath: path.join(root, dataRel), dataName: dataRel, offset: 0, littleEndian: true, compression: "none" },
  );
}
