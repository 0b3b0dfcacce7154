import { expect, test } from "bun:test";
import { windowTo8 } from "../../src/preview/window.ts";

/** The definition: (v - lo) * 255 / (hi - lo), rounded, clamped to 0..255. */
const reference = (v: number, lo: number, hi: number) => {
  const t = ((v - lo) * 255) / (hi - lo);
  return t >= 255 ? 255 : t > 0 ? Math.floor(t + 0.5) : 0;
};

test("windowing maps every 8/16-bit sample (signed or not) and floats the same way", () => {
  const cases: [ArrayLike<number> & { length: number }, [number, number]][] = [
    [Uint16Array.from({ length: 65536 }, (_, i) => i), [1000, 40000]],
    [Int16Array.from({ length: 65536 }, (_, i) => i - 32768), [-1200, 3000]],
    [Uint8Array.from({ length: 256 }, (_, i) => i), [10, 200]],
    [Int8Array.from({ length: 256 }, (_, i) => i - 128), [-50, 60]],
    [Float32Array.from([-1e9, -0.5, 0, 0.25, 0.5, 0.75, 1, 2, Number.NaN]), [0, 1]],
  ];
  for (const [data, win] of cases) {
    const out = windowTo8(data as never, win, new Uint8Array(data.length));
    for (let i = 0; i < data.length; i++) expect(out[i]).toBe(Number.isNaN(data[i]) ? 0 : reference(data[i]!, win[0], win[1]));
  }
});
