// The YZ gather of a brick (src/preview/brick-work.ts): word-wise where the sides allow, byte-wise elsewhere, both the
// same as reading each column down, for aligned and ragged bricks and any block of columns.
import { expect, test } from "bun:test";
import { gatherYZ } from "../../src/preview/brick-work.ts";

function naive(brick: Uint8Array, bw: number, bh: number, n: number, x0: number, m: number): Uint8Array {
  const out = new Uint8Array(m * bh * n);
  for (let i = 0; i < m; i++) for (let r = 0; r < n; r++) for (let y = 0; y < bh; y++) out[i * bh * n + r * bh + y] = brick[r * bw * bh + y * bw + x0 + i]!;
  return out;
}

test("YZ tiles gathered from a brick match its columns read down, aligned or not", () => {
  for (const [bw, bh, n] of [
    [256, 256, 7],
    [64, 32, 1],
    [150, 90, 5],
    [12, 8, 3],
    [4, 4, 2],
    [3, 5, 2],
  ] as const) {
    const brick = new Uint8Array(bw * bh * n);
    for (let i = 0; i < brick.length; i++) brick[i] = (i * 2654435761) >>> 24;
    for (const [x0, m] of [
      [0, bw],
      [0, Math.min(bw, 64)],
      [bw >= 8 ? 4 : 0, Math.min(4, bw)],
      [1, Math.min(3, bw - 1)],
    ] as const) {
      if (m <= 0) continue;
      expect([bw, bh, n, x0, m, Buffer.from(gatherYZ(brick, bw, bh, n, x0, m)).equals(Buffer.from(naive(brick, bw, bh, n, x0, m)))]).toEqual([
        bw,
        bh,
        n,
        x0,
        m,
        true,
      ]);
    }
  }
});
