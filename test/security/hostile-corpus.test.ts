// Hostile input through the real pipeline: the corpus of test/fixtures/hostile/ copied into a share root, scanned by
// the sync engine, previewed by the job queue (tiler children), and read back through the HTTP API; then the cases
// that need real kernel objects, made here: a tree 4,000 folders deep, names that are not UTF-8, FIFOs and devices
// named as data files or swapped in after the scan, a symlink loop, files that vanish, shrink and grow while they are
// read, and read errors from a FUSE file system. Every case ends with a recorded error that names its file and says
// what is wrong in words (or, for harmless absurdities, a preview); nothing crashes or hangs, no build allocates what
// a header claims, every good dataset is built, and the database stays whole.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, mkdirSync, readdirSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import type { AppContext } from "../../src/context.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { activeTilerChildren, takeTilerPeakRss } from "../../src/preview/tiler.process.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { CASES, writeCase } from "../fixtures/hostile/make.ts";
import { withUser } from "../support/auth.ts";
import { signedIn } from "../support/client.ts";
import { testContext } from "../support/env.ts";
import { mountFaulty, type FaultyMount } from "../support/faulty-fs.ts";
import { growthDuring } from "../support/memory.ts";
import { waitFor } from "../jobs/fixture.ts";

// A hundred datasets previewed one job after another, child processes and a FUSE mount on a shared machine.
setDefaultTimeout(240_000);

