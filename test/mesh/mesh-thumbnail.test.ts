import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { buildMeshPreview } from "../../src/mesh/mesh.build.ts";
import { MESH_THUMB_BACKGROUND, MESH_THUMB_HEIGHT, MESH_THUMB_WIDTH, renderMesh } from "../../src/mesh/mesh.thumbnail.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { listPreviews, previewSummary, previewDir, previewTmpDir } from "../../src/preview/preview.service.ts";
import { createApp } from "../../src/app.ts";
import { testContext, tempDir } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";
import { BUNNY_STL, encodePly, indexed, stlTriangles } from "./ply.fixture.ts";

const tmp = tempDir("mata-mesh-thumb-");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => tmp.cleanup());

/** What a picture shows: the box around pixels unlike the background, how many there are, and how much they vary. */
function foreground(px: Uint8Array | Buffer, width: number, height: number, channels: number) {
  let minX = width,
    maxX = -1,
    minY = height,
    maxY = -1,
    count = 0,
    sum = 0,
    sum2 = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      const diff =
        Math.abs(px[i]! - MESH_THUMB_BACKGROUND[0]) + Math.abs(px[i + 1]! - MESH_THUMB_BACKGROUND[1]) + Math.abs(px[i + 2]! - MESH_THUMB_BACKGROUND[2]);
      if (diff < 40) continue;
      count++;
      const lum = (px[i]! + px[i + 1]! + px[i + 2]!) / 3;
      sum += lum;
      sum2 += lum * lum;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
  const mean = sum / Math.max(count, 1);
  return { box: { minX, maxX, minY, maxY }, fraction: count / (width * height), spread: Math.sqrt(Math.max(0, sum2 / Math.max(count, 1) - mean * mean)) };
}

async function decodePng(file: string) {
  const { data, info } = await sharp(readFileSync(file)).raw().toBuffer({ resolveWithObject: true });
  return { data, ...info };
}

