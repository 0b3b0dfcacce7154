import type { VolumeSource } from "./reader.types.ts";
import { scanVolumes } from "./detect.ts";

export type { DType, SliceData, VolumeSource } from "./reader.types.ts";
export { VolumeReadError } from "./reader.types.ts";
export { isVolumeInput, scanVolumes, type ScanOptions, type VolumeScan } from "./detect.ts";
export { percentileWindow, displayWindow, type WindowOptions } from "./window.ts";

/**
 * Every volume and 2D image in a dataset folder (`files` relative to it), one source each; files that
 * belong to a volume (a .raw behind a .mhd, the slices of a stack) are not reported again. Rejects with
 * the first VolumeReadError when a recognised file is broken; use scanVolumes to get the good sources
 * and the failures together.
 */
export async function detectVolumes(datasetAbsPath: string, files: string[]): Promise<VolumeSource[]> {
  const { sources, failures } = await scanVolumes(datasetAbsPath, files);
  if (failures.length > 0) {
    await Promise.all(sources.map((s) => s.close()));
    throw failures[0]!;
  }
  return sources;
}
