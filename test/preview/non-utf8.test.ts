// Names that are not valid UTF-8 (a Latin-1 folder copied from an old scanner PC): the dataset folder and the
// volume's files carry such bytes, the header names its data file with them. The scan stores escaped names
// (src/sync/names.ts); the preview builds from the exact bytes, its tiles and thumbnail are served, and the files
// download through the API.
import { afterEach, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import sharp from "sharp";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { detectVolumes } from "../../src/preview/readers/index.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { withUser } from "../support/auth.ts";
import { signedIn } from "../support/client.ts";
import { testContext } from "../support/env.ts";
import { waitFor } from "../jobs/fixture.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));

test("a dataset folder and a volume with non-UTF-8 names: the preview builds, tiles, thumbnail and downloads are served", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  // "scan-Müller" in Latin-1 (0xfc), and "vol-é" (0xe9) for the volume's header and data file.
  const dir = bytes(ctx.config.root, "/scan-M", [0xfc], "ller");
  mkdirSync(dir);
  const [w, h, d] = [40, 30, 12];
  const voxels = new Uint8Array(w * h * d);
  for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) voxels[(z * h + y) * w + x] = (x * 3 + y * 2 + z * 10) % 256;
  const header = bytes(`ObjectType = Image\nNDims = 3\nDimSize = ${w} ${h} ${d}\nElementType = MET_UCHAR\nElementDataFile = vol-`, [0xe9], ".raw\n");
  writeFileSync(Buffer.concat([dir, bytes("/vol-", [0xe9], ".mhd")]), header);
  writeFileSync(Buffer.concat([dir, bytes("/vol-", [0xe9], ".raw")]), voxels);
  // A 2D picture too: sharp opens it by its bytes.
  const png = await sharp(Buffer.from(new Uint8Array(64 * 48).map((_, i) => i % 251)), { raw: { width: 64, height: 48, channels: 1 } })
    .png()
    .toBuffer();
  writeFileSync(Buffer.concat([dir, bytes("/pic-", [0xff], ".png")]), png);

  cleanups.push(await startJobs(ctx, { settleMs: 20, kinds: [previewJob()] }));
  const s = await reconcileAll(ctx);
  expect(s.errors).toEqual([]);
  const ds = ctx.db.query<{ id: number; path: string }, []>("SELECT id, path FROM datasets").get()!;
  expect(ds.path).toBe("scan-M\uFFFDFCller");
  const id = ds.id;
  // The metadata mirror is written into the folder of that name too.
  expect(existsSync(Buffer.concat([dir, bytes("/.mata/metadata.json")]))).toBe(true);
  await waitFor(
    "previews",
    () => {
      const sum = previewSummary(ctx, id);
      if (sum.state === "failed") throw new Error(`preview failed: ${sum.error}`);
      return sum.state === "ready";
    },
    60_000,
  );

  const app = createApp(ctx);
  const admin = signedIn(app, withUser(ctx, "root", { admin: true }));
  const body = await (await admin.request(`/api/v1/datasets/${id}/previews`)).json();
  expect(body.previews.map((p: { file: string; state: string; size: number[] }) => [p.file, p.state, p.size])).toEqual([
    ["pic-\uFFFDFF.png", "ready", [64, 48, 1]],
    ["vol-\uFFFDE9.mhd", "ready", [w, h, d]],
  ]);
  for (const p of body.previews) {
    const thumb = await admin.request(p.thumbnail);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/jpeg");
    expect((await admin.request(`${p.tiles}/info`)).status).toBe(200);
  }
  const vol = body.previews[1];
  const tile = await admin.request(`${vol.tiles}/0/0-${w}_0-${h}_5-6`);
  expect(tile.status).toBe(200);
  expect(tile.headers.get("content-type")).toBe("image/jpeg");

  // The files: listed with their stored names, downloaded as their exact bytes.
  const listed = await (await admin.request(`/api/v1/datasets/${id}/files`)).json();
  expect(listed.items.map((f: { path: string }) => f.path).sort()).toEqual(["pic-\uFFFDFF.png", "vol-\uFFFDE9.mhd", "vol-\uFFFDE9.raw"]);
  const raw = await admin.request(`/api/v1/datasets/${id}/files/${encodeURIComponent("vol-\uFFFDE9.raw")}`);
  expect(raw.status).toBe(200);
  expect(new Uint8Array(await raw.arrayBuffer())).toEqual(voxels);
  const part = await admin.request(`/api/v1/datasets/${id}/files/${encodeURIComponent("vol-\uFFFDE9.mhd")}`, { headers: { Range: "bytes=0-9" } });
  expect(part.status).toBe(206);
  expect(await part.text()).toBe("ObjectType");
  const pic = await admin.request(`/api/v1/datasets/${id}/files/${encodeURIComponent("pic-\uFFFDFF.png")}`);
  expect(Buffer.from(await pic.arrayBuffer()).equals(png)).toBe(true);
}, 120_000);