const CORPUS = path.join(import.meta.dir, "../fixtures/hostile");
/** What a readable message must not be: a stack, a bare library exception, a fallback for a fault of ours. */
const UNREADABLE = /unexpected error|undefined|\[object |RangeError|TypeError|Assertion failed|\n\s+at /;
/** A build's peak memory is bounded: a tiler child needs about 250 MB; the bombs and giants would take gigabytes. */
const MAX_CHILD_RSS = 700 * 1024 * 1024;
/** This process does the server's part (the scan, the job's header reads): it grows by a few MB. */
const MAX_SERVER_GROWTH = 500 * 1024 * 1024;

type Ctx = AppContext & { dir: string; cleanup: () => void };
type Row = { file: string; state: string; error: string | null; spacing: string };

const previews = (ctx: Ctx, dataset: string): Row[] =>
  ctx.db
    .query<Row, [string]>("SELECT p.file, p.state, p.error, p.spacing FROM previews p JOIN datasets d ON d.id = p.dataset_id WHERE d.path = ? ORDER BY p.n")
    .all(dataset);
const datasetIds = (ctx: Ctx) => ctx.db.query<{ id: number; path: string }, []>("SELECT id, path FROM datasets WHERE state = 'present' ORDER BY path").all();

/** Waits until every dataset's preview has ended (built or failed) and no preview job is left. */
async function previewsSettled(ctx: Ctx): Promise<void> {
  await waitFor(
    "every preview built or failed",
    () =>
      datasetIds(ctx).every((d) => ["ready", "failed", "none"].includes(previewSummary(ctx, d.id).state)) &&
      ctx.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')").get()!.n === 0,
    200_000,
    100,
  );
}

/** The error recorded for `file` of `dataset`, checked to be readable and to name a file at its start. */
function failure(ctx: Ctx, dataset: string, file: string, names: string[] = [file]): string {
  const row = previews(ctx, dataset).find((r) => r.file === file);
  expect({ dataset, file, state: row?.state }).toEqual({ dataset, file, state: "failed" });
  const error = row!.error!;
  expect({ dataset, error, named: names.some((n) => error.startsWith(`${n}: `)) }).toEqual({ dataset, error, named: true });
  expect(error).not.toMatch(UNREADABLE);
  return error;
}

/** Every dataset's file list, preview list and page answer through the API, with the errors the database holds. */
async function apiAnswersFor(ctx: Ctx): Promise<void> {
  const app = signedIn(createApp(ctx), withUser(ctx, "root", { admin: true }));
  for (const d of datasetIds(ctx)) {
    const files = await app.request(`/api/v1/datasets/${d.id}/files?limit=1000`);
    expect({ path: d.path, status: files.status }).toEqual({ path: d.path, status: 200 });
    expect(((await files.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    const res = await app.request(`/api/v1/datasets/${d.id}/previews`);
    expect({ path: d.path, status: res.status }).toEqual({ path: d.path, status: 200 });
    const body = (await res.json()) as { previews: { file: string; error?: string }[] };
    const rows = ctx.db.query<{ file: string; error: string | null }, [number]>("SELECT file, error FROM previews WHERE dataset_id = ? ORDER BY n").all(d.id);
    expect(body.previews.map((p) => [p.file, p.error ?? null])).toEqual(rows.map((r) => [r.file, r.error]));
    const page = await app.request(`/datasets/${d.id}`);
    expect({ path: d.path, status: page.status }).toEqual({ path: d.path, status: 200 });
  }
}

/** The database is whole, no tiler child is left, and no build and no header read went past its memory bound. */
function wholeDatabase(ctx: Ctx, growth: number, childPeak: number): void {
  expect(ctx.db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()!.integrity_check).toBe("ok");
  expect(activeTilerChildren()).toEqual([]);
  expect(childPeak).toBeGreaterThan(0);
  expect(childPeak).toBeLessThan(MAX_CHILD_RSS);
  // The job reads headers in this process: a 3 GB sparse .dcm or .xtekct read whole would show here.
  expect(growth).toBeLessThan(MAX_SERVER_GROWTH);
}

describe("the hostile corpus", () => {
  let ctx: Ctx;
  let stop: () => Promise<void>;
  let growth = 0;
  let childPeak = 0;
  beforeAll(async () => {
    ctx = testContext();
    // The committed cases as they are, then the large ones written here.
    for (const name of readdirSync(CORPUS, { withFileTypes: true }))
      if (name.isDirectory()) cpSync(path.join(CORPUS, name.name), path.join(ctx.config.root, name.name), { recursive: true });
    for (const c of CASES.filter((c) => c.large)) writeCase(ctx.config.root, c);
    takeTilerPeakRss();
    growth = await growthDuring(async () => {
      stop = await startJobs(ctx, { settleMs: 20, kinds: [previewJob()] });
      const scan = await reconcileAll(ctx);
      expect(scan.errors).toEqual([]);
      expect(scan.datasets.added).toBe(CASES.length);
      await previewsSettled(ctx);
    });
    childPeak = takeTilerPeakRss();
  }, 240_000);
  afterAll(async () => {
    await stop?.();
    ctx?.cleanup();
  });

  for (const c of CASES) {
    test(`${c.dataset}: ${c.tests}`, () => {
      if (c.expect.state === "ready") {
        const row = previews(ctx, c.dataset).find((r) => r.file === c.file);
        expect({ file: c.file, state: row?.state, error: row?.error }).toEqual({ file: c.file, state: "ready", error: null });
        if (c.expect.spacing) expect(JSON.parse(row!.spacing)).toEqual(c.expect.spacing);
        return;
      }
      expect(failure(ctx, c.dataset, c.file, [c.file, ...Object.keys(c.files)])).toMatch(c.expect.error);
    });
  }

  test("every dataset answers through the API; the database is whole; no build went past its memory bound", async () => {
    await apiAnswersFor(ctx);
    wholeDatabase(ctx, growth, childPeak);
  });
});

describe("kernel objects, names and files that change while read", () => {
  let ctx: Ctx;
  let stop: () => Promise<void>;
  let growing: ReturnType<typeof Bun.spawn> | undefined;
  let growth = 0;
  let childPeak = 0;
  const put = (rel: string | Buffer, content: string | Uint8Array) => {
    const abs = typeof rel === "string" ? path.join(ctx.config.root, rel) : Buffer.concat([Buffer.from(`${ctx.config.root}/`), rel]);
    mkdirSync(typeof abs === "string" ? path.dirname(abs) : abs.subarray(0, abs.lastIndexOf(0x2f)), { recursive: true });
    writeFileSync(abs, content);
  };
  const sh = (script: string) => expect(Bun.spawnSync(["bash", "-c", script], { cwd: ctx.config.root }).exitCode).toBe(0);
  const mhd = (data: string, dims = "16 16 4") => `NDims = 3\nDimSize = ${dims}\nElementType = MET_UCHAR\nElementDataFile = ${data}\n`;
  const nifti = CASES.find((c) => c.dataset === "good-nifti")!.files["vol.nii"] as Uint8Array;
  const latin = (...parts: (string | number)[]) => Buffer.concat(parts.map((p) => (typeof p === "number" ? Buffer.of(p) : Buffer.from(p))));

  beforeAll(async () => {
    ctx = testContext();
    const root = ctx.config.root;
    put("good/vol.nii", nifti);
    // 4,000 folders deep: files above the kernel's path limit are listed, the rest is one recorded error.
    put("deep/top.nii", nifti);
    expect(
      Bun.spawnSync(
        [
          "python3",
          "-c",
          "import os\nos.chdir('deep')\nfor i in range(4000):\n  os.mkdir('d'); os.chdir('d')\n  if i in (10, 1000): open('f%d.nii' % i, 'wb').write(b'z' * 10)\nopen('bottom.nii', 'wb').write(b'z')",
        ],
        { cwd: root },
      ).exitCode,
    ).toBe(0);
    // Names that are not UTF-8: a Latin-1 dataset folder, a header naming a Latin-1 data file that is not there.
    put(latin("M", 0xfc, "ller/vol-", 0xe9, ".mhd"), latin(mhd("vol-").trimEnd(), 0xff, ".raw\n"));
    put(latin("M", 0xfc, "ller/", 0xff, 0xfe, ".nii"), nifti.subarray(0, 10));
    put(latin("M", 0xfc, "ller/ok-", 0xe9, ".nii"), nifti);
    // Kernel objects named as data files: a FIFO (an open would wait for a writer) and a copy of /dev/zero.
    put("fifo/vol.mhd", mhd("vol.raw"));
    sh("mkfifo fifo/vol.raw");
    put("device/v.nhdr", "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 16 16 4\nencoding: raw\ndata file: zero.raw\n\n");
    sh("mknod device/zero.raw c 1 5 && mknod device/x.nii c 1 5");
    // A symlink loop named as the data file.
    put("loop/vol.mhd", mhd("a"));
    symlinkSync("b", path.join(root, "loop/a"));
    symlinkSync("a", path.join(root, "loop/b"));
    // Sound at the scan; swapped for kernel objects, removed or cut short before the build reads them.
    put("swapped/x.xtekct", "[XTekCT]\r\nName=x\r\nVoxelsX=16\r\nVoxelsY=16\r\nVoxelsZ=4\r\n");
    put("swapped/x.vol", new Uint8Array(16 * 16 * 4));
    put("swapped/m.stl", CASES.find((c) => c.dataset === "good-stl")!.files["tet.stl"] as Uint8Array);
    put("swapped/v.nii", nifti);
    put("swapped/z.nii", nifti);
    put("vanished/vol.mhd", mhd("vol.raw"));
    put("vanished/vol.raw", new Uint8Array(16 * 16 * 4));
    put("shrunk/vol.mhd", mhd("vol.raw"));
    put("shrunk/vol.raw", new Uint8Array(16 * 16 * 4));
    // Growing while read: a writer appends to the data file for the whole build.
    put("growing/vol.mhd", mhd("vol.raw", "64 64 32"));
    put(
      "growing/vol.raw",
      new Uint8Array(64 * 64 * 32).map((_, i) => i & 0xff),
    );

    const scan = await reconcileAll(ctx);
    expect(scan.errors).toEqual([expect.stringMatching(/^deep: cannot read folder "d\/d\/d\/.*": ENAMETOOLONG$/)]);
    sh(
      "rm swapped/x.xtekct && mknod swapped/x.xtekct c 1 5 && rm swapped/m.stl && mkfifo swapped/m.stl && rm swapped/v.nii && mkdir swapped/v.nii && rm swapped/z.nii && mknod swapped/z.nii c 1 5",
    );
    unlinkSync(path.join(root, "vanished/vol.raw"));
    truncateSync(path.join(root, "shrunk/vol.raw"), 100);
    growing = Bun.spawn(["bash", "-c", "while :; do head -c 4096 /dev/urandom >> growing/vol.raw; sleep 0.005; done"], { cwd: root });
    // Jobs start after the scan: the datasets it changed are queued at start.
    takeTilerPeakRss();
    growth = await growthDuring(async () => {
      stop = await startJobs(ctx, { settleMs: 20, kinds: [previewJob()] });
      await previewsSettled(ctx);
    });
    childPeak = takeTilerPeakRss();
  }, 240_000);
  afterAll(async () => {
    growing?.kill();
    await growing?.exited;
    await stop?.();
    // rm walks a tree deeper than the path limit by descriptors, as the temp dir's cleanup cannot.
    if (ctx) Bun.spawnSync(["rm", "-rf", path.join(ctx.config.root, "deep")]);
    ctx?.cleanup();
  });

  test("a tree 4,000 folders deep: one recorded error, the files above the path limit kept, `mata scan` likewise", () => {
    const files = ctx.db
      .query<{ path: string }, []>("SELECT f.path FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE d.path = 'deep' ORDER BY f.path")
      .all();
    expect(files.map((f) => f.path.replace(/(d\/)+/, "…/"))).toEqual(["…/f1000.nii", "…/f10.nii", "top.nii"]);
    expect(ctx.db.query<{ scan_error: string }, []>("SELECT scan_error FROM datasets WHERE path = 'deep'").get()!.scan_error).toMatch(/ENAMETOOLONG/);
    expect(previews(ctx, "deep").find((r) => r.file === "top.nii")?.state).toBe("ready");
    const state = path.join(ctx.dir, "scan-state");
    mkdirSync(state);
    const cli = Bun.spawnSync([process.execPath, "src/main.ts", "scan", "--json", "--root", ctx.config.root, "--state", state], {
      cwd: path.join(import.meta.dir, "../.."),
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, MATA_LOG: "error" },
    });
    expect(cli.exitCode).toBe(0);
    const report = JSON.parse(cli.stdout.toString());
    expect(report.errors).toEqual([expect.stringMatching(/^deep: cannot read folder ".*": ENAMETOOLONG$/)]);
    expect(report.datasets.present).toBe(datasetIds(ctx).length);
  });

  test("names that are not UTF-8: the errors name the files in their stored form, the good volume beside them is built", () => {
    const ds = "M\uFFFDFCller";
    expect(failure(ctx, ds, "vol-\uFFFDFF.raw")).toBe("vol-\uFFFDFF.raw: missing (ENOENT)");
    expect(failure(ctx, ds, "\uFFFDFF\uFFFDFE.nii")).toBe("\uFFFDFF\uFFFDFE.nii: truncated NIfTI header (10 of 348 bytes)");
    expect(previews(ctx, ds).find((r) => r.file === "ok-\uFFFDE9.nii")?.state).toBe("ready");
  });

  test("a FIFO and a device named as data files, and a symlink loop, are refused at once", () => {
    expect(failure(ctx, "fifo", "vol.raw")).toBe("vol.raw: not a regular file (a FIFO)");
    expect(failure(ctx, "device", "zero.raw")).toBe("zero.raw: not a regular file (a device)");
    // A device among the files is no file of the dataset: never listed, never read.
    expect(ctx.db.query<{ path: string }, []>("SELECT f.path FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE d.path = 'device'").all()).toEqual([
      { path: "v.nhdr" },
    ]);
    expect(failure(ctx, "loop", "a")).toBe("a: cannot open: a symbolic link on its path is not followed (ELOOP)");
  });

  test("files swapped for a device, a FIFO and a folder after the scan, removed or cut short, fail by name", () => {
    expect(failure(ctx, "swapped", "x.xtekct")).toBe("x.xtekct: not a regular file (a device)");
    expect(failure(ctx, "swapped", "m.stl")).toBe("m.stl: not a regular file (a FIFO)");
    expect(failure(ctx, "swapped", "v.nii")).toBe("v.nii: not a regular file (a folder)");
    expect(failure(ctx, "swapped", "z.nii")).toBe("z.nii: not a regular file (a device)");
    expect(failure(ctx, "vanished", "vol.raw")).toBe("vol.raw: missing (ENOENT)");
    expect(failure(ctx, "shrunk", "vol.mhd", ["vol.raw"])).toBe(
      "vol.raw: header of vol.mhd says 16x16x4 uint8 = 1024 bytes from offset 0, but the file has 100 bytes",
    );
  });

  test("a data file growing while it is read is read as its header says", () => {
    expect(previews(ctx, "growing")).toMatchObject([{ file: "vol.mhd", state: "ready", error: null }]);
    expect(previews(ctx, "good")).toMatchObject([{ file: "vol.nii", state: "ready", error: null }]);
  });

  test("every dataset answers through the API; the database is whole; no build went past its memory bound", async () => {
    await apiAnswersFor(ctx);
    wholeDatabase(ctx, growth, childPeak);
  });
});

describe("read errors from the kernel while a volume is read (FUSE)", () => {
  let ctx: Ctx;
  let fsys: FaultyMount;
  let stop: () => Promise<void>;
  let growth = 0;
  let childPeak = 0;
  beforeAll(async () => {
    ctx = testContext();
    fsys = await mountFaulty(path.join(ctx.dir, "disk"), ctx.config.root, path.join(ctx.dir, "faults.json"));
    const good = CASES.find((c) => c.dataset === "good-tiff")!.files["page.tif"] as Uint8Array;
    for (let z = 0; z < 8; z++) {
      mkdirSync(path.join(ctx.config.root, "stack"), { recursive: true });
      writeFileSync(path.join(ctx.config.root, `stack/s00${z}.tif`), good);
    }
    mkdirSync(path.join(ctx.config.root, "eio"));
    writeFileSync(path.join(ctx.config.root, "eio/vol.mhd"), "NDims = 3\nDimSize = 16 16 4\nElementType = MET_UCHAR\nElementDataFile = vol.raw\n");
    writeFileSync(path.join(ctx.config.root, "eio/vol.raw"), new Uint8Array(1024));
    expect((await reconcileAll(ctx)).errors).toEqual([]);
    // The stack's first and last slices were read at the scan; slice 5 vanishes before the build reaches it.
    fsys.setRules({ open: { "/stack/s005.tif": "ENOENT" }, read: { "/eio/vol.raw": "EIO" } });
    takeTilerPeakRss();
    growth = await growthDuring(async () => {
      stop = await startJobs(ctx, { settleMs: 20, kinds: [previewJob()] });
      await previewsSettled(ctx);
    });
    childPeak = takeTilerPeakRss();
  }, 240_000);
  afterAll(async () => {
    await stop?.();
    await fsys?.unmount();
    ctx?.cleanup();
  });

  test("a slice vanishing mid-build and an I/O error fail their previews by name, in words", async () => {
    expect(failure(ctx, "stack", "s000.tif", ["s005.tif"])).toBe("s005.tif: missing (ENOENT)");
    expect(failure(ctx, "eio", "vol.mhd", ["vol.raw"])).toBe("vol.raw: cannot read: input/output error (EIO)");
    await apiAnswersFor(ctx);
    wholeDatabase(ctx, growth, childPeak);
  });
});