describe("mesh thumbnails", () => {
  test("the bunny's thumbnail is a PNG of the list's shape, the bunny filling its middle, shaded", async () => {
    const out = path.join(tmp.dir, "bunny");
    const t0 = performance.now();
    const info = await buildMeshPreview(BUNNY_STL, path.join(out, "mesh.glb"), { thumbnail: path.join(out, "thumb.png") });
    expect(info.thumbnail).toBe("thumb.png");
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect((await sharp(path.join(out, "thumb.png")).metadata()).format).toBe("png");
    const png = await decodePng(path.join(out, "thumb.png"));
    expect([png.width, png.height, png.channels]).toEqual([MESH_THUMB_WIDTH, MESH_THUMB_HEIGHT, 3]);
    const fg = foreground(png.data, png.width, png.height, png.channels);
    // Fitted with a margin: the object spans most of the picture but touches no edge.
    expect(fg.box.minX).toBeGreaterThan(0);
    expect(fg.box.minY).toBeGreaterThan(0);
    expect(fg.box.maxX).toBeLessThan(png.width - 1);
    expect(fg.box.maxY).toBeLessThan(png.height - 1);
    expect(Math.max((fg.box.maxX - fg.box.minX) / png.width, (fg.box.maxY - fg.box.minY) / png.height)).toBeGreaterThan(0.75);
    expect(fg.fraction).toBeGreaterThan(0.15);
    expect(fg.fraction).toBeLessThan(0.85);
    // Shaded, not a flat silhouette.
    expect(fg.spread).toBeGreaterThan(12);
  }, 30_000);

  test("the rasterizer keeps the nearer surface, whatever the drawing order, and shades faces by their angle to the light", () => {
    // A big far square in z = 0 and a small tilted one in front of it (towards the viewer).
    const positions = [-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0, -0.25, -0.25, 1, 0.25, -0.25, 1.2, 0.25, 0.25, 1.2, -0.25, 0.25, 1];
    const far = [0, 1, 2, 0, 2, 3];
    const near = [4, 5, 6, 4, 6, 7];
    const w = 64,
      h = 48;
    const colour = (px: Uint8Array, i: number) => Array.from(px.subarray(i * 4, i * 4 + 3)).join(",");
    // The same positions, so the same fit: only where the near square lies differs.
    const nearOnly = renderMesh(positions, near, w, h);
    const farOnly = renderMesh(positions, far, w, h);
    const bg = MESH_THUMB_BACKGROUND.join(",");
    const nearPixels = [...Array(w * h).keys()].filter((i) => colour(nearOnly, i) !== bg);
    expect(nearPixels.length).toBeGreaterThan(20);
    expect(colour(nearOnly, nearPixels[0]!)).not.toBe(colour(farOnly, nearPixels[0]!));
    for (const order of [
      [...far, ...near],
      [...near, ...far],
    ]) {
      const both = renderMesh(positions, order, w, h);
      for (const i of nearPixels) expect(colour(both, i)).toBe(colour(nearOnly, i));
      // Elsewhere the far square shows as it does alone.
      expect([...Array(w * h).keys()].every((i) => nearPixels.includes(i) || colour(both, i) === colour(farOnly, i))).toBe(true);
    }
    expect(new Set([...Array(w * h).keys()].map((i) => colour(renderMesh(positions, [...far, ...near], w, h), i))).size).toBe(3);
  });

  test("many triangles each covering the whole picture are drawn in bounded time, sampled", () => {
    // 200,000 stacked big triangles: every one covers most of the picture (4 * 10^10 pixel tests unbounded).
    const n = 200_000;
    const positions = new Float32Array(n * 9);
    for (let t = 0; t < n; t++) positions.set([-1, -1, t / n, 1, -1, t / n, 0, 1, t / n], t * 9);
    const indices = Uint32Array.from({ length: n * 3 }, (_, i) => i);
    const t0 = performance.now();
    const px = renderMesh(positions, indices, 512, 384);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(foreground(px, 512, 384, 4).fraction).toBeGreaterThan(0.2);
  });

  test("a PLY's thumbnail is built with its preview through the queue, listed for readers only, published with the GLB", async () => {
    const ctx = testContext();
    cleanups.push(() => ctx.cleanup());
    const id = addDataset(ctx, "bunny");
    writeFileSync(path.join(ctx.config.root, "bunny", "bunny.ply"), encodePly(indexed(stlTriangles(BUNNY_STL)), "binary_little_endian"));
    ctx.db.query("UPDATE datasets SET owner = 'alice' WHERE id = ?").run(id);
    const stop = await startJobs(ctx, { settleMs: 50 });
    cleanups.push(stop);
    commitChange(ctx, id, ["bunny.ply"]);
    await waitFor("mesh preview done", () => ["ready", "failed"].includes(previewSummary(ctx, id).state), 60_000);
    const [p] = listPreviews(ctx, id);
    expect(p).toMatchObject({ kind: "mesh", format: "ply", state: "ready", levels: 1 });
    expect(p!.thumbnail).toMatch(new RegExp(`^/api/v1/datasets/${id}/previews/${p!.n}/thumbnail\\?v=${p!.version}$`));
    // Published as one folder: GLB, thumbnail and metadata together, nothing left in the temp dir.
    const key = ctx.db.query<{ content_key: string }, [number]>("SELECT content_key FROM previews WHERE dataset_id = ?").get(id)!.content_key;
    expect(readdirSync(previewDir(ctx, key)).sort()).toEqual(["mata.json", "mesh.glb", "thumb.png"]);
    expect(existsSync(previewTmpDir(ctx)) ? readdirSync(previewTmpDir(ctx)) : []).toEqual([]);

    const app = createApp(ctx);
    const alice = withUser(ctx, "alice");
    const res = await app.request(p!.thumbnail!, { headers: alice.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("image/png");
    const png = await sharp(Buffer.from(await res.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(foreground(png.data, png.info.width, png.info.height, png.info.channels).fraction).toBeGreaterThan(0.15);
    expect((await app.request(p!.thumbnail!, { headers: withUser(ctx, "mallory").headers })).status).toBe(403);
    // The list shows it to the owner, and only the kind to someone who may not read the dataset.
    const list = async (user: string) => (await app.request("/datasets", { headers: withUser(ctx, user).headers })).text();
    expect(await list("alice")).toContain(`<img src="${p!.thumbnail!}"`);
    const other = await list("mallory");
    expect(other).not.toContain("/thumbnail");
    expect(other).toContain("3D mesh");

    // A mesh preview from before thumbnails (levels 0) is looked at again when the server starts, and gets one.
    await stop();
    ctx.db.query("UPDATE previews SET levels = 0 WHERE dataset_id = ?").run(id);
    expect(await list("alice")).not.toContain("/thumbnail");
    cleanups.push(await startJobs(ctx, { settleMs: 50 }));
    await waitFor("thumbnail recorded", () => listPreviews(ctx, id)[0]?.levels === 1, 30_000);
    expect(await list("alice")).toContain(`<img src="${p!.thumbnail!}"`);
  }, 90_000);
});
