import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewSummary } from "../../src/preview/preview.service.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { signedIn } from "../support/client.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const ctx = testContext();
let stop: () => Promise<void>;
let id = 0;
let failedId = 0;
const app = createApp(ctx);

beforeAll(async () => {
  id = addDataset(ctx, "ct");
  ctx.db.query("UPDATE datasets SET owner = 'olga' WHERE id = ?").run(id);
  writeMetaImage(path.join(ctx.config.root, "ct"), "vol", [300, 100, 20], (x, y, z) => x + y + z);
  failedId = addDataset(ctx, "broken");
  writeMetaImage(path.join(ctx.config.root, "broken"), "vol", [64, 64, 8], () => 1, { truncateTo: 100 });
  stop = await startJobs(ctx, { settleMs: 20 });
  commitChange(ctx, id);
  commitChange(ctx, failedId);
  await waitFor("previews", () => previewSummary(ctx, id).state === "ready" && previewSummary(ctx, failedId).state === "failed");
}, 60_000);
afterAll(async () => {
  await stop();
  ctx.cleanup();
});

describe("preview routes", () => {
  test("status, info, tiles with long caching and validators (304), thumbnail", async () => {
    const admin = signedIn(app, withUser(ctx, "root", { admin: true }));
    const st = await admin.request(`/api/v1/datasets/${id}/previews`);
    expect(st.status).toBe(200);
    const body = await st.json();
    expect(body.preview).toEqual({ state: "ready", progress: 1 });
    expect(body.previews[0]).toMatchObject({ n: 0, file: "vol.mhd", state: "ready", size: [300, 100, 20], tiles: `/api/v1/datasets/${id}/previews/0/tiles` });
    const info = await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/info`);
    expect((await info.json()).scales[0].chunk_sizes).toEqual([
      [256, 256, 1],
      [256, 1, 256],
      [1, 256, 256],
    ]);
    const url = `/api/v1/datasets/${id}/previews/0/tiles/0/256-300_0-100_3-4`;
    const tile = await admin.request(url);
    expect(tile.status).toBe(200);
    expect(tile.headers.get("content-type")).toBe("image/jpeg");
    expect(tile.headers.get("cache-control")).toContain("max-age=31536000");
    const bytes = new Uint8Array(await tile.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    const etag = tile.headers.get("etag")!;
    expect((await admin.request(url, { headers: { "If-None-Match": etag } })).status).toBe(304);
    expect((await admin.request(url, { headers: { "If-Modified-Since": tile.headers.get("last-modified")! } })).status).toBe(304);
    expect((await admin.request(`/api/v1/datasets/${id}/previews/0/thumbnail`)).headers.get("content-type")).toBe("image/jpeg");
    // XZ and YZ chunks of the same scale; names off the grid are 404 without touching the disk.
    expect((await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/0-256_50-51_0-20`)).status).toBe(200);
    expect((await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/100-101_0-100_0-20`)).status).toBe(200);
    expect((await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/1-257_0-100_3-4`)).status).toBe(404);
    expect((await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/5/0-256_0-100_3-4`)).status).toBe(404);
    expect((await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/0-1_0-1_0-999`)).status).toBe(404);
    expect((await admin.request(`/api/v1/datasets/${id}/previews/0/tiles/0/..%2F..%2Fmata.db`)).status).toBe(404);
    expect((await admin.request(`/api/v1/datasets/${id}/previews/7/tiles/info`)).status).toBe(404);
  });

  test("each orientation is a sharded precomputed volume Neuroglancer opens: its info, and its shards by byte range", async () => {
    const admin = signedIn(app, withUser(ctx, "root", { admin: true }));
    const base = `/api/v1/datasets/${id}/previews/0/tiles`;
    const info = await (await admin.request(`${base}/xz/info`)).json();
    expect(info.scales[0]).toMatchObject({ size: [300, 100, 20], chunk_sizes: [[256, 1, 256]], sharding: { "@type": "neuroglancer_uint64_sharded_v1" } });
    // The XZ chunk at grid cell (1, 50, 0): its bytes in the shard, found from the shard's own index, equal the tile route's.
    const tile = new Uint8Array(await (await admin.request(`${base}/0/256-300_50-51_0-20`)).arrayBuffer());
    const { sharding } = info.scales[0];
    const shard = await admin.request(`${base}/xz/0/${"0".repeat(Math.max(1, Math.ceil(sharding.shard_bits / 4)))}.shard`, {
      headers: { Range: "bytes=0-15" },
    });
    expect(shard.status).toBe(206);
    expect(shard.headers.get("content-range")).toMatch(/^bytes 0-15\/\d+$/);
    const whole = new Uint8Array(
      await (await admin.request(`${base}/xz/0/${"0".repeat(Math.max(1, Math.ceil(sharding.shard_bits / 4)))}.shard`)).arrayBuffer(),
    );
    expect(Buffer.from(whole).indexOf(Buffer.from(tile))).toBeGreaterThan(0);
    expect((await admin.request(`${base}/xz/0/zz.shard`)).status).toBe(404);
    expect((await admin.request(`${base}/ab/info`)).status).toBe(404);
  });

  test("a failed build shows its reason in the API and the panel", async () => {
    const admin = signedIn(app, withUser(ctx, "root", { admin: true }));
    const body = await (await admin.request(`/api/v1/datasets/${failedId}/previews`)).json();
    expect(body.preview.state).toBe("failed");
    expect(body.preview.error).toContain("vol.raw");
    const panel = await (await admin.request(`/datasets/${failedId}/previews/panel`)).text();
    expect(panel).toContain("Preview failed");
    expect(panel).toContain("but the file has 100 bytes");
  });

  test("tiles need read permission on the dataset; another's jobs cannot be retried", async () => {
    const eve = signedIn(app, withUser(ctx, "eve"));
    expect((await eve.request(`/api/v1/datasets/${id}/previews/0/tiles/info`)).status).toBe(403);
    expect((await eve.request(`/api/v1/datasets/${id}/previews/0/tiles/0/0-256_0-100_3-4`)).status).toBe(403);
    expect((await eve.request(`/api/v1/datasets/${id}/previews`)).status).toBe(403);
    expect((await eve.request(`/datasets/${id}/viewer`)).status).toBe(403);
    const job = ctx.db.query<{ id: number }, [number]>("SELECT id FROM jobs WHERE dataset_id = ?").get(id)!;
    expect((await eve.request(`/api/v1/jobs/${job.id}/retry`, { method: "POST" })).status).toBe(403);
    const olga = signedIn(app, withUser(ctx, "olga"));
    expect((await olga.request(`/api/v1/datasets/${id}/previews/0/tiles/info`)).status).toBe(200);
  });

  test("job admin: list, retry a failed job, cancel, and the htmx page", async () => {
    const admin = signedIn(app, withUser(ctx, "root", { admin: true }));
    const list = await (await admin.request(`/api/v1/jobs?dataset=${failedId}`)).json();
    const failed = list.items.find((j: { state: string }) => j.state === "failed");
    expect(failed).toMatchObject({ kind: "preview", datasetId: failedId });
    expect(failed.error).toContain("vol.raw");
    expect((await admin.request("/api/v1/jobs?state=bogus")).status).toBe(400);
    const retried = await admin.request(`/api/v1/jobs/${failed.id}/retry`, { method: "POST" });
    expect(retried.status).toBe(200);
    await waitFor("failed again", () => previewSummary(ctx, failedId).state === "failed");
    expect((await admin.request(`/api/v1/jobs/${failed.id}/cancel`, { method: "POST" })).status).toBe(409);
    const page = await admin.request("/jobs");
    const html = await page.text();
    expect(html).toContain("Background jobs");
    expect(html).toContain(`hx-post="/jobs/${failed.id}/retry"`);
    const frag = await admin.request(`/jobs/${failed.id}/retry`, { method: "POST", headers: { "HX-Request": "true" } });
    expect(await frag.text()).toContain('id="jobs-table"');
  });
});
