import path from "node:path";
import type { DType, VolumeSource } from "./reader.types.ts";
import { VolumeReadError } from "./reader.types.ts";
import { checkDim, positiveOr1 } from "./dtype.ts";
import { fileSize, readHead } from "./file-io.ts";
import { InflateCursor } from "./inflate-cursor.ts";
import { rawVolumeSource } from "./raw-volume.ts";

const NIFTI_TYPES: Record<number, DType> = {
  2: "uint8",
  4: "int16",
  8: "int32",
  16: "float32",
  64: "float64",
  256: "int8",
  512: "uint16",
  768: "uint32",
};

const UNITS: Record<number, string> = { 1: "m", 2: "mm", 3: "µm" };

/** Opens a NIfTI-1 file (.nii, .nii.gz, or an .hdr/.img pair); slices are read from the data without loading it whole. */
export async function openNifti(root: string, rel: string): Promise<VolumeSource> {
  const abs = path.join(root, rel);
  const gz = /\.gz$/i.test(rel);
  let header: Uint8Array;
  if (gz) {
    const cursor = new InflateCursor(abs, rel, "gzip");
    try {
      header = new Uint8Array(await cursor.readAt(0, 348));
    } finally {
      cursor.close();
    }
  } else {
    header = await readHead(abs, 348, rel);
    if (header.length < 348) throw new VolumeReadError(`${rel}: truncated NIfTI header (${header.length} of 348 bytes)`, rel);
  }
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  let le = true;
  const sizeofHdr = view.getInt32(0, true);
  if (sizeofHdr !== 348) {
    if (view.getInt32(0, false) === 348) le = false;
    else if (sizeofHdr === 540 || view.getInt32(0, false) === 540) throw new VolumeReadError(`${rel}: NIfTI-2 is not supported`, rel);
    else throw new VolumeReadError(`${rel}: not a NIfTI-1 file (sizeof_hdr is ${sizeofHdr}, expected 348)`, rel);
  }
  const magic = new TextDecoder("latin1").decode(header.subarray(344, 347));
  if (magic !== "n+1" && magic !== "ni1") throw new VolumeReadError(`${rel}: bad NIfTI magic "${magic}"`, rel);
  const i16 = (o: number) => view.getInt16(o, le);
  const f32 = (o: number) => view.getFloat32(o, le);
  const ndim = i16(40);
  if (ndim < 2 || ndim > 7) throw new VolumeReadError(`${rel}: dim[0] = ${ndim} is not between 2 and 7`, rel);
  let width: number, height: number, depth: number;
  try {
    width = checkDim(i16(42), "dim[1]");
    height = checkDim(i16(44), "dim[2]");
    depth = ndim >= 3 ? checkDim(i16(46), "dim[3]") : 1;
  } catch (e) {
    throw new VolumeReadError(`${rel}: ${(e as Error).message}`, rel);
  }
  const datatype = i16(70);
  const dtype = NIFTI_TYPES[datatype];
  if (!dtype) throw new VolumeReadError(`${rel}: unsupported NIfTI datatype ${datatype}`, rel);
  const voxOffset = f32(108);
  const sclSlope = f32(112);
  const sclInter = f32(116);
  const calMax = f32(124);
  const calMin = f32(128);
  const units = UNITS[header[123]! & 7];
  const notes: string[] = [];
  let frames = 1;
  for (let d = 4; d <= ndim; d++) frames *= Math.max(1, i16(40 + 2 * d));
  if (frames > 1) notes.push(`first of ${frames} volumes shown`);

  const scaled = Number.isFinite(sclSlope) && sclSlope !== 0 && !(sclSlope === 1 && sclInter === 0);
  const slope = scaled ? sclSlope : 1;
  const intercept = scaled && Number.isFinite(sclInter) ? sclInter : 0;
  let dataRange: [number, number] | undefined;
  if (Number.isFinite(calMin) && Number.isFinite(calMax) && calMax > calMin) {
    // cal_min/cal_max are physical values; the tiler windows stored values.
    const a = (calMin - intercept) / slope;
    const b = (calMax - intercept) / slope;
    dataRange = [Math.min(a, b), Math.max(a, b)];
  }

  if (!Number.isFinite(voxOffset)) throw new VolumeReadError(`${rel}: vox_offset ${voxOffset} is not a byte offset`, rel);
  let dataRel = rel;
  let offset = Math.round(voxOffset);
  if (magic === "ni1") {
    dataRel = rel.replace(/\.hdr(\.gz)?$/i, (_m, g) => `.img${g ?? ""}`);
    offset = Math.max(0, offset);
    await fileSize(path.join(root, dataRel), dataRel);
  } else if (offset < 348) {
    throw new VolumeReadError(`${rel}: vox_offset ${voxOffset} lies inside the 348-byte header`, rel);
  }
  return rawVolumeSource(
    {
      format: "nifti",
      file: rel,
      files: dataRel === rel ? [rel] : [rel, dataRel],
      width,
      height,
      depth,
      dtype,
      spacing: [positiveOr1(f32(80)), positiveOr1(f32(84)), positiveOr1(ndim >= 3 ? f32(88) : 1)],
      unit: units ?? "px",
      ...(dataRange ? { dataRange } : {}),
      ...(scaled ? { valueScale: { slope, intercept } } : {}),
      ...(notes.length ? { notes } : {}),
      header: {
        descrip: new TextDecoder("latin1")
          .decode(header.subarray(148, 228))
          .replace(/\0[\s\S]*$/, "")
          .trim(),
      },
    },
    {
      dataPath: path.join(root, dataRel),
      dataName: dataRel,
      offset,
      littleEndian: le,
      compression: gz ? "gzip" : "none",
    },
  );
}
