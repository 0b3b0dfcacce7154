// OME-Zarr export: what the job writes into `derived/` is read back bit-exact by two independent readers (zarrita here,
// Debian's python3-zarr in zarr-check.py), with its metadata, levels, bounded memory, cancel and re-export.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as zarr from "zarrita";
import { createApp } from "../../src/app.ts";
import { EXPORT_JOB, exportJob, exportName, takeExportPeakRss } from "../../src/export/export.job.ts";
import { activeExportChildren } from "../../src/export/export.process.ts";
import { planLevels } from "../../src/export/zarr.writer.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewJob } from "../../src/preview/preview.service.ts";
import { detectVolumes, isVolumeInput } from "../../src/preview/readers/index.ts";
import type { DType } from "../../src/preview/readers/reader.types.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { withUser } from "../support/auth.ts";
import { signedIn } from "../support/client.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";
import { volumeBytes, writeMetaImage, writeTiff } from "../readers/fixtures.ts";

const PYTHON = "/usr/bin/python3";
const CHECK = path.join(import.meta.dir, "zarr-check.py");

// Fixity off: every dataset's change queues a fixity job, whose hasher runs in the idle CPU class. On a loaded 2-core
// machine those hashers get no CPU, and two earlier datasets' fixity jobs then hold both job slots
// (job_concurrency = cores) while the export waits in the queue: seen 25-80 s waits and 60-120 s timeouts.
const ctx = testContext({ fixityEveryMs: null });
const app = createApp(ctx);
let stop: () => Promise<void>;

beforeAll(async () => {
  stop = await startJobs(ctx, { settleMs: 20, kinds: [previewJob({ encoding: "raw" }), exportJob()] });
}, 30_000);
afterAll(async () => {
  await stop();
  ctx.cleanup();
});

const jobRow = (id: number) =>
  ctx.db.query<{ state: string; error: string | null; progress: number }, [number]>("SELECT state, error, progress FROM jobs WHERE id = ?").get(id)!;
const jobsOf = (datasetId: number, kind: string) =>
  ctx.db
    .query<{ id: number; state: string }, [number, string]>("SELECT id, state FROM jobs WHERE dataset_id = ? AND kind = ? ORDER BY id")
    .all(datasetId, kind);

/** Queues an export through the API as the dataset's owner and waits for it to end; returns the job's row. */
async function exportThroughApi(id: number, body?: unknown): Promise<{ jobId: number; state: string; error: string | null }> {
  const owner = signedIn(app, withUser(ctx, "olga"));
  const res = await owner.request(`/api/v1/datasets/${id}/export/ome-zarr`, {
    method: "POST",
    ...(body === undefined ? {} : { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }),
  });
  expect(res.status).toBe(202);
  const { jobId, kind } = (await res.json()) as { jobId: number; kind: string };
  expect(kind).toBe(EXPORT_JOB);
  const row = await waitFor("the export job", () => (["done", "failed", "cancelled"].includes(jobRow(jobId).state) ? jobRow(jobId) : null), 120_000);
  return { jobId, ...row };
}

function dataset(name: string): { id: number; dir: string } {
  const id = addDataset(ctx, name);
  ctx.db.query("UPDATE datasets SET owner = 'olga' WHERE id = ?").run(id);
  return { id, dir: path.join(ctx.config.root, name) };
}

/** A store zarrita reads from a folder (its keys start with "/"). */
function folderStore(dir: string) {
  return {
    get: async (key: string) => {
      try {
        return new Uint8Array(readFileSync(path.join(dir, key)));
      } catch {
        return undefined;
      }
    },
  };
}

