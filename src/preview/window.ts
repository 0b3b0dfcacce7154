import type { SliceData } from "./readers/reader.types.ts";

/** Maps stored values to 8-bit display values through the window, clamping outside it (NaN shows black). */
export function windowTo8(data: SliceData, window: [number, number], out: Uint8Array): Uint8Array {
  const [lo, hi] = window;
  const scale = 255 / (hi - lo);
  for (let i = 0; i < out.length; i++) {
    const v = (data[i]! - lo) * scale;
    out[i] = v >= 255 ? 255 : v > 0 ? (v + 0.5) | 0 : 0;
  }
  return out;
}
