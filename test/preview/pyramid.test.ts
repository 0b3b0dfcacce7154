import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { buildPyramid, planLevels, scratchDirOf } from "../../src/preview/pyramid.ts";
import { tempDir } from "../support/env.ts";
import { expectedAt, levelDims, phantomSource } from "./phantom.ts";
import { chunksIn, readTile, sha256, specReaderHashes } from "./tiles.ts";

const DIMS: [number, number, number] = [300, 280, 270];
const hashy = (x: number, y: number, z: number) => (x * 7 + y * 13 + z * 29 + ((x * y) ^ z)) & 255;
const blocky = (x: number, y: number, z: number) => (((x >> 4) * 37 + (y >> 4) * 59 + (z >> 4) * 83) % 200) + 20;

async function tilePixels(tile: Buffer, encoding: "raw" | "jpeg"): Promise<{ data: Uint8Array; width: number; height: number }> {
  if (encoding === "raw") return { data: tile, width: 0, height: 0 };
  const { data, info } = await sharp(tile).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Checks every pixel of one tile, read from its shard, against the reference, in the layout the viewer and Neuroglancer read. */
async function checkTile(
  dir: string,
  encoding: "raw" | "jpeg",
  level: number,
  box: [[number, number], [number, number], [number, number]],
  value: typeof hashy,
  tolerance: number,
) {
  const [[x0, x1], [y0, y1], [z0, z1]] = box;
  const tile = readTile(dir, level, `${x0}-${x1}_${y0}-${y1}_${z0}-${z1}`);
  expect(tile).not.toBeNull();
  const { data, width, height } = await tilePixels(tile!, encoding);
  expect(data.length).toBe((x1 - x0) * (y1 - y0) * (z1 - z0));
  // x fastest, then y, then z: for XZ tiles rows are z, for YZ tiles columns are y and rows are z.
  let i = 0;
  let worst = 0;
  for (let z = z0; z < z1; z++)
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const want = expectedAt(value, DIMS, level, x, y, z);
        worst = Math.max(worst, Math.abs(data[i++]! - want));
      }
  expect(worst).toBeLessThanOrEqual(tolerance);
  if (encoding === "jpeg") {
    const w = x1 - x0 === 1 ? y1 - y0 : x1 - x0;
    expect(width).toBe(w);
    expect(height * width).toBe(data.length);
  }
}