/** Level 0 read whole by zarrita, as bytes (little-endian, the host's order), with the group's multiscales. */
async function readWithZarrita(dir: string) {
  const store = folderStore(dir);
  const group = await zarr.open.v2(zarr.root(store), { kind: "group" });
  const ms = (group.attrs as { multiscales: { datasets: { path: string }[] }[] }).multiscales[0]!;
  const shapes: number[][] = [];
  for (const d of ms.datasets) shapes.push((await zarr.open.v2(zarr.root(store).resolve(d.path), { kind: "array" })).shape);
  const level0 = await zarr.open.v2(zarr.root(store).resolve("0"), { kind: "array" });
  const got = await zarr.get(level0);
  const data = got.data as unknown as ArrayBufferView;
  return { dtype: level0.dtype, chunks: level0.chunks, shapes, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** zarr-check.py's report: each level's shape, chunks, dtype, codec and whether it matched. */
function readWithPython(store: string, expected: Uint8Array, dtype: DType, dims: [number, number, number]) {
  const raw = path.join(ctx.dir, `expected-${path.basename(store)}-${Date.now()}.raw`);
  writeFileSync(raw, expected);
  const [w, h, d] = dims;
  const py = Bun.spawnSync([PYTHON, CHECK, store, raw, dtype, String(d), String(h), String(w)], { stdout: "pipe", stderr: "pipe" });
  rmSync(raw);
  if (py.exitCode !== 0) throw new Error(`zarr-check.py failed: ${py.stderr.toString()}`);
  return JSON.parse(py.stdout.toString()) as {
    version: string;
    axes: { name: string; type: string; unit?: string }[];
    scales: number[][];
    levels: { path: string; shape: number[]; chunks: number[]; dtype: string; compressor: string; equal: boolean }[];
  };
}

/** The newest audit entry of a dataset. */
const recentAudit = (id: number) =>
  ctx.db
    .query<{ action: string; actor: string; target: string; detail: string }, [number]>(
      "SELECT action, actor, target, detail FROM audit_log WHERE dataset_id = ? ORDER BY id DESC LIMIT 1",
    )
    .get(id);

const files = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe("OME-Zarr export read back by zarrita and python3-zarr", () => {
  test("uint8 MetaImage of 150 x 100 x 70 (no side a multiple of 64): bit-exact, 2x means, millimetres, audit entry", async () => {
    const { id, dir } = dataset("mhd8");
    writeMetaImage(dir, "vol", { dtype: "uint8", w: 150, h: 100, d: 70, spacing: [0.5, 0.25, 2] });
    commitChange(ctx, id);
    const job = await exportThroughApi(id);
    expect(job).toMatchObject({ state: "done", error: null });
    const store = path.join(dir, "derived", "vol.ome.zarr");
    expect(files(path.join(dir, "derived"))).toEqual(["vol.ome.zarr"]);
    const expected = volumeBytes("uint8", 150, 100, 70, true);

    const z = await readWithZarrita(store);
    expect(z.dtype).toBe("uint8");
    expect(z.chunks).toEqual([64, 64, 64]);
    expect(z.shapes).toEqual([
      [70, 100, 150],
      [35, 50, 75],
      [18, 25, 38],
    ]);
    expect(Buffer.compare(Buffer.from(z.bytes), Buffer.from(expected))).toBe(0);

    const py = readWithPython(store, expected, "uint8", [150, 100, 70]);
    expect(py.version).toBe("0.4");
    expect(py.axes).toEqual(["z", "y", "x"].map((name) => ({ name, type: "space", unit: "millimeter" })));
    expect(py.scales).toEqual([
      [2, 0.25, 0.5],
      [4, 0.5, 1],
      [8, 1, 2],
    ]);
    expect(py.levels.map((l) => [l.shape, l.dtype, l.compressor, l.equal])).toEqual([
      [[70, 100, 150], "|u1", "gzip", true],
      [[35, 50, 75], "|u1", "gzip", true],
      [[18, 25, 38], "|u1", "gzip", true],
    ]);
    const audit = recentAudit(id);
    expect(audit).toMatchObject({ action: "export.ome-zarr", actor: "olga", target: "derived/vol.ome.zarr" });
  }, 120_000);

  test("uint16 TIFF stack of 130 x 70 x 66 in micrometres, and a float32 volume of one level", async () => {
    const { id, dir } = dataset("tif16");
    mkdirSync(path.join(dir, "slices"));
    for (let z = 0; z < 66; z++) {
      writeTiff(path.join(dir, "slices", `s_${String(z).padStart(4, "0")}.tif`), {
        dtype: "uint16",
        width: 130,
        height: 70,
        pages: [z],
        resolution: { x: 4, y: 4, unit: 1 },
        description: "ImageJ=1.54f\nunit=micron\nspacing=0.5\n",
      });
    }
    writeMetaImage(dir, "small", { dtype: "float32", w: 40, h: 30, d: 5, spacing: [1, 1, 1] });
    commitChange(ctx, id);
    const [stack] = (
      await detectVolumes(
        dir,
        readdirSync(path.join(dir, "slices")).map((f) => `slices/${f}`),
      )
    ).filter((s) => s.depth === 66);
    expect(stack?.unit).toMatch(/micron|µm|um/);
    await stack!.close();
    const job = await exportThroughApi(id);
    expect(job).toMatchObject({ state: "done", error: null });
    expect(files(path.join(dir, "derived"))).toEqual(["slices.ome.zarr", "small.ome.zarr"]);

    const store = path.join(dir, "derived", "slices.ome.zarr");
    const expected = volumeBytes("uint16", 130, 70, 66, true);
    const z = await readWithZarrita(store);
    expect(z.dtype).toBe("uint16");
    expect(z.shapes).toEqual([
      [66, 70, 130],
      [33, 35, 65],
      [17, 18, 33],
    ]);
    expect(Buffer.compare(Buffer.from(z.bytes), Buffer.from(expected))).toBe(0);
    const py = readWithPython(store, expected, "uint16", [130, 70, 66]);
    expect(py.axes.map((a) => a.unit)).toEqual(["micrometer", "micrometer", "micrometer"]);
    expect(py.scales[0]).toEqual([stack!.spacing[2], stack!.spacing[1], stack!.spacing[0]]);
    expect(py.levels.map((l) => [l.dtype, l.equal])).toEqual([
      ["<u2", true],
      ["<u2", true],
      ["<u2", true],
    ]);

    const small = path.join(dir, "derived", "small.ome.zarr");
    const f = readWithPython(small, volumeBytes("float32", 40, 30, 5, true), "float32", [40, 30, 5]);
    expect(f.levels).toEqual([{ path: "0", shape: [5, 30, 40], chunks: [5, 30, 40], dtype: "<f4", compressor: "gzip", equal: true }]);
    expect(Buffer.compare(Buffer.from((await readWithZarrita(small)).bytes), Buffer.from(volumeBytes("float32", 40, 30, 5, true)))).toBe(0);
  }, 120_000);
});

describe("what the export leaves and what it sets off", () => {
  test("the sync engine tracks the export like any files, skips the temp folder, and no preview is queued for it", async () => {
    const { id, dir } = dataset("tracked");
    writeMetaImage(dir, "vol", { dtype: "uint8", w: 80, h: 70, d: 20 });
    await reconcileAll(ctx);
    // The scan takes the owner from the folder (this process's account); the test's owner gets it back.
    ctx.db.query("UPDATE datasets SET owner = 'olga' WHERE id = ?").run(id);
    await waitFor("the first preview", () => jobsOf(id, "preview").some((j) => j.state === "done"), 60_000);
    const previewsBefore = jobsOf(id, "preview").length;
    expect((await exportThroughApi(id)).state).toBe("done");
    // Output still being written by some export: hidden, never a dataset file.
    mkdirSync(path.join(dir, "derived", ".mata-tmp-other.ome.zarr-9", "0"), { recursive: true });
    writeFileSync(path.join(dir, "derived", ".mata-tmp-other.ome.zarr-9", "0", "0.0.0"), "partial");
    await Bun.sleep(1100); // older than stable_ms, so the scan takes the new files
    await reconcileAll(ctx);
    const tracked = ctx.db
      .query<{ path: string }, [number]>("SELECT path FROM files WHERE dataset_id = ? ORDER BY path")
      .all(id)
      .map((r) => r.path);
    expect(tracked).toContain("derived/vol.ome.zarr/.zattrs");
    expect(tracked).toContain("derived/vol.ome.zarr/0/.zarray");
    expect(tracked).toContain("derived/vol.ome.zarr/1/0.0.0");
    expect(tracked.filter((p) => p.includes(".mata-tmp-"))).toEqual([]);
    await Bun.sleep(200);
    expect(jobsOf(id, "preview").length).toBe(previewsBefore);
    expect(jobsOf(id, EXPORT_JOB).map((j) => j.state)).toEqual(["done"]);
  }, 120_000);

  test("its own first output landing does not stop an export of two volumes; a change to a volume does", async () => {
    const { id, dir } = dataset("two");
    writeMetaImage(dir, "a", { dtype: "uint8", w: 64, h: 64, d: 8 });
    writeMetaImage(dir, "b", { dtype: "uint16", w: 400, h: 400, d: 200 });
    commitChange(ctx, id, ["a.mhd", "a.raw", "b.mhd", "b.raw"]);
    const owner = signedIn(app, withUser(ctx, "olga"));
    const res = await owner.request(`/api/v1/datasets/${id}/export/ome-zarr`, { method: "POST" });
    const { jobId } = (await res.json()) as { jobId: number };
    const first = path.join(dir, "derived", "a.ome.zarr");
    await waitFor("the first volume's export", () => existsSync(path.join(first, ".zattrs")), 60_000, 5);
    commitChange(ctx, id, ["derived/a.ome.zarr/.zattrs", "derived/a.ome.zarr/0/0.0.0"]);
    await waitFor("the export", () => jobRow(jobId).state !== "running" && jobRow(jobId).state !== "queued" && jobRow(jobId), 120_000);
    expect(jobRow(jobId)).toMatchObject({ state: "done", error: null });
    expect(files(path.join(dir, "derived"))).toEqual(["a.ome.zarr", "b.ome.zarr"]);
  }, 180_000);

  test("a cancel kills the child and removes the temp folder; a changed volume stops the export and queues it again", async () => {
    const { id, dir } = dataset("cancel");
    writeMetaImage(dir, "big", { dtype: "uint16", w: 512, h: 512, d: 256 });
    commitChange(ctx, id, ["big.mhd", "big.raw"]);
    const derived = path.join(dir, "derived");
    const temp = () => files(derived).filter((f) => f.startsWith(".mata-tmp-"));
    const owner = signedIn(app, withUser(ctx, "olga"));
    const { jobId } = (await (await owner.request(`/api/v1/datasets/${id}/export/ome-zarr`, { method: "POST" })).json()) as { jobId: number };
    await waitFor("the temp folder", () => temp().length > 0, 60_000, 2);
    ctx.services.jobs.queue.cancel(jobId);
    await waitFor("the child to end", () => !ctx.services.jobs.queue.isRunning(jobId), 20_000);
    expect(activeExportChildren()).toEqual([]);
    expect(files(derived)).toEqual([]);
    expect(jobRow(jobId).state).toBe("cancelled");

    const { jobId: again } = (await (await owner.request(`/api/v1/datasets/${id}/export/ome-zarr`, { method: "POST" })).json()) as { jobId: number };
    await waitFor("the temp folder", () => temp().length > 0, 60_000, 2);
    commitChange(ctx, id, ["big.raw"]);
    await waitFor("the superseded export to stop", () => jobRow(again).state === "cancelled" && !ctx.services.jobs.queue.isRunning(again), 20_000);
    expect(jobRow(again).error).toMatch(/superseded/);
    const next = await waitFor("the export for the new content", () => jobsOf(id, EXPORT_JOB).find((j) => j.id > again && j.state === "done"), 120_000);
    expect(next).toBeTruthy();
    expect(files(derived)).toEqual(["big.ome.zarr"]);
  }, 240_000);

  test("re-export replaces the old export in one step: its metadata is there at every moment, the new values after", async () => {
    const { id, dir } = dataset("again");
    writeMetaImage(dir, "vol", { dtype: "uint16", w: 300, h: 300, d: 130 });
    commitChange(ctx, id, ["vol.mhd", "vol.raw"]);
    expect((await exportThroughApi(id)).state).toBe("done");
    const store = path.join(dir, "derived", "vol.ome.zarr");
    // New voxel values under the same header.
    const changed = volumeBytes("uint16", 300, 300, 130, true).map((v, i) => (i % 2 === 0 ? v ^ 0x5a : v));
    writeFileSync(path.join(dir, "vol.raw"), changed);
    commitChange(ctx, id, ["vol.raw"]);
    let missing = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        if (!existsSync(path.join(store, ".zattrs")) || !existsSync(path.join(store, "0", ".zarray"))) missing++;
        await Bun.sleep(1);
      }
    })();
    const job = await exportThroughApi(id);
    polling = false;
    await poll;
    expect(job.state).toBe("done");
    expect(missing).toBe(0);
    expect(files(path.join(dir, "derived"))).toEqual(["vol.ome.zarr"]);
    expect(Buffer.compare(Buffer.from((await readWithZarrita(store)).bytes), Buffer.from(changed))).toBe(0);
  }, 180_000);

  test("a derived folder that is a symlink is refused: nothing is written through it", async () => {
    const { id, dir } = dataset("link");
    writeMetaImage(dir, "vol", { dtype: "uint8", w: 32, h: 32, d: 4 });
    const elsewhere = path.join(ctx.dir, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(dir, "derived"));
    commitChange(ctx, id, ["vol.mhd", "vol.raw"]);
    const job = await exportThroughApi(id);
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/derived.*not a folder/);
    expect(readdirSync(elsewhere)).toEqual([]);
  }, 60_000);

  test.skipIf(process.getuid?.() !== 0)(
    "run as root, the export belongs to the dataset folder's owner",
    async () => {
      const { id, dir } = dataset("owned");
      writeMetaImage(dir, "vol", { dtype: "uint8", w: 32, h: 32, d: 4 });
      chownSync(dir, 4321, 4321);
      commitChange(ctx, id, ["vol.mhd", "vol.raw"]);
      const job = await exportThroughApi(id);
      expect(job).toMatchObject({ state: "done", error: null });
      for (const p of ["derived", "derived/vol.ome.zarr", "derived/vol.ome.zarr/.zattrs", "derived/vol.ome.zarr/0/0.0.0"])
        expect(statSync(path.join(dir, p)).uid).toBe(4321);
    },
    60_000,
  );
});

