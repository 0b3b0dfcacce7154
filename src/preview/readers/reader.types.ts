/** Voxel types the readers produce; slices come back as the matching typed array. */
export type DType = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";

/** One slice of a volume, row-major, width*height samples (single channel). */
/** Bytes per voxel of each type. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };

export type SliceData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** A volume or 2D image found in a dataset, readable one z-slice at a time (never whole in memory). */
export interface VolumeSource {
  /** "image" for a single 2D picture (depth 1), "volume" otherwise. */
  kind: "volume" | "image";
  /** The format that was recognised, e.g. "tiff-stack", "nifti", "nrrd", "dicom-series". */
  format: string;
  /** The file that names this volume (header or first slice), relative to the dataset folder. */
  file: string;
  /** Every file the volume is read from, relative to the dataset folder. */
  files: string[];
  width: number;
  height: number;
  depth: number;
  dtype: DType;
  /** Voxel size along x, y, z, in `unit`; [1, 1, 1] and unit "px" when the file does not say. */
  spacing: [number, number, number];
  unit: string;
  /** The data range the header declares, when it declares one (used for the display window), in stored units. */
  dataRange?: [number, number];
  /** Stored-to-physical value mapping (NIfTI scl_slope/inter, DICOM rescale): physical = stored * slope + intercept. */
  valueScale?: { slope: number; intercept: number };
  /** What the reader simplified, e.g. "RGB converted to luminance" or "first of 2 time points"; shown to users. */
  notes?: string[];
  /**
   * Header fields besides the geometry (instrument settings, descriptions), keyed by the header's own names in lower
   * case: the metadata extractors (src/extract/) take theirs from here instead of parsing every header again.
   */
  header?: Record<string, string>;
  /** Reads slice z (0-based); rejects with a clear message on a corrupt or truncated file. */
  readSlice(z: number, signal?: AbortSignal): Promise<SliceData>;
  /** Releases open file handles. */
  close(): Promise<void>;
}

const MAX_MESSAGE = 1500;

/**
 * A message fit to record and show: header text quoted in it may hold NULs and control bytes (shown escaped, as \0)
 * and be a line of megabytes (cut in the middle, keeping the file name in front and the cause at the end).
 */
export function printable(message: string): string {
  const clean = message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === "\0" ? "\\0" : c === "\n" ? "\\n" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE - 300)}…${clean.slice(-280)}` : clean;
}

/** Thrown when a file is recognised but cannot be read; the message is shown on the dataset page. */
export class VolumeReadError extends Error {
  /** The dataset-relative file at fault, when known. */
  readonly file?: string;
  constructor(message: string, file?: string) {
    super(printable(message));
    this.name = "VolumeReadError";
    this.file = file;
  }
}
