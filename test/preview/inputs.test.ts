// Which files previews follow comes from the readers themselves: every format they read gets a preview with the
// default rules (MetaImage .mha, Analyze .hdr/.img, DICOM without an extension, gzip'ed data files), and a change to
// a file no reader reads (notes, logs) never queues a build.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readTile } from "./tiles.ts";
import { loadConfig } from "../../src/config.ts";
import type { AppContext } from "../../src/context.ts";
import { previewCovers, previewDir, previewJob } from "../../src/preview/preview.service.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

test("the default rules cover every file a reader reads, and nothing else", () => {
  const covers = previewCovers(loadConfig({ root: "/tmp/x", state: "/tmp/y" }, {}).rules);
  const yes = [
    "ct.mha",
    "ct.mhd",
    "ct.raw",
    "ct.zraw",
    "brain.hdr",
    "brain.img",
    "t1.nii.gz",
    "vol.nrrd",
    "vol.raw.gz",
    "scan.xtekct",
    "scan.xtekVolume",
    "scan.vol",
  ];
  const more = ["proj.vgi", "slices/s_0001.TIF", "pic.png", "a.jpeg", "b.bmp", "DICOM/IM000123", "x.dcm", "y.IMA", "mesh.stl", "part.OBJ"];
  expect([...yes, ...more].filter((f) => !covers(f))).toEqual([]);
  expect(["notes.txt", "analysis.log", "report.pdf", "table.csv", ".mata/manifest.json", "sub/.mata/identity.json"].filter(covers)).toEqual([]);
});

test("a changed note queues no preview build; a changed volume does", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const id = addDataset(ctx, "knee");
  const dir = path.join(ctx.config.root, "knee");
  writeFileSync(path.join(dir, "notes.txt"), "looked fine");
  writeFileSync(path.join(dir, "knee.mha"), "not yet a volume");
  // A long settle time: jobs are queued, none starts while the test looks.
  cleanups.push(await startJobs(ctx, { settleMs: 600_000 }));
  const previews = () => ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE kind = 'preview'").get()!.n;
  commitChange(ctx, id, ["notes.txt"]);
  expect(previews()).toBe(0);
  commitChange(ctx, id, ["knee.mha"]);
  expect(previews()).toBe(1);
});

test("the preview key covers a companion data file the rules do not name: new bytes under the same header, a new preview", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const id = addDataset(ctx, "ct");
  const dir = path.join(ctx.config.root, "ct");
  writeFileSync(path.join(dir, "vol.mhd"), "ObjectType = Image\nNDims = 3\nDimSize = 8 8 4\nElementType = MET_UCHAR\nElementDataFile = vol.voxels\n");
  // Only the data file changes; the header stays byte for byte (and time for time) the same.
  const write = (value: number) => writeFileSync(path.join(dir, "vol.voxels"), new Uint8Array(8 * 8 * 4).fill(value));
  write(10);
  cleanups.push(await startJobs(ctx, { settleMs: 20, kinds: [previewJob({ encoding: "raw" })] }));
  const key = () => ctx.db.query<{ content_key: string; state: string }, [number]>("SELECT content_key, state FROM previews WHERE dataset_id = ?").get(id);
  commitChange(ctx, id, ["vol.mhd", "vol.voxels"]);
  await waitFor("first preview", () => key()?.state === "ready", 30_000);
  const first = key()!.content_key;
  await Bun.sleep(20);
  write(200);
  commitChange(ctx, id, ["vol.mhd", "vol.voxels"]);
  await waitFor("second preview", () => key()?.state === "ready" && key()!.content_key !== first, 30_000);
});

