import type { DType, SliceData } from "./reader.types.ts";

/** Bytes per sample of each voxel type, so readers can size positioned reads. */
export const DTYPE_BYTES: Record<DType, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  float64: 8,
};

/** Wraps an ArrayBuffer of samples as the typed array of its dtype, swapping byte order in place when the file's differs from the host's. */
export function toSlice(dtype: DType, buffer: ArrayBuffer, littleEndian: boolean): SliceData {
  const bytes = DTYPE_BYTES[dtype];
  if (!littleEndian && bytes > 1) swapInPlace(new Uint8Array(buffer), bytes);
  switch (dtype) {
    case "uint8":
      return new Uint8Array(buffer);
    case "int8":
      return new Int8Array(buffer);
    case "uint16":
      return new Uint16Array(buffer);
    case "int16":
      return new Int16Array(buffer);
    case "uint32":
      return new Uint32Array(buffer);
    case "int32":
      return new Int32Array(buffer);
    case "float32":
      return new Float32Array(buffer);
    case "float64":
      return new Float64Array(buffer);
  }
}

/** Allocates a zeroed slice of a dtype, for readers that assemble samples themselves. */
export function allocSlice(dtype: DType, length: number): SliceData {
  return toSlice(dtype, new ArrayBuffer(length * DTYPE_BYTES[dtype]), true);
}

/** Reverses the bytes of every sample (big-endian files on a little-endian host). */
export function swapInPlace(bytes: Uint8Array, width: number): void {
  if (width === 2) {
    const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
    for (let i = 0; i < u16.length; i++) {
      const v = u16[i]!;
      u16[i] = ((v & 0xff) << 8) | (v >> 8);
    }
    return;
  }
  if (width === 4) {
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    for (let i = 0; i < u32.length; i++) {
      const v = u32[i]!;
      u32[i] = (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
    }
    return;
  }
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** The kind a source reports: depth 1 is a 2D picture, anything deeper a volume. */
export function kindFor(depth: number): "volume" | "image" {
  return depth === 1 ? "image" : "volume";
}

/** Normalises unit spellings found in headers ("micron", "um", "\\u00B5m") to one form. */
export function normaliseUnit(unit: string | undefined): string | undefined {
  if (unit === undefined) return undefined;
  const u = unit.trim().replace(/^"|"$/g, "").trim();
  if (u === "") return undefined;
  const lower = u.toLowerCase();
  if (["micron", "microns", "um", "\\u00b5m", "µm", "μm", "micrometer", "micrometre"].includes(lower)) return "µm";
  if (["mm", "millimeter", "millimetre"].includes(lower)) return "mm";
  if (["nm", "nanometer", "nanometre"].includes(lower)) return "nm";
  if (["cm", "centimeter", "centimetre"].includes(lower)) return "cm";
  if (["m", "meter", "metre"].includes(lower)) return "m";
  if (["pixel", "pixels", "px"].includes(lower)) return "px";
  return u;
}

/** Checks a dimension read from a header is a positive safe integer, naming the field otherwise. */
export function checkDim(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`invalid ${field} ${value}`);
  return value;
}

/**
 * Uses a header's voxel size only when it is a plausible one (1e-9 to 1e9 of its unit), else 1: zero, NaN and 1e300
 * are no sizes, and a viewer drawing XZ with a 1e300:1 aspect shows nothing.
 */
export function positiveOr1(value: number | undefined): number {
  return value !== undefined && value >= 1e-9 && value <= 1e9 ? value : 1;
}

/** Largest slice a reader will allocate (a typed array's practical limit); a bigger one means a lying header. */
export const MAX_SLICE_BYTES = 2 ** 31 - 1;

/** Rejects slice sizes no typed array can hold, before any allocation, naming the dimensions. */
export function checkSliceSize(width: number, height: number, bytesPerSample: number, what: string): void {
  const bytes = width * height * bytesPerSample;
  if (bytes > MAX_SLICE_BYTES)
    throw new Error(`${what}: a ${width}x${height} slice of ${bytesPerSample}-byte samples (${(bytes / 2 ** 30).toFixed(1)} GiB) is too large to read`);
}