describe("bounded memory", () => {
  test("the child's peak memory does not grow with the volume's depth (one slab per level, not the volume)", async () => {
    const peak = async (name: string, d: number) => {
      const { id, dir } = dataset(name);
      writeMetaImage(dir, "vol", { dtype: "uint8", w: 384, h: 384, d });
      commitChange(ctx, id, ["vol.mhd", "vol.raw"]);
      takeExportPeakRss();
      expect((await exportThroughApi(id)).state).toBe("done");
      return takeExportPeakRss();
    };
    const shallow = await peak("shallow", 64);
    const deep = await peak("deep", 1280);
    // The deep volume is 180 MB more than the shallow one; held whole (or left to a lazy collector), the peak would
    // grow by about that. Measured: ~25 MB (allocator and worker heaps settling).
    expect(shallow).toBeGreaterThan(0);
    expect(deep - shallow).toBeLessThan(60 * 1024 * 1024);
  }, 180_000);

  test("64 slices over the slab budget make thinner z chunks; the pyramid halves down to 64 px", () => {
    expect(planLevels({ width: 1024, height: 1024, depth: 400 }, [1, 1, 1], 2).map((l) => [l.shape, l.chunks])).toEqual([
      [
        [400, 1024, 1024],
        [64, 64, 64],
      ],
      [
        [200, 512, 512],
        [64, 64, 64],
      ],
      [
        [100, 256, 256],
        [64, 64, 64],
      ],
      [
        [50, 128, 128],
        [50, 64, 64],
      ],
      [
        [25, 64, 64],
        [25, 64, 64],
      ],
    ]);
    // 64 slices of 2048^2 uint16 (512 MiB) are over the 256 MiB budget: 32 of them.
    expect(planLevels({ width: 2048, height: 2048, depth: 400 }, [1, 1, 1], 2)[0]!.chunks).toEqual([32, 64, 64]);
    expect(planLevels({ width: 2048, height: 2048, depth: 400 }, [1, 1, 1], 2).map((l) => [l.shape, l.chunks])).toEqual([
      [
        [400, 2048, 2048],
        [32, 64, 64],
      ],
      [
        [200, 1024, 1024],
        [32, 64, 64],
      ],
      [
        [100, 512, 512],
        [32, 64, 64],
      ],
      [
        [50, 256, 256],
        [32, 64, 64],
      ],
      [
        [25, 128, 128],
        [25, 64, 64],
      ],
      [
        [13, 64, 64],
        [13, 64, 64],
      ],
    ]);
    expect(planLevels({ width: 8192, height: 8192, depth: 10 }, [1, 1, 1], 2)[0]!.chunks).toEqual([2, 64, 64]);
    expect(planLevels({ width: 500, height: 300, depth: 1 }, [2, 3, 1], 1).map((l) => [l.shape, l.scale])).toEqual([
      [
        [1, 300, 500],
        [1, 3, 2],
      ],
      [
        [1, 150, 250],
        [1, 6, 4],
      ],
      [
        [1, 75, 125],
        [1, 12, 8],
      ],
      [
        [1, 38, 63],
        [1, 24, 16],
      ],
    ]);
    expect(exportName({ file: "scan 1.nii.gz", files: ["scan 1.nii.gz"] })).toBe("scan_1.ome.zarr");
    // Whatever a Zarr store holds (chunks named `0/0/0` would pass for extension-less DICOM) is no preview input.
    expect(["derived/v.ome.zarr/0/0/0", "v.zarr/0/1.0.0", "derived/.mata-tmp-v.ome.zarr-3/0/0/0", "x.ome.zarr/.zattrs"].filter(isVolumeInput)).toEqual([]);
    expect(["derived/scan/IM0001", "zarr/0001.tif"].filter(isVolumeInput)).toEqual(["derived/scan/IM0001", "zarr/0001.tif"]);
    expect(exportName({ file: "stack/s_0001.tif", files: ["stack/s_0001.tif", "stack/s_0002.tif"] })).toBe("stack.ome.zarr");
    expect(exportName({ file: ".hidden.mhd", files: [".hidden.mhd"] })).toBe("hidden.ome.zarr");
  });
});