describe("pyramid", () => {
  test("level plan halves until one tile", () => {
    expect(planLevels(300, 280, 270, true)).toEqual([
      [300, 280, 270],
      [150, 140, 135],
    ]);
    expect(planLevels(2048, 2048, 2000, true).length).toBe(4);
    expect(planLevels(2048, 2048, 2000, false).at(-1)).toEqual([256, 256, 2000]);
  });

  for (const encoding of ["raw", "jpeg"] as const) {
    test(`phantom volume: XY, XZ and YZ tiles match the voxels pixel by pixel at two levels (${encoding})`, async () => {
      const t = tempDir();
      try {
        const value = encoding === "raw" ? hashy : blocky;
        const src = phantomSource(...DIMS, value);
        // Each report with the number of slices read by then.
        const progress: [number, number][] = [];
        const result = await buildPyramid(src, t.dir, {
          window: [0, 255],
          orientations: "xyz",
          encoding,
          quality: 90,
          onProgress: (f) => progress.push([f, src.reads.length]),
        });
        // One pass over z: every slice read exactly once, in order.
        expect(src.reads).toEqual([...Array(DIMS[2]).keys()]);
        // Progress moves from the first slice read (no tile is encoded before a whole slab is), never back, and ends at 1.
        expect(progress[0]![1]).toBe(1);
        expect(progress[0]![0]).toBeGreaterThan(0);
        expect(progress.every(([f], i) => i === 0 || f >= progress[i - 1]![0])).toBe(true);
        expect(progress.at(-1)![0]).toBe(1);
        expect(result.scales.map((s) => s.size)).toEqual([
          [300, 280, 270],
          [150, 140, 135],
        ]);
        const info = JSON.parse(readFileSync(path.join(t.dir, "info"), "utf8"));
        expect(info.scales[0].chunk_sizes).toEqual([
          [256, 256, 1],
          [256, 1, 256],
          [1, 256, 256],
        ]);
        expect(info.scales[0].resolution).toEqual([500000, 500000, 1000000]);
        expect(info.scales[1].resolution).toEqual([1000000, 1000000, 2000000]);
        const tol = encoding === "raw" ? 0 : 3;
        // Level 0: XY tiles (corner and partial edge), XZ across the slab boundary at z=256, YZ likewise.
        await checkTile(
          t.dir,
          encoding,
          0,
          [
            [0, 256],
            [0, 256],
            [5, 6],
          ],
          value,
          tol,
        );
        await checkTile(
          t.dir,
          encoding,
          0,
          [
            [256, 300],
            [256, 280],
            [269, 270],
          ],
          value,
          tol,
        );
        await checkTile(
          t.dir,
          encoding,
          0,
          [
            [0, 256],
            [17, 18],
            [0, 256],
          ],
          value,
          tol,
        );
        await checkTile(
          t.dir,
          encoding,
          0,
          [
            [256, 300],
            [279, 280],
            [256, 270],
          ],
          value,
          tol,
        );
        await checkTile(
          t.dir,
          encoding,
          0,
          [
            [33, 34],
            [0, 256],
            [0, 256],
          ],
          value,
          tol,
        );
        await checkTile(
          t.dir,
          encoding,
          0,
          [
            [299, 300],
            [256, 280],
            [256, 270],
          ],
          value,
          tol,
        );
        // Level 1: the 2x2x2 means.
        const [w1, h1, d1] = levelDims(DIMS, 1);
        await checkTile(
          t.dir,
          encoding,
          1,
          [
            [0, w1],
            [0, h1],
            [67, 68],
          ],
          value,
          tol,
        );
        await checkTile(
          t.dir,
          encoding,
          1,
          [
            [0, w1],
            [h1 - 1, h1],
            [0, d1],
          ],
          value,
          tol,
        );
        await checkTile(
          t.dir,
          encoding,
          1,
          [
            [w1 - 1, w1],
            [0, h1],
            [0, d1],
          ],
          value,
          tol,
        );
        // Complete: the expected number of tiles per level and orientation, in a few shard files.
        expect([0, 1].map((l) => ["xy", "xz", "yz"].map((o) => chunksIn(t.dir, o as "xy", l).chunks))).toEqual([
          [270 * 4, 280 * 2 * 2, 300 * 2 * 2],
          [135, 140, 150],
        ]);
        expect(chunksIn(t.dir, "xy", 0).shards).toEqual(["0.shard"]);
        expect(existsSync(path.join(t.dir, "thumb.jpg"))).toBe(true);
        // Each orientation opens as a sharded precomputed volume: the spec's own reader finds the same tiles.
        const cells: [string, number, [number, number, number], string][] = [
          ["xy", 0, [1, 0, 5], "256-300_0-256_5-6"],
          ["xz", 0, [1, 279, 1], "256-300_279-280_256-270"],
          ["yz", 1, [149, 0, 0], "149-150_0-140_0-135"],
        ];
        for (const [o, level, cell, name] of cells)
          expect(await specReaderHashes(t.dir, o as "xy", level, [cell])).toEqual([sha256(readTile(t.dir, level, name)!)]);
      } finally {
        t.cleanup();
      }
    }, 60_000);
  }

  test("a 2D image gets XY tiles only", async () => {
    const t = tempDir();
    try {
      const src = phantomSource(600, 300, 1, (x, y) => (x + y) & 255);
      const r = await buildPyramid(src, t.dir, { window: [0, 255], orientations: "xyz", encoding: "raw", quality: 85 });
      expect(r.scales.map((s) => s.size)).toEqual([
        [600, 300, 1],
        [300, 150, 1],
        [150, 75, 1],
      ]);
      expect(r.scales[0]!.chunk_sizes).toEqual([[256, 256, 1]]);
      expect(readdirSync(t.dir).sort()).toEqual(["info", "thumb.jpg", "xy"]);
      expect(chunksIn(t.dir, "xy", 0).chunks).toBe(6);
      for (const name of ["0-256_0-256_0-1", "0-256_256-300_0-1", "256-512_0-256_0-1", "256-512_256-300_0-1", "512-600_0-256_0-1", "512-600_256-300_0-1"])
        expect(readTile(t.dir, 0, name)?.length).toBe(
          name.includes("512-600") ? 88 * (name.includes("256-300") ? 44 : 256) : 256 * (name.includes("256-300") ? 44 : 256),
        );
    } finally {
      t.cleanup();
    }
  });
});

