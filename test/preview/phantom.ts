import type { VolumeSource } from "../../src/preview/readers/reader.types.ts";

/** A generated volume whose voxel values are a known function of (x, y, z), read slice by slice like a real reader. */
export function phantomSource(
  width: number,
  height: number,
  depth: number,
  value: (x: number, y: number, z: number) => number,
  extra: Partial<VolumeSource> = {},
): VolumeSource & { reads: number[] } {
  const reads: number[] = [];
  return {
    kind: depth === 1 ? "image" : "volume",
    format: "phantom",
    file: "phantom.raw",
    files: ["phantom.raw"],
    width,
    height,
    depth,
    dtype: "uint8",
    spacing: [0.5, 0.5, 1],
    unit: "mm",
    dataRange: [0, 255],
    reads,
    async readSlice(z: number) {
      reads.push(z);
      const out = new Uint8Array(width * height);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = value(x, y, z);
      return out;
    },
    async close() {},
    ...extra,
  };
}

/** An independent reference for level L of the 2x2x2 mean pyramid: averages the voxels of level 0 directly. */
export function expectedAt(
  value: (x: number, y: number, z: number) => number,
  dims0: [number, number, number],
  level: number,
  x: number,
  y: number,
  z: number,
): number {
  // Level L voxel = mean of level L-1 2x2x2 block, recursively; compute it recursively with memo-free recursion.
  if (level === 0) return value(x, y, z);
  const prev = levelDims(dims0, level - 1);
  let sum = 0;
  let n = 0;
  for (let dz = 0; dz < 2; dz++)
    for (let dy = 0; dy < 2; dy++)
      for (let dx = 0; dx < 2; dx++) {
        const X = 2 * x + dx,
          Y = 2 * y + dy,
          Z = 2 * z + dz;
        if (X < prev[0] && Y < prev[1] && Z < prev[2]) {
          sum += expectedAt(value, dims0, level - 1, X, Y, Z);
          n++;
        }
      }
  return Math.round(sum / n);
}

/** Dimensions of level L (each side halved, rounding up). */
export function levelDims(dims0: [number, number, number], level: number): [number, number, number] {
  let d = dims0;
  for (let i = 0; i < level; i++) d = [Math.ceil(d[0] / 2), Math.ceil(d[1] / 2), Math.ceil(d[2] / 2)];
  return d;
}
