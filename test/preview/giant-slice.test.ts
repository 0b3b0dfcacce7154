// A detector of 8192 x 8192 pixels: the slice alone is 128 MiB of uint16, and a level-0 slab of 256 such slices
// would be 16 GiB. The build goes through the real preview job and tiler child (coarse pass included), and the
// child's peak memory stays under the 2 GB bound. Raw tiles, so voxels are checked exactly and the half
// million thin XZ/YZ tiles of an 8192^2 x 3 volume do not take minutes of JPEG encoding on two cores.
import { expect, test } from "bun:test";
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { startJobs } from "../../src/jobs/index.ts";
import { previewRepo } from "../../src/preview/preview.repo.ts";
import { previewDir, previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { takeTilerPeakRss } from "../../src/preview/tiler.process.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";
import { readTile } from "./tiles.ts";

const SIDE = 8192;
const DEPTH = 3;
const BOUND = 2000 * 2 ** 20;

/** A sparse MetaImage: zeros everywhere but a bright 64 x 64 square in slice 1 at (5000, 7000). */
function writeGiant(dir: string): void {
  writeFileSync(
    path.join(dir, "giant.mhd"),
    [
      "ObjectType = Image",
      "NDims = 3",
      `DimSize = ${SIDE} ${SIDE} ${DEPTH}`,
      "ElementType = MET_USHORT",
      "ElementSpacing = 1 1 1",
      "ElementDataFile = giant.raw",
      "",
    ].join("\n"),
  );
  const fd = openSync(path.join(dir, "giant.raw"), "w");
  try {
    ftruncateSync(fd, SIDE * SIDE * DEPTH * 2);
    const row = new Uint16Array(64).fill(60000);
    for (let y = 7000; y < 7064; y++) writeSync(fd, new Uint8Array(row.buffer), 0, 128, ((1 * SIDE + y) * SIDE + 5000) * 2);
  } finally {
    closeSync(fd);
  }
}

test("an 8192 x 8192 slice volume builds with the tiler child's peak memory under 2 GB, its voxels where they belong", async () => {
  const ctx = testContext();
  try {
    const id = addDataset(ctx, "detector");
    writeGiant(path.join(ctx.config.root, "detector"));
    takeTilerPeakRss();
    const stop = await startJobs(ctx, { settleMs: 0, kinds: [previewJob({ encoding: "raw" })] });
    try {
      commitChange(ctx, id);
      await waitFor("the 8192^2 preview", () => ["ready", "failed"].includes(previewSummary(ctx, id).state) && previewSummary(ctx, id), 400_000, 50);
      expect(previewSummary(ctx, id)).toMatchObject({ state: "ready" });
    } finally {
      await stop();
    }
    const peak = takeTilerPeakRss();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(BOUND);
    const dir = previewDir(ctx, previewRepo(ctx.db).get(id, 0)!.content_key);
    // The square is in XY tile (19, 27) of slice 1 at level 0, and in the XZ tile of row 7030 (z going down).
    const xy = readTile(dir, 0, "4864-5120_6912-7168_1-2")!;
    expect([xy[0], xy[(7030 - 6912) * 256 + (5030 - 4864)]]).toEqual([0, 255]);
    const xz = readTile(dir, 0, "4864-5120_7030-7031_0-3")!;
    expect([xz[166], xz[256 + 166], xz[512 + 166]]).toEqual([0, 255, 0]);
  } finally {
    ctx.cleanup();
  }
}, 600_000);
