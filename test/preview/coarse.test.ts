// Coarse first: a large volume's coarse levels are published (and served, never cached for good) while the full build
// runs; the full build then replaces them. A kill -9 of the server leaves nothing half-published, and the restart
// shows the published coarse levels again at once while it builds the rest.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { coarseLevel, coarseShare, subsampled } from "../../src/preview/coarse.ts";
import { planLevels } from "../../src/preview/pyramid.ts";
import { previewRepo } from "../../src/preview/preview.repo.ts";
import { previewDir, previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { signedIn } from "../support/client.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";
import { phantomSource } from "./phantom.ts";
import { chunksIn, readTile } from "./tiles.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const value = (x: number, y: number, z: number) => 1000 + ((x * 3 + y * 5 + z * 7) % 500);
// 512 x 512 x 200 with a coarse level of at most 2^20 voxels: none is that small, so the coarsest, level 1
// (256 x 256 x 100), from every 2nd slice.
const DIMS: [number, number, number] = [512, 512, 200];
const COARSE = 2 ** 20;

describe("the coarse pass", () => {
  test("starts at the first level small enough, and none for a volume that small already", () => {
    expect(coarseLevel(planLevels(2048, 2048, 1200, true))).toBe(3);
    expect(coarseLevel(planLevels(4096, 4096, 4096, true))).toBe(4);
    expect(coarseLevel(planLevels(300, 280, 270, true))).toBe(0);
    expect(coarseLevel(planLevels(...DIMS, true), COARSE)).toBe(1);
    // Its share of the work: a tenth here (an eighth of the voxels to encode), under 1% for the 10 GB volume.
    expect(coarseShare(planLevels(...DIMS, true), 1)).toBeCloseTo(0.106, 2);
    expect(coarseShare(planLevels(2048, 2048, 1200, true), 3)).toBeLessThan(0.01);
  });

  test("reads every 2^c-th slice (the middle of each block) and averages 2^c x 2^c blocks, edges included", async () => {
    const src = phantomSource(10, 7, 9, (x, y, z) => x + 10 * y + 20 * z);
    const c = subsampled(src, 1);
    expect([c.width, c.height, c.depth, ...c.spacing]).toEqual([5, 4, 5, 1, 1, 2]);
    const s = await c.readSlice(4);
    // Slice 4 is source slice 9, clipped to the last one (8); block (4, 3) is the single bottom row's pair of voxels.
    expect(src.reads).toEqual([8]);
    expect(s[0]).toBe(Math.round((0 + 1 + 10 + 11) / 4 + 160));
    expect(s[3 * 5 + 4]).toBe(Math.round((8 + 9) / 2 + 60 + 160));
  });
});

test("a large volume's coarse levels are viewable before its full build ends, then replaced by it", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const id = addDataset(ctx, "ct");
  writeMetaImage(path.join(ctx.config.root, "ct"), "vol", DIMS, value);
  const stop = await startJobs(ctx, { settleMs: 0, kinds: [previewJob({ encoding: "raw", coarseVoxels: COARSE })] });
  cleanups.push(stop);
  const admin = signedIn(createApp(ctx), withUser(ctx, "root", { admin: true }));
  const progress: number[] = [];
  commitChange(ctx, id);
  const row = await waitFor(
    "coarse levels published",
    () => {
      const r = previewRepo(ctx.db).get(id, 0);
      if (r) progress.push(r.progress);
      return r?.coarse === 1 && r;
    },
    60_000,
    5,
  );
  const full = previewDir(ctx, row.content_key);
  expect(existsSync(full)).toBe(false);
  expect(previewSummary(ctx, id).state).toBe("running");
  const listed = (await (await admin.request(`/api/v1/datasets/${id}/previews`)).json()).previews[0];
  expect(listed).toMatchObject({ state: "ready", complete: false, version: `${row.content_key.slice(0, 16)}c` });
  // The coarse pyramid: level 2's geometry with the volume's physical extent, its tiles served but revalidated.
  const info = await (await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/info`)).json();
  expect(info.scales.map((s: { size: number[] }) => s.size)).toEqual([[256, 256, 100]]);
  expect(info.scales[0].resolution).toEqual([1_000_000, 1_000_000, 4_000_000]);
  const tile = await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/0-256_0-256_10-11`);
  expect(tile.status).toBe(200);
  expect(tile.headers.get("cache-control")).toBe("private, no-cache");
  expect(new Uint8Array(await tile.arrayBuffer()).length).toBe(256 * 256);
  const panel = await (await admin.request(`/datasets/${id}/previews/panel`)).text();
  expect(panel).toContain("Coarse levels shown");
  expect(panel).toContain("mata-viewer");

  await waitFor("full build", () => previewSummary(ctx, id).state === "ready", 120_000);
  const done = previewRepo(ctx.db).get(id, 0)!;
  expect(done.coarse).toBe(0);
  expect(existsSync(`${full}.coarse`)).toBe(false);
  expect(readdirSync(path.join(ctx.config.state, "previews", ".tmp"))).toEqual([]);
  const after = (await (await admin.request(`/api/v1/datasets/${id}/previews`)).json()).previews[0];
  expect(after).toMatchObject({ complete: true, version: row.content_key.slice(0, 16) });
  const fullTile = await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/0-256_0-256_42-43`);
  expect(fullTile.headers.get("cache-control")).toContain("immutable");
  expect(chunksIn(full, "xy", 0).chunks).toBe(200 * 4);
  // Progress only went up, and the coarse pass took its share (about a tenth) before the rest.
  expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);
  expect(row.progress).toBeGreaterThan(0.05);
  expect(row.progress).toBeLessThan(0.2);
  // A status poll with the versions shown answers the progress line alone while they last, the whole panel after.
  const poll = await admin.request(`/datasets/${id}/previews/panel?status=1&shown=0:${row.content_key.slice(0, 16)}c`);
  expect(poll.headers.get("hx-retarget")).toBe("#preview");
  expect(readTile(full, 0, "0-256_0-256_42-43")![0]).toBeGreaterThan(0);
}, 180_000);

test("kill -9 of the server after the coarse levels: nothing half-published, and the restart shows them at once", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const id = addDataset(ctx, "crash");
  writeMetaImage(path.join(ctx.config.root, "crash"), "vol", DIMS, value);
  const generation = commitChange(ctx, id);
  const server = Bun.spawn(
    [
      process.execPath,
      path.join(import.meta.dir, "..", "jobs", "run-jobs.ts"),
      ctx.config.root,
      ctx.config.state,
      String(id),
      String(generation),
      String(COARSE),
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  cleanups.push(() => {
    server.kill("SIGKILL");
  });
  const row = await waitFor("coarse levels published", () => previewRepo(ctx.db).get(id, 0)?.coarse === 1 && previewRepo(ctx.db).get(id, 0), 60_000, 5);
  await waitFor("full pass under way", () => (previewRepo(ctx.db).get(id, 0)?.progress ?? 0) > row.progress + 0.05, 60_000, 5);
  server.kill("SIGKILL");
  await server.exited;
  const full = previewDir(ctx, row.content_key);
  // Published: the coarse folder, complete; the full build only in the temp folder the next start clears.
  expect(existsSync(full)).toBe(false);
  expect(JSON.parse(readFileSync(path.join(`${full}.coarse`, "mata.json"), "utf8")).levels).toBe(1);
  expect(readdirSync(path.join(`${full}.coarse`)).sort()).toEqual(["info", "mata.json", "thumb.jpg", "xy", "xz", "yz"]);

  const stop = await startJobs(ctx, { settleMs: 0, kinds: [previewJob({ encoding: "raw", coarseVoxels: COARSE })] });
  cleanups.push(stop);
  const admin = signedIn(createApp(ctx), withUser(ctx, "root", { admin: true }));
  // The coarse levels are served again while the full build is made anew.
  await waitFor("rebuild running", () => previewSummary(ctx, id).state === "running", 30_000, 5);
  expect(previewRepo(ctx.db).get(id, 0)).toMatchObject({ state: "ready", coarse: 1 });
  expect((await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/0-256_0-256_10-11`)).status).toBe(200);
  await waitFor("full build", () => previewSummary(ctx, id).state === "ready", 120_000);
  expect(previewRepo(ctx.db).get(id, 0)!.coarse).toBe(0);
  expect(existsSync(`${full}.coarse`)).toBe(false);
  expect(chunksIn(full, "yz", 1).chunks).toBe(256 * 1);
  expect(readdirSync(path.join(ctx.config.state, "previews", ".tmp"))).toEqual([]);
}, 240_000);