test("a rule command runs in a non-UTF-8 dataset folder and gets its files' exact names", async () => {
  const ctx = testContext({
    rules: [{ glob: "**/*.raw", command: ["sh", "-c", 'pwd -P > ../rule-out; printf "%s\\n" "$@" >> ../rule-out', "rule"], timeoutSeconds: 20 }],
  });
  cleanups.push(() => ctx.cleanup());
  const dir = bytes(ctx.config.root, "/scan-M", [0xfc], "ller");
  mkdirSync(dir);
  writeFileSync(Buffer.concat([dir, bytes("/a-", [0xe9], ".raw")]), "1");
  writeFileSync(Buffer.concat([dir, bytes("/plain.raw")]), "2");
  cleanups.push(await startJobs(ctx, { settleMs: 20 }));
  await reconcileAll(ctx);
  const out = `${ctx.config.root}/rule-out`;
  const job = () => ctx.db.query<{ state: string; error: string | null }, []>("SELECT state, error FROM jobs WHERE kind = 'command'").get();
  await waitFor("the rule command", () => job()?.state === "done" || job()?.state === "failed", 30_000);
  expect(job()).toEqual({ state: "done", error: null });
  const lines = readFileSync(out)
    .toString("latin1")
    .split("\n")
    .filter(Boolean)
    .map((l) => Buffer.from(l, "latin1"));
  expect(lines[0]!.equals(dir)).toBe(true);
  expect(
    lines
      .slice(1)
      .map((l) => l.toString("hex"))
      .sort(),
  ).toEqual([bytes("./a-", [0xe9], ".raw").toString("hex"), bytes("./plain.raw").toString("hex")].sort());
}, 60_000);

test("a header names its data file in UTF-8 or in Latin-1 bytes: the readers find either, by the name the scan stored", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const dir = `${ctx.config.root}/d`;
  mkdirSync(dir);
  const mhd = (data: Buffer) => bytes("ObjectType = Image\nNDims = 3\nDimSize = 4 4 2\nElementType = MET_UCHAR\nElementDataFile = ", [...data], "\n");
  // UTF-8 "é" (c3 a9), Latin-1 "é" (e9), and a windows-1252 byte that TextDecoder("latin1") turns into "€" (0x80).
  for (const [name, data] of [
    ["utf8.mhd", bytes("t1-é.raw")],
    ["latin1.mhd", bytes("t1-", [0xe9], ".raw")],
    ["cp1252.mhd", bytes("t1-", [0x80], ".raw")],
  ] as const) {
    writeFileSync(`${dir}/${name}`, mhd(data));
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), data]), new Uint8Array(32).fill(7));
  }
  await reconcileAll(ctx);
  const id = ctx.db.query<{ id: number }, []>("SELECT id FROM datasets").get()!.id;
  const stored = ctx.db
    .query<{ path: string }, [number]>("SELECT path FROM files WHERE dataset_id = ? ORDER BY path")
    .all(id)
    .map((r) => r.path);
  const sources = await detectVolumes(dir, stored);
  expect(sources.map((s) => [s.file, s.files[1]])).toEqual([
    ["cp1252.mhd", "t1-\uFFFD80.raw"],
    ["latin1.mhd", "t1-\uFFFDE9.raw"],
    ["utf8.mhd", "t1-é.raw"],
  ]);
  for (const s of sources) {
    expect([...(await s.readSlice(1))]).toEqual(new Array(16).fill(7));
    await s.close();
  }
});

test("a rule command run as the folder's owner (not root) reads its non-UTF-8 dataset through MATA_DATASET_PATH", async () => {
  const ctx = testContext({ rules: [{ glob: "**/*.raw", command: ["sh", "-c", 'cat "$MATA_DATASET_PATH/plain.raw" > out.txt'], timeoutSeconds: 20 }] });
  cleanups.push(() => ctx.cleanup());
  const dir = bytes(ctx.config.root, "/own-", [0xe9]);
  mkdirSync(dir);
  writeFileSync(Buffer.concat([dir, bytes("/plain.raw")]), "2");
  const nobody = 65534;
  chownSync(dir, nobody, nobody);
  cleanups.push(await startJobs(ctx, { settleMs: 20 }));
  await reconcileAll(ctx);
  const job = () => ctx.db.query<{ state: string; error: string | null }, []>("SELECT state, error FROM jobs WHERE kind = 'command'").get();
  await waitFor("the rule command", () => job()?.state === "done" || job()?.state === "failed", 30_000);
  expect(job()).toEqual({ state: "done", error: null });
  expect(readFileSync(Buffer.concat([dir, bytes("/out.txt")]), "utf8")).toBe("2");
  expect(statSync(Buffer.concat([dir, bytes("/out.txt")])).uid).toBe(nobody);
}, 60_000);