test("a volume thinner than the pyramid keeps its true depth at every level (z is halved only while there is more than one slice)", async () => {
  const t = tempDir();
  try {
    const src = phantomSource(1200, 1100, 3, blocky, { spacing: [1, 1, 5], unit: "um" });
    await buildPyramid(src, t.dir, { window: [0, 255], orientations: "xyz", encoding: "raw", quality: 85 });
    const info = JSON.parse(readFileSync(path.join(t.dir, "info"), "utf8")) as { scales: { size: number[]; resolution: number[] }[] };
    const depthNm = info.scales.map((s) => s.size[2]! * s.resolution[2]!);
    expect(info.scales.map((s) => s.size[2])).toEqual([3, 2, 1, 1]);
    // 3 slices of 5 µm: the extent never passes one coarse voxel beyond 15 µm (4 x 5 µm), however many levels follow.
    expect(depthNm).toEqual([15_000, 20_000, 20_000, 20_000]);
  } finally {
    t.cleanup();
  }
});

test("bricks built on threads give the very same shards as in one thread; their scratch lies beside the build, then goes", async () => {
  const t = tempDir();
  try {
    // 300 x 600 x 270: two slabs at level 0 (256 + 14 slices), 2 x 3 bricks each, edge bricks cut short.
    const dims: [number, number, number] = [300, 600, 270];
    const single = path.join(t.dir, "single");
    const threaded = path.join(t.dir, "threaded");
    await buildPyramid(phantomSource(...dims, hashy), single, { window: [0, 255], orientations: "xyz", encoding: "raw", quality: 85, threads: 0 });
    const seen: string[] = [];
    const src = phantomSource(...dims, hashy);
    const read = src.readSlice.bind(src);
    src.readSlice = async (z, signal) => {
      // While slices are read, level 0's slab lives in the scratch folder next to the build's folder, not inside it.
      if (z === 100) seen.push(...readdirSync(t.dir), ...readdirSync(scratchDirOf(threaded)));
      return read(z, signal);
    };
    await buildPyramid(src, threaded, { window: [0, 255], orientations: "xyz", encoding: "raw", quality: 85, threads: 2 });
    expect(seen).toContain("threaded.bricks");
    expect(seen).toContain("0-0");
    expect(readdirSync(path.join(threaded, "xy"))).not.toContain("0-0");
    // Scratch is removed at the end.
    expect(readdirSync(t.dir).sort()).toEqual(["single", "threaded"]);
    for (const o of ["xy", "xz", "yz"])
      for (const level of ["0", "1", "2"]) {
        const names = readdirSync(path.join(single, o, level)).sort();
        expect(readdirSync(path.join(threaded, o, level)).sort()).toEqual(names);
        for (const n of names) expect(readFileSync(path.join(threaded, o, level, n)).equals(readFileSync(path.join(single, o, level, n)))).toBe(true);
      }
  } finally {
    t.cleanup();
  }
}, 120_000);
