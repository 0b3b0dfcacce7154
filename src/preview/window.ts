import type { SliceData } from "./readers/reader.types.ts";

let memo: { lo: number; hi: number; signed: boolean; bits: number; lut: Uint8Array } | null = null;

/** The 8-bit value of every possible 8- or 16-bit sample under a window, built once per window and type. */
function lutFor(lo: number, hi: number, signed: boolean, bits: number): Uint8Array {
  if (memo && memo.lo === lo && memo.hi === hi && memo.signed === signed && memo.bits === bits) return memo.lut;
  const size = 1 << bits;
  const lut = new Uint8Array(size);
  const scale = 255 / (hi - lo);
  for (let i = 0; i < size; i++) {
    // Signed samples are looked up by their unsigned bit pattern.
    const value = signed && i >= size / 2 ? i - size : i;
    lut[i] = to8((value - lo) * scale);
  }
  memo = { lo, hi, signed, bits, lut };
  return lut;
}

function to8(v: number): number {
  return v >= 255 ? 255 : v > 0 ? (v + 0.5) | 0 : 0;
}

/** Maps stored values to 8-bit display values through the window, clamping outside it (NaN shows black). */
export function windowTo8(data: SliceData, window: [number, number], out: Uint8Array): Uint8Array {
  const [lo, hi] = window;
  // 8- and 16-bit integers go through a lookup table: several times cheaper than the arithmetic per voxel.
  if (data instanceof Uint16Array || data instanceof Int16Array || data instanceof Uint8Array || data instanceof Int8Array) {
    const bits = data.BYTES_PER_ELEMENT * 8;
    const lut = lutFor(lo, hi, data instanceof Int16Array || data instanceof Int8Array, bits);
    const keys =
      data instanceof Int16Array
        ? new Uint16Array(data.buffer, data.byteOffset, data.length)
        : data instanceof Int8Array
          ? new Uint8Array(data.buffer, data.byteOffset, data.length)
          : data;
    for (let i = 0; i < out.length; i++) out[i] = lut[keys[i]!]!;
    return out;
  }
  const scale = 255 / (hi - lo);
  for (let i = 0; i < out.length; i++) out[i] = to8((data[i]! - lo) * scale);
  return out;
}
