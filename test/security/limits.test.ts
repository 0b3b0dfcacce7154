// Untrusted sizes: a header may claim any size (a few MB of gzip-compressed zeros can claim 4096^3 voxels, a sparse
// file a 60-million-triangle STL). The caps (config max_voxels, max_tiles, max_triangles, max_vertices) are checked
// from the header before anything is allocated or tiled, and the preview fails with a recorded error naming the
// cap. Also: request input limits that used to answer 500.
import { afterEach, expect, test } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, writeFileSync, ftruncateSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { createApp } from "../../src/app.ts";
import { DEFAULT_LIMITS, loadConfig } from "../../src/config.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewSummary } from "../../src/preview/preview.service.ts";
import { pyramidTileCount } from "../../src/preview/limits.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(overrides: Parameters<typeof testContext>[0] = {}) {
  const ctx = testContext(overrides);
  cleanups.push(() => ctx.cleanup());
  const stop = await startJobs(ctx, { settleMs: 20 });
  cleanups.push(stop);
  return ctx;
}

/** A NIfTI-1 header (uint8) claiming width x height x depth, data at 352. */
function niftiHeader(w: number, h: number, d: number): Buffer {
  const b = Buffer.alloc(352);
  b.writeInt32LE(348, 0);
  [3, w, h, d, 1, 1, 1, 1].forEach((v, i) => b.writeInt16LE(v, 40 + 2 * i));
  b.writeInt16LE(2, 70); // uint8
  b.writeInt16LE(8, 72);
  [1, 1, 1, 1].forEach((v, i) => b.writeFloatLE(v, 76 + 4 * i));
  b.writeFloatLE(352, 108);
  b[123] = 2;
  b.write("n+1\0", 344, "latin1");
  return b;
}

type Row = { file: string; state: string; error: string | null };
const rows = (ctx: Awaited<ReturnType<typeof setup>>, id: number) =>
  ctx.db.query<Row, [number]>("SELECT file, state, error FROM previews WHERE dataset_id = ? ORDER BY n").all(id);
const jobError = (ctx: Awaited<ReturnType<typeof setup>>, id: number) =>
  ctx.db.query<{ error: string | null }, [number]>("SELECT error FROM jobs WHERE dataset_id = ? AND kind = 'preview' ORDER BY id DESC").get(id)?.error ?? "";
const tilesOnDisk = (ctx: Awaited<ReturnType<typeof setup>>) => {
  const dir = path.join(ctx.config.state, "previews");
  return existsSync(dir) ? readdirSync(dir).filter((d) => d !== ".tmp") : [];
};

test("the caps have sane defaults and come from the config file or the environment", () => {
  expect(loadConfig({ root: "/tmp/r", state: "/tmp/s" }, {}).limits).toEqual(DEFAULT_LIMITS);
  expect(DEFAULT_LIMITS).toEqual({ maxVoxels: 2 ** 37, maxTiles: 2_000_000, maxTriangles: 50_000_000, maxVertices: 30_000_000 });
  const env = { MATA_MAX_VOXELS: "1000", MATA_MAX_TILES: "10", MATA_MAX_TRIANGLES: "20", MATA_MAX_VERTICES: "30" };
  expect(loadConfig({ root: "/tmp/r", state: "/tmp/s" }, env).limits).toEqual({ maxVoxels: 1000, maxTiles: 10, maxTriangles: 20, maxVertices: 30 });
  expect(() => loadConfig({ root: "/tmp/r", state: "/tmp/s" }, { MATA_MAX_TILES: "0" })).toThrow(/MATA_MAX_TILES/);
  // 4096^3 is under max_voxels (2^36 voxels) but would be 3.6 million tiles over XY, XZ and YZ at every level.
  expect(pyramidTileCount(4096, 4096, 4096, "xyz")).toBeGreaterThan(3_000_000);
});

test("a .nii.gz of zeros claiming 4096^3 voxels fails at once naming max_tiles: nothing allocated, no tile written", async () => {
  const ctx = await setup();
  const id = addDataset(ctx, "bomb");
  // 16 MiB of zeros (one full slice) compresses to about 16 KB; the header claims 4,096 such slices.
  writeFileSync(path.join(ctx.config.root, "bomb", "zeros.nii.gz"), gzipSync(Buffer.concat([niftiHeader(4096, 4096, 4096), Buffer.alloc(4096 * 4096)])));
  const t0 = performance.now();
  commitChange(ctx, id);
  await waitFor("preview failed", () => previewSummary(ctx, id).state === "failed", 30_000);
  expect(performance.now() - t0).toBeLessThan(10_000);
  const [row] = rows(ctx, id);
  expect(row!.file).toBe("zeros.nii.gz");
  expect(row!.error).toMatch(/zeros\.nii\.gz: a preview of 4,096 x 4,096 x 4,096 voxels needs [\d,]+ tiles, over the limit max_tiles = 2,000,000/);
  expect(jobError(ctx, id)).toContain("max_tiles");
  expect(tilesOnDisk(ctx)).toEqual([]);
});

