// A preview built before the sharded layout (one file per tile) is served as it is, and the preview job's start
// queues its dataset so that it is built again in the sharded layout.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewDir, previewSummary } from "../../src/preview/preview.service.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { signedIn } from "../support/client.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const ctx = testContext();
afterAll(() => ctx.cleanup());

test("a one-file-per-tile build is served until the start-up rebuild replaces it with shards", async () => {
  const id = addDataset(ctx, "ct");
  writeMetaImage(path.join(ctx.config.root, "ct"), "vol", [64, 48, 10], (x, y, z) => x + y + z);
  let stop = await startJobs(ctx, { settleMs: 20 });
  commitChange(ctx, id);
  await waitFor("first build", () => previewSummary(ctx, id).state === "ready", 60_000);
  await stop();

  // Made to look like an older install's build: another key, and one file per tile under the scale's folder.
  const legacy = "0123456789abcdef0123456789abcdef01234567";
  ctx.db.query("UPDATE previews SET content_key = ? WHERE dataset_id = ?").run(legacy, id);
  const dir = previewDir(ctx, legacy);
  mkdirSync(path.join(dir, "0"), { recursive: true });
  const scale = { key: "0", size: [64, 48, 10], resolution: [1, 1, 1], voxel_offset: [0, 0, 0], chunk_sizes: [[256, 256, 1]], encoding: "jpeg" };
  writeFileSync(path.join(dir, "info"), JSON.stringify({ scales: [scale] }));
  writeFileSync(path.join(dir, "mata.json"), JSON.stringify({ window: [0, 255], windowFrom: "header", levels: 1, tiles: 1, file: "vol.mhd", builtAt: 1 }));
  writeFileSync(path.join(dir, "0", "0-64_0-48_3-4"), "old tile");
  const admin = signedIn(createApp(ctx), withUser(ctx, "root", { admin: true }));
  const tile = `/api/v1/datasets/${id}/previews/0/tiles/0/0-64_0-48_3-4`;
  expect(await (await admin.request(tile)).text()).toBe("old tile");

  stop = await startJobs(ctx, { settleMs: 20 });
  try {
    const key = () => ctx.db.query<{ content_key: string }, [number]>("SELECT content_key FROM previews WHERE dataset_id = ?").get(id)!.content_key;
    await waitFor("rebuilt in shards", () => key() !== legacy && previewSummary(ctx, id).state === "ready", 60_000);
    expect(existsSync(path.join(previewDir(ctx, key()), "xy", "info"))).toBe(true);
    const fresh = new Uint8Array(await (await admin.request(tile)).arrayBuffer());
    expect([fresh[0], fresh[1]]).toEqual([0xff, 0xd8]);
  } finally {
    await stop();
  }
}, 120_000);
