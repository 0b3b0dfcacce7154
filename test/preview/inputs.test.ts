// Which files previews follow comes from the readers themselves: every format they read gets a preview with the
// default rules (MetaImage .mha, Analyze .hdr/.img, DICOM without an extension, gzip'ed data files), and a change to
// a file no reader reads (notes, logs) never queues a build.
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config.ts";
import { previewCovers, previewJob } from "../../src/preview/preview.service.ts";
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