test("a .nii.gz header claiming 32767 x 32767 x 200 voxels fails naming max_voxels", async () => {
  const ctx = await setup();
  const id = addDataset(ctx, "huge");
  writeFileSync(path.join(ctx.config.root, "huge", "huge.nii.gz"), gzipSync(Buffer.concat([niftiHeader(32767, 32767, 200), Buffer.alloc(32767 * 64)])));
  commitChange(ctx, id);
  await waitFor("preview failed", () => previewSummary(ctx, id).state === "failed", 30_000);
  expect(rows(ctx, id)[0]!.error).toBe(
    "huge.nii.gz: 32,767 x 32,767 x 200 = 214,735,257,800 voxels is over the limit max_voxels = 137,438,953,472; no preview is built",
  );
  expect(tilesOnDisk(ctx)).toEqual([]);
});

test("the caps are configurable: a small volume over a lowered max_voxels fails, the good one beside it is built", async () => {
  const ctx = await setup({ limits: { ...DEFAULT_LIMITS, maxVoxels: 20_000 } });
  const id = addDataset(ctx, "two");
  writeMetaImage(path.join(ctx.config.root, "two"), "small", [16, 16, 16], (x) => x * 100);
  writeMetaImage(path.join(ctx.config.root, "two"), "big", [32, 32, 32], (x) => x * 100);
  commitChange(ctx, id);
  await waitFor("previews done", () => rows(ctx, id).every((r) => r.state === "ready" || r.state === "failed") && rows(ctx, id).length === 2, 30_000);
  const byFile = Object.fromEntries(rows(ctx, id).map((r) => [r.file, r]));
  expect(byFile["small.mhd"]!.state).toBe("ready");
  expect(byFile["big.mhd"]!.state).toBe("failed");
  expect(byFile["big.mhd"]!.error).toContain("over the limit max_voxels = 20,000");
});

test("a binary STL whose header claims 60 million triangles (a sparse 3 GB file) fails from its header naming max_triangles", async () => {
  const ctx = await setup();
  const id = addDataset(ctx, "mesh");
  const file = path.join(ctx.config.root, "mesh", "huge.stl");
  const n = 60_000_000;
  const head = Buffer.alloc(84);
  head.writeUInt32LE(n, 80);
  writeFileSync(file, head);
  const fd = openSync(file, "r+");
  ftruncateSync(fd, 84 + 50 * n);
  closeSync(fd);
  const t0 = performance.now();
  commitChange(ctx, id);
  await waitFor("preview failed", () => previewSummary(ctx, id).state === "failed", 30_000);
  expect(performance.now() - t0).toBeLessThan(10_000);
  expect(rows(ctx, id)[0]!.error).toBe("huge.stl: 60,000,000 triangles is over the limit max_triangles = 50,000,000; no preview is built");
});

test("text meshes are counted as they stream: an ASCII STL over max_triangles and an OBJ over max_vertices fail", async () => {
  const ctx = await setup({ limits: { ...DEFAULT_LIMITS, maxTriangles: 100, maxVertices: 50 } });
  const id = addDataset(ctx, "text");
  const facet = (i: number) => `facet normal 0 0 1\n outer loop\n  vertex ${i} 0 0\n  vertex ${i + 1} 0 0\n  vertex ${i} 1 0\n endloop\nendfacet\n`;
  writeFileSync(path.join(ctx.config.root, "text", "many.stl"), `solid x\n${Array.from({ length: 150 }, (_, i) => facet(i)).join("")}endsolid x\n`);
  const verts = Array.from({ length: 80 }, (_, i) => `v ${i} ${i % 7} ${i % 3}`).join("\n");
  writeFileSync(path.join(ctx.config.root, "text", "many.obj"), `${verts}\nf 1 2 3\n`);
  commitChange(ctx, id);
  await waitFor("previews failed", () => rows(ctx, id).length === 2 && rows(ctx, id).every((r) => r.state === "failed"), 30_000);
  const byFile = Object.fromEntries(rows(ctx, id).map((r) => [r.file, r.error]));
  expect(byFile["many.stl"]).toBe("many.stl: more than 100 triangles is over the limit max_triangles = 100; no preview is built");
  expect(byFile["many.obj"]).toBe("many.obj: more than 50 vertices is over the limit max_vertices = 50; no preview is built");
});

test("?tag= repeated 1,200 times is a 400 naming the limit (was a 500); /static/__proto__ and friends are 404", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const app = createApp(ctx);
  const headers = withUser(ctx, "ann").headers;
  const tags = Array.from({ length: 1200 }, (_, i) => `tag=K${i}%3Dv`).join("&");
  for (const url of [`/api/v1/datasets?${tags}`, `/api/v1/search?q=x&${tags}`, `/search?q=x&${tags}`]) {
    const res = await app.request(url, { headers });
    expect({ url: url.slice(0, 20), status: res.status }).toEqual({ url: url.slice(0, 20), status: 400 });
    expect(await res.text()).toMatch(/tag/);
  }
  const ok = await app.request(`/api/v1/datasets?${Array.from({ length: 20 }, (_, i) => `tag=K${i}%3Dv`).join("&")}`, { headers });
  expect(ok.status).toBe(200);
  for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "__proto__/x", "..%2Fsrc%2Fmain.ts"]) {
    const res = await app.request(`/static/${name}`);
    expect({ name, status: res.status }).toEqual({ name, status: 404 });
  }
});