describe("the API and the page", () => {
  test("viewers may not export (403); an unknown body field is refused (400); the page's button queues and goes back", async () => {
    const { id, dir } = dataset("access");
    writeMetaImage(dir, "vol", { dtype: "uint8", w: 16, h: 16, d: 2 });
    commitChange(ctx, id, ["vol.mhd", "vol.raw"]);
    ctx.db.query("INSERT INTO grants (dataset_id, principal, role) VALUES (?, 'user:vera', 'viewer')").run(id);
    const viewer = signedIn(app, withUser(ctx, "vera"));
    expect((await viewer.request(`/api/v1/datasets/${id}/export/ome-zarr`, { method: "POST" })).status).toBe(403);
    const owner = withUser(ctx, "olga");
    const bad = await app.request(`/api/v1/datasets/${id}/export/ome-zarr`, {
      method: "POST",
      headers: { ...owner.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ volume: "x" }),
    });
    expect(bad.status).toBe(400);
    const page = await app.request(`/datasets/${id}/export/ome-zarr`, {
      method: "POST",
      headers: { ...owner.headers, "Content-Type": "application/x-www-form-urlencoded" },
      body: `format=ome-zarr&_csrf=${encodeURIComponent(owner.csrf)}`,
    });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe(`/datasets/${id}`);
    await waitFor("the export", () => jobsOf(id, EXPORT_JOB).some((j) => j.state === "done"), 60_000);
    // The button shows on the page of a dataset with a volume, to those who may edit it only.
    await waitFor("the volume's preview row", () => ctx.db.query("SELECT 1 FROM previews WHERE dataset_id = ? AND kind = 'volume'").get(id), 60_000);
    const html = async (who: { headers: Record<string, string> }) => (await app.request(`/datasets/${id}`, { headers: who.headers })).text();
    expect(await html(owner)).toContain(`action="/datasets/${id}/export/ome-zarr"`);
    expect(await html(withUser(ctx, "vera"))).not.toContain("Export OME-Zarr");
  }, 90_000);
});