describe("a data file the readers' list does not name, named by a header", () => {
  const header = "ObjectType = Image\nNDims = 3\nDimSize = 8 8 4\nElementType = MET_UCHAR\nElementDataFile = vol.voxels\n";
  // A ramp along x, rising or falling: a new preview must show which.
  const voxels = (rising: boolean) => new Uint8Array(8 * 8 * 4).map((_, i) => (rising ? i % 8 : 7 - (i % 8)) * 30);
  const previewJobs = (ctx: AppContext, id: number) =>
    ctx.db.query<{ n: number }, [number]>("SELECT count(*) AS n FROM jobs WHERE kind = 'preview' AND dataset_id = ?").get(id)!.n;
  const row = (ctx: AppContext, id: number) =>
    ctx.db
      .query<{ content_key: string; state: string; error: string | null }, [number]>("SELECT content_key, state, error FROM previews WHERE dataset_id = ?")
      .get(id);
  const idle = (ctx: AppContext) => ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'running')").get()!.n === 0;
  /** The first row of the middle XY tile of the ready preview (raw encoding: one byte a voxel). */
  const firstRow = (ctx: AppContext, id: number) => [...readTile(previewDir(ctx, row(ctx, id)!.content_key), 0, "0-8_0-8_2-3")!.subarray(0, 8)];

  test("changing it alone queues a new preview build that shows the new data; an unrelated note queues nothing", async () => {
    const ctx = testContext();
    cleanups.push(() => ctx.cleanup());
    const dir = path.join(ctx.config.root, "ct");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "vol.mhd"), header);
    writeFileSync(path.join(dir, "vol.voxels"), voxels(true));
    writeFileSync(path.join(dir, "notes.txt"), "first look");
    cleanups.push(await startJobs(ctx, { settleMs: 20, kinds: [previewJob({ encoding: "raw" })] }));
    await reconcileAll(ctx);
    const id = ctx.db.query<{ id: number }, []>("SELECT id FROM datasets").get()!.id;
    await waitFor("first preview", () => row(ctx, id)?.state === "ready" && idle(ctx), 30_000);
    const first = row(ctx, id)!.content_key;
    const rising = firstRow(ctx, id);
    expect(rising[0]).toBeLessThan(rising[7]!);
    expect(previewJobs(ctx, id)).toBe(1);

    writeFileSync(path.join(dir, "notes.txt"), "second look, longer");
    const s = await reconcileAll(ctx);
    expect(s.files.modified).toBe(1);
    expect(previewJobs(ctx, id)).toBe(1);

    // New bytes under the very same header (its size and time untouched): only vol.voxels changed.
    await Bun.sleep(20);
    writeFileSync(path.join(dir, "vol.voxels"), voxels(false));
    const s2 = await reconcileAll(ctx);
    expect(s2.files.modified).toBe(1);
    expect(previewJobs(ctx, id)).toBe(2);
    await waitFor("second preview", () => row(ctx, id)?.state === "ready" && row(ctx, id)!.content_key !== first && idle(ctx), 30_000);
    const falling = firstRow(ctx, id);
    expect(falling[0]).toBeGreaterThan(falling[7]!);
  });

  test("a data file that arrives after its header (a large copy finishing later) builds the preview the header's failed", async () => {
    const ctx = testContext();
    cleanups.push(() => ctx.cleanup());
    const dir = path.join(ctx.config.root, "ct");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "vol.mhd"), header);
    cleanups.push(await startJobs(ctx, { settleMs: 20, kinds: [previewJob({ encoding: "raw" })] }));
    await reconcileAll(ctx);
    const id = ctx.db.query<{ id: number }, []>("SELECT id FROM datasets").get()!.id;
    await waitFor("the build fails", () => row(ctx, id)?.state === "failed" && idle(ctx), 30_000);
    expect(row(ctx, id)!.error).toContain("vol.voxels");
    writeFileSync(path.join(dir, "vol.voxels"), voxels(true));
    await reconcileAll(ctx);
    expect(previewJobs(ctx, id)).toBe(2);
    await waitFor("the preview is ready", () => row(ctx, id)?.state === "ready" && idle(ctx), 30_000);
    // Removed again: a build that fails, not a stale preview.
    rmSync(path.join(dir, "vol.voxels"));
    await reconcileAll(ctx);
    expect(previewJobs(ctx, id)).toBe(3);
    await waitFor("the build fails again", () => row(ctx, id)?.state === "failed" && idle(ctx), 30_000);
  });
});
