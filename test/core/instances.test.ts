// Two instances in one process (two roots, two state dirs, the same dataset ids) share no state: every
// service and cache is built with its context, none is kept in a module-level map.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { configureAuth } from "../../src/auth/auth.runtime.ts";
import { queueFor } from "../../src/jobs/index.ts";
import { previewDir } from "../../src/preview/preview.service.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { putDataset } from "../support/fixtures.ts";
import { setTags, t } from "../search/fixtures.ts";

const a = testContext();
const b = testContext();
const appA = createApp(a);
const appB = createApp(b);
afterAll(() => {
  a.cleanup();
  b.cleanup();
});

/** A ready (or not) preview row with a one-tile build on disk, as the preview job would leave it. */
function putPreview(ctx: typeof a, datasetId: number, state: "ready" | "queued"): void {
  ctx.db
    .query(
      "INSERT INTO previews (dataset_id, n, file, kind, state, progress, width, height, depth, content_key, updated_at) VALUES (?, 0, 'v.mhd', 'volume', ?, 1, 64, 64, 32, 'k0123456789abcdef', 1000)",
    )
    .run(datasetId, state);
  const dir = previewDir(ctx, "k0123456789abcdef");
  mkdirSync(path.join(dir, "0"), { recursive: true });
  writeFileSync(path.join(dir, "info"), JSON.stringify({ scales: [{ key: "0", size: [64, 64, 32], chunk_sizes: [[256, 256, 1]], encoding: "jpeg" }] }));
  writeFileSync(path.join(dir, "0", "0-64_0-64_0-1"), "tile");
}

describe("two instances in one process", () => {
  test("each context has its own services", () => {
    // Plain functions (the dataset page renderer) hold no state; every stateful service is the instance's own.
    for (const key of Object.keys(a.services) as (keyof typeof a.services)[])
      if (typeof a.services[key] !== "function") expect(a.services[key]).not.toBe(b.services[key]);
    expect(queueFor(a)).not.toBe(queueFor(b));
  });

  test("sessions: a cookie of A is unknown to B; auth options of A do not change B", async () => {
    configureAuth(a, { failureFloorMs: 5 });
    expect(b.services.auth.runtime).toBeNull();
    const alice = withUser(a, "alice", { admin: true });
    expect((await appA.request("/api/v1/jobs", { headers: alice.headers })).status).toBe(200);
    expect((await appB.request("/api/v1/jobs", { headers: alice.headers })).status).toBe(401);
    expect(a.services.auth.sessionsSweptAt).toBeGreaterThan(0);
    expect(b.services.auth.sessionsSweptAt).toBe(0);
  });

  test("access: a grant in A does not let the user read the dataset of the same id in B", async () => {
    const idA = putDataset(a, "ct", { "x.txt": "a" }, { owner: "olga" });
    const idB = putDataset(b, "ct", { "x.txt": "b" }, { owner: "olga" });
    expect(idA).toBe(idB);
    const olgaA = withUser(a, "olga");
    const bobA = withUser(a, "bob");
    const bobB = withUser(b, "bob");
    const put = await appA.request(`/api/v1/datasets/${idA}/access`, {
      method: "PUT",
      headers: { ...olgaA.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ viewers: ["bob"] }),
    });
    expect(put.status).toBe(200);
    expect((await appA.request(`/api/v1/datasets/${idA}/access`, { headers: bobA.headers })).status).toBe(200);
    expect(a.services.accessCache.get(idA)?.users.get("bob")).toBe("viewer");
    expect([403, 404]).toContain((await appB.request(`/api/v1/datasets/${idB}/access`, { headers: bobB.headers })).status);
    expect(b.services.accessCache.get(idB)?.users.has("bob")).toBe(false);
  });

  test("tag cloud: the tags of A are not in the cloud of B", async () => {
    const admA = withUser(a, "root", { admin: true });
    const admB = withUser(b, "root", { admin: true });
    setTags(a.db, 1, [t("species", "sheep")]);
    const cloudA = await (await appA.request("/api/v1/tags/cloud", { headers: admA.headers })).json();
    const cloudB = await (await appB.request("/api/v1/tags/cloud", { headers: admB.headers })).json();
    expect(cloudA.items.map((i: { key: string }) => i.key)).toEqual(["species"]);
    expect(cloudA.total).toBe(1);
    expect(cloudB.items).toEqual([]);
    expect(cloudB.total).toBe(0);
  });

  test("jobs: a job queued in A is listed by A only", async () => {
    queueFor(a).enqueue("command", { datasetId: 1, generation: 1, payload: { rule: 0, command: ["true"], timeoutSeconds: 5, files: [] } });
    const admA = withUser(a, "root", { admin: true });
    const admB = withUser(b, "root", { admin: true });
    expect((await (await appA.request("/api/v1/jobs", { headers: admA.headers })).json()).items).toHaveLength(1);
    expect((await (await appB.request("/api/v1/jobs", { headers: admB.headers })).json()).items).toEqual([]);
  });

  test("previews: a row cached by A's tile route is never served by B", async () => {
    putPreview(a, 1, "ready");
    putPreview(b, 1, "queued");
    const admA = withUser(a, "root", { admin: true });
    const admB = withUser(b, "root", { admin: true });
    const tile = "/api/v1/datasets/1/previews/0/tiles/0/0-64_0-64_0-1";
    expect((await appA.request(tile, { headers: admA.headers })).status).toBe(200);
    expect((await appB.request(tile, { headers: admB.headers })).status).toBe(404);
    expect((await (await appA.request("/api/v1/datasets/1/previews", { headers: admA.headers })).json()).preview.state).toBe("ready");
    expect((await (await appB.request("/api/v1/datasets/1/previews", { headers: admB.headers })).json()).preview.state).not.toBe("ready");
  });
});
