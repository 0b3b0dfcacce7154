// The export's 2x2x2 means (its fast paths: two 16-bit voxels per 32-bit load, shifts for 8- and 16-bit sums) against
// the plain definition, for every voxel type, odd and even sizes, and extreme values.
import { expect, test } from "bun:test";
import { downsample } from "../../src/export/zarr.writer.ts";
import type { DType, SliceData } from "../../src/preview/readers/reader.types.ts";

const TYPES: Record<DType, { new (n: number): SliceData }> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** The mean of each 2x2x2 block as the export defines it: an odd last row or column pairs with itself; integers round half up. */
function reference(a: SliceData, b: SliceData, w: number, h: number, dtype: DType): number[] {
  const out: number[] = [];
  for (let y = 0; y < Math.ceil(h / 2); y++) {
    for (let x = 0; x < Math.ceil(w / 2); x++) {
      const ys = [2 * y, Math.min(2 * y + 1, h - 1)];
      const xs = [2 * x, Math.min(2 * x + 1, w - 1)];
      let sum = 0;
      for (const s of [a, b]) for (const yy of ys) for (const xx of xs) sum += s[yy * w + xx]!;
      out.push(dtype.startsWith("float") ? sum / 8 : Math.floor(sum / 8 + 0.5));
    }
  }
  return out;
}

function fill(dtype: DType, n: number, seed: number): SliceData {
  const a = new TYPES[dtype](n);
  let s = seed;
  const extremes: Record<DType, number[]> = {
    uint8: [0, 255],
    int8: [-128, 127],
    uint16: [0, 65535],
    int16: [-32768, 32767],
    uint32: [0, 4294967295],
    int32: [-2147483648, 2147483647],
    float32: [-1e30, 1e30],
    float64: [-1e300, 1e300],
  };
  const [lo, hi] = extremes[dtype];
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    // A quarter of the voxels at the type's extremes, so sums overflow any type narrower than 32 bits.
    a[i] = s % 4 === 0 ? (s & 8 ? hi! : lo!) : dtype.startsWith("float") ? (s / 4294967296 - 0.5) * 1000 : lo! + (s % (hi! - lo! + 1));
  }
  return a;
}

test("every voxel type and shape gives the plain 2x2x2 mean, bit for bit", () => {
  for (const dtype of Object.keys(TYPES) as DType[]) {
    for (const [w, h] of [
      [1, 1],
      [2, 2],
      [3, 1],
      [1, 3],
      [7, 5],
      [8, 6],
      [130, 70],
      [65, 35],
    ] as const) {
      const a = fill(dtype, w * h, 1 + w);
      const b = fill(dtype, w * h, 7 + h);
      const want = reference(a, b, w, h, dtype);
      const got = Array.from(downsample(a, b, w, h, dtype) as ArrayLike<number>);
      const typed = Array.from(new TYPES[dtype](want.length).map((_, i) => want[i]!) as ArrayLike<number>);
      expect(got, `${dtype} ${w}x${h}`).toEqual(typed);
      // Into a buffer that held another mean: every voxel is written again.
      const into = new TYPES[dtype](want.length).fill(99 as never);
      expect(Array.from(downsample(a, b, w, h, dtype, into) as ArrayLike<number>), `${dtype} ${w}x${h} into`).toEqual(typed);
    }
  }
});

test("a slice that is a view at an odd offset takes the plain path, with the same means", () => {
  const backing = new Uint16Array(1 + 8 * 6);
  const a = backing.subarray(1);
  for (let i = 0; i < a.length; i++) a[i] = (i * 7919) & 0xffff;
  const b = fill("uint16", 48, 3) as Uint16Array;
  expect(Array.from(downsample(a, b, 8, 6, "uint16"))).toEqual(reference(a, b, 8, 6, "uint16"));
});
