import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { readTile } from "./tiles.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { listPreviews, previewDir, previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { previewRepo } from "../../src/preview/preview.repo.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup() {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  return ctx;
}

const ramp = (x: number, y: number, z: number) => 1000 + x * 10 + y * 5 + z * 50;

describe("preview builds through the queue", () => {
  test("a content change builds the dataset's preview in a child process, with the header-less window from percentiles", async () => {
    const ctx = setup();
    const id = addDataset(ctx, "scan-a");
    writeMetaImage(path.join(ctx.config.root, "scan-a"), "vol", [64, 48, 40], ramp);
    const stop = await startJobs(ctx, { settleMs: 50, kinds: [previewJob({ encoding: "raw" })] });
    cleanups.push(stop);
    commitChange(ctx, id);
    expect(previewSummary(ctx, id).state).toBe("queued");
    await waitFor("preview ready", () => previewSummary(ctx, id).state === "ready");
    const [p] = listPreviews(ctx, id);
    expect(p).toMatchObject({
      n: 0,
      file: "vol.mhd",
      kind: "volume",
      state: "ready",
      size: [64, 48, 40],
      dtype: "uint16",
      spacing: [0.5, 0.5, 2],
      unit: "mm",
      levels: 1,
    });
    const row = previewRepo(ctx.db).get(id, 0)!;
    const dir = previewDir(ctx, row.content_key);
    const info = JSON.parse(readFileSync(path.join(dir, "info"), "utf8"));
    expect(info.scales[0].size).toEqual([64, 48, 40]);
    // The window came from percentiles of the data (no data range in a MetaImage header).
    const [lo, hi] = p!.window!;
    expect(lo).toBeGreaterThanOrEqual(1000);
    expect(hi).toBeLessThanOrEqual(ramp(63, 47, 39));
    // A raw XY tile is the windowed voxels.
    const tile = readTile(dir, 0, "0-64_0-48_7-8")!;
    const expect8 = (v: number) => Math.max(0, Math.min(255, Math.floor(((v - lo) * 255) / (hi - lo) + 0.5)));
    for (const [x, y] of [
      [0, 0],
      [10, 20],
      [63, 47],
      [31, 5],
    ] as const)
      expect(Math.abs(tile[y * 64 + x]! - expect8(ramp(x, y, 7)))).toBeLessThanOrEqual(1);
    expect(existsSync(path.join(ctx.config.state, "previews", ".tmp")) ? readdirSync(path.join(ctx.config.state, "previews", ".tmp")) : []).toEqual([]);
  }, 60_000);

  test("a copied dataset gets its own build (equal names, sizes and times are no key); a renamed one is not rebuilt", async () => {
    const ctx = setup();
    const a = addDataset(ctx, "orig");
    writeMetaImage(path.join(ctx.config.root, "orig"), "vol", [40, 30, 20], ramp);
    const stop = await startJobs(ctx, { settleMs: 50 });
    cleanups.push(stop);
    commitChange(ctx, a);
    await waitFor("first preview", () => previewSummary(ctx, a).state === "ready");
    const key = previewRepo(ctx.db).get(a, 0)!.content_key;
    const info = path.join(previewDir(ctx, key), "info");
    const builtAt = Bun.file(info).lastModified;
    // A copy: another dataset with equal files (same names, sizes, times).
    const b = addDataset(ctx, "copy");
    for (const f of ["vol.mhd", "vol.raw"]) {
      await Bun.write(path.join(ctx.config.root, "copy", f), Bun.file(path.join(ctx.config.root, "orig", f)));
      const st = Bun.file(path.join(ctx.config.root, "orig", f));
      const { utimesSync } = await import("node:fs");
      utimesSync(path.join(ctx.config.root, "copy", f), new Date(st.lastModified), new Date(st.lastModified));
    }
    commitChange(ctx, b);
    await waitFor("copy preview", () => previewSummary(ctx, b).state === "ready");
    // Built again from the copy's own bytes under its own key: another dataset never shares tiles (test/security/preview-key.test.ts).
    const copyKey = previewRepo(ctx.db).get(b, 0)!.content_key;
    expect(copyKey).not.toBe(key);
    expect(existsSync(path.join(previewDir(ctx, copyKey), "info"))).toBe(true);
    // A rename: the dataset path changes, the files and their times do not; the job finds the same key.
    ctx.db.query("UPDATE datasets SET path = 'renamed' WHERE id = ?").run(a);
    const { renameSync } = await import("node:fs");
    renameSync(path.join(ctx.config.root, "orig"), path.join(ctx.config.root, "renamed"));
    // Even when the change lists every file again, the job finds the same content key and builds nothing.
    commitChange(ctx, a, ["vol.mhd", "vol.raw"]);
    expect(previewSummary(ctx, a).state).toBe("queued");
    await waitFor("renamed preview", () => previewSummary(ctx, a).state === "ready");
    expect(Bun.file(info).lastModified).toBe(builtAt);
    expect(previewRepo(ctx.db).get(a, 0)!.content_key).toBe(key);
    const started = ctx.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'preview' AND state = 'done'").get()!.n;
    expect(started).toBe(3);
  }, 60_000);

  test("a dataset changed while no server ran gets its preview at start, once", async () => {
    const ctx = setup();
    const id = addDataset(ctx, "offline");
    writeMetaImage(path.join(ctx.config.root, "offline"), "vol", [32, 32, 4], ramp);
    await Bun.write(path.join(ctx.config.root, "offline", "notes.txt"), "x");
    const other = addDataset(ctx, "text-only");
    await Bun.write(path.join(ctx.config.root, "text-only", "notes.txt"), "x");
    commitChange(ctx, id); // no listener: as `mata scan` would leave it
    commitChange(ctx, other);
    const stop = await startJobs(ctx, { settleMs: 20 });
    await waitFor("caught up", () => previewSummary(ctx, id).state === "ready");
    await stop();
    expect(previewSummary(ctx, other).state).toBe("none");
    const again = await startJobs(ctx, { settleMs: 20 });
    cleanups.push(again);
    await Bun.sleep(100);
    expect(ctx.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'preview'").get()!.n).toBe(1);
  }, 60_000);

  test("a corrupt file fails its own preview with the reader's reason; the good volume beside it is built", async () => {
    const ctx = setup();
    const id = addDataset(ctx, "mixed");
    writeMetaImage(path.join(ctx.config.root, "mixed"), "vol", [32, 32, 6], ramp);
    await Bun.write(path.join(ctx.config.root, "mixed", "broken.tif"), new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 37) & 255)));
    const stop = await startJobs(ctx, { settleMs: 20 });
    cleanups.push(stop);
    commitChange(ctx, id);
    await waitFor("built", () => ["failed", "ready"].includes(previewSummary(ctx, id).state));
    const previews = listPreviews(ctx, id);
    expect(previews.map((p) => [p.file, p.state])).toEqual([
      ["broken.tif", "failed"],
      ["vol.mhd", "ready"],
    ]);
    expect(previews[0]!.error).toContain("broken.tif");
    const s = previewSummary(ctx, id);
    expect(s.state).toBe("failed");
    expect(s.error).toContain("broken.tif");
  }, 60_000);

  test("a truncated volume fails the job with a reason naming the file; the queue keeps working", async () => {
    const ctx = setup();
    const bad = addDataset(ctx, "bad");
    writeMetaImage(path.join(ctx.config.root, "bad"), "vol", [64, 64, 30], ramp, { truncateTo: 64 * 64 * 2 * 10 + 7 });
    const good = addDataset(ctx, "good");
    writeMetaImage(path.join(ctx.config.root, "good"), "vol", [32, 32, 8], ramp);
    const stop = await startJobs(ctx, { settleMs: 50 });
    cleanups.push(stop);
    commitChange(ctx, bad);
    await waitFor("bad preview failed", () => previewSummary(ctx, bad).state === "failed");
    const s = previewSummary(ctx, bad);
    expect(s.error).toContain("vol");
    expect(s.error!.toLowerCase()).toMatch(/truncat|but the file has|end of file/);
    commitChange(ctx, good);
    await waitFor("good preview", () => previewSummary(ctx, good).state === "ready");
  }, 60_000);
});
