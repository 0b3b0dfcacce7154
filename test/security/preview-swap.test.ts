// The preview readers parse files any share user writes, and follow names in their headers (ElementDataFile). A
// share user points a header's data folder, or swaps the dataset folder, at outside files: once, and then in a loop
// while previews build. The outside bytes never reach a tile; the build is refused or reads the dataset's own data.
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { allChunks } from "../preview/tiles.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { listPreviews, previewDir, previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { previewRepo } from "../../src/preview/preview.repo.ts";
import { detectVolumes } from "../../src/preview/readers/index.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";
import { startSwapper } from "../support/swapper.ts";

const ctx = testContext();
const root = ctx.config.root;
const outside = mkdtempSync(path.join(os.tmpdir(), "mata-preview-outside-"));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => {
  ctx.cleanup();
  rmSync(outside, { recursive: true, force: true });
});

const DIMS = [32, 24, 8] as const;
const VOXELS = DIMS[0] * DIMS[1] * DIMS[2];
const INSIDE = 40;
/** The outside volume is a ramp, so any outside voxel in a tile of the (constant) dataset volume shows. */
const SECRET = Uint8Array.from({ length: VOXELS }, (_, i) => i % 251);

/** A uint8 MetaImage whose data file lies in `data/`. */
function writeVolume(dir: string, data: Uint8Array): void {
  mkdirSync(path.join(dir, "data"), { recursive: true });
  const header = ["ObjectType = Image", "NDims = 3", `DimSize = ${DIMS.join(" ")}`, "ElementType = MET_UCHAR", "ElementDataFile = data/vol.raw", ""];
  writeFileSync(path.join(dir, "vol.mhd"), header.join("\n"));
  writeFileSync(path.join(dir, "data", "vol.raw"), data);
}
const constant = (v: number) => new Uint8Array(VOXELS).fill(v);

/** The tiles of a built preview that hold more than one value (a constant volume's tiles hold one). */
function mixedTiles(dir: string): string[] {
  return [...allChunks(dir)].filter(([, bytes]) => new Set(bytes).size > 1).map(([name]) => name);
}

/** Puts back what the swapper moved aside. */
function putBack(): void {
  for (const [link, real] of [
    [path.join(root, "scan"), path.join(root, "scan.real")],
    [path.join(root, "scan", "data"), path.join(root, "scan", "data.real")],
  ] as const) {
    if (!existsSync(real)) continue;
    rmSync(link, { force: true });
    renameSync(real, link);
  }
}

/** The first voxel of the dataset's volume as the readers see it, or the refusal's message. */
async function firstVoxel(): Promise<number | string> {
  try {
    const [v] = await detectVolumes(path.join(root, "scan"), ["vol.mhd", "data/vol.raw"]);
    try {
      return new Uint8Array((await v!.readSlice(0)) as Uint8Array)[0]!;
    } finally {
      await v!.close();
    }
  } catch (e) {
    return (e as Error).message;
  }
}

test("a header's data folder or the dataset folder that is a symlink to outside files is refused by the readers", async () => {
  writeVolume(path.join(root, "scan"), constant(INSIDE));
  writeVolume(outside, SECRET);
  expect(await firstVoxel()).toBe(INSIDE);

  // The data folder a symlink to outside: the header is read, the data file refused.
  renameSync(path.join(root, "scan", "data"), path.join(root, "scan", "data.real"));
  symlinkSync(path.join(outside, "data"), path.join(root, "scan", "data"));
  expect(await firstVoxel()).toMatch(/^data\/vol\.raw: .*\(ELOOP\)$/);
  rmSync(path.join(root, "scan", "data"));
  renameSync(path.join(root, "scan", "data.real"), path.join(root, "scan", "data"));

  // The dataset folder itself a symlink to outside: nothing of it is read.
  renameSync(path.join(root, "scan"), path.join(root, "scan.real"));
  symlinkSync(outside, path.join(root, "scan"));
  expect(await firstVoxel()).toMatch(/ELOOP/);
  putBack();
  expect(await firstVoxel()).toBe(INSIDE);
});

test("folders swapped for symlinks in a loop during preview builds: no outside byte reaches a tile", async () => {
  writeVolume(outside, SECRET);
  const id = addDataset(ctx, "scan");
  const stop = await startJobs(ctx, { settleMs: 0, kinds: [previewJob({ encoding: "raw" })] });
  cleanups.push(stop);
  const outcomes: string[] = [];
  // At least 5 builds, and on until one was refused (under load a swap lands inside a build less often).
  for (let build = 0; build < 40 && (build < 5 || !outcomes.includes("failed")); build++) {
    // New content each time, so no build is skipped as already made.
    writeVolume(path.join(root, "scan"), constant(INSIDE + build));
    commitChange(ctx, id);
    const swapper = await startSwapper([
      [path.join(root, "scan", "data"), path.join(outside, "data")],
      [path.join(root, "scan"), outside],
    ]);
    try {
      await waitFor("preview settled", () => ["ready", "failed", "none"].includes(previewSummary(ctx, id).state), 30_000);
    } finally {
      await swapper.stop();
    }
    const row = previewRepo(ctx.db).get(id, 0);
    outcomes.push(row?.state ?? "none");
    if (row?.state === "ready") expect(mixedTiles(previewDir(ctx, row.content_key))).toEqual([]);
    if (row?.state === "failed") expect(row.error).toMatch(/ELOOP/);
  }
  // The swaps did land inside builds: some were refused.
  expect(outcomes).toContain("failed");
  // Undisturbed, the same dataset builds.
  writeVolume(path.join(root, "scan"), constant(INSIDE + 99));
  commitChange(ctx, id);
  await waitFor("preview ready", () => previewSummary(ctx, id).state === "ready", 30_000);
  expect(mixedTiles(previewDir(ctx, previewRepo(ctx.db).get(id, 0)!.content_key))).toEqual([]);
}, 180_000);
