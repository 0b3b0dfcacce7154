import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { startJobs } from "../../src/jobs/index.ts";
import { listPreviews, previewSummary } from "../../src/preview/preview.service.ts";
import { createApp } from "../../src/app.ts";
import { encodeBinaryStl, vesselTriangles } from "../../src/demo/mesh.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("an STL in a dataset gets a GLB preview through the queue; a broken one fails alone with its reason", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const id = addDataset(ctx, "vessel");
  const dir = path.join(ctx.config.root, "vessel");
  writeFileSync(path.join(dir, "vessel.stl"), encodeBinaryStl(vesselTriangles()));
  writeFileSync(path.join(dir, "broken.stl"), Buffer.alloc(200, 7));
  const stop = await startJobs(ctx, { settleMs: 50 });
  cleanups.push(stop);
  commitChange(ctx, id, ["vessel.stl", "broken.stl"]);
  await waitFor("mesh previews done", () => ["ready", "failed"].includes(previewSummary(ctx, id).state));
  const previews = listPreviews(ctx, id);
  const good = previews.find((p) => p.file === "vessel.stl")!;
  const bad = previews.find((p) => p.file === "broken.stl")!;
  expect(good).toMatchObject({ kind: "mesh", format: "stl", state: "ready" });
  expect(good.mesh).toMatch(new RegExp(`^/api/v1/datasets/${id}/previews/${good.n}/mesh\\.glb\\?v=[0-9a-f]{16}$`));
  expect(good.tiles).toBeUndefined();
  expect(bad).toMatchObject({ kind: "mesh", state: "failed" });
  expect(bad.error).toStartWith("broken.stl: binary STL header says");
  expect(bad.error).not.toContain(ctx.config.root);
  // The GLB is served (read permission) as glTF binary; the owner may read it, anyone else may not.
  const app = createApp(ctx);
  ctx.db.query("UPDATE datasets SET owner = 'alice' WHERE id = ?").run(id);
  const res = await app.request(good.mesh!, { headers: withUser(ctx, "alice").headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("model/gltf-binary");
  expect(new TextDecoder().decode((await res.arrayBuffer()).slice(0, 4))).toBe("glTF");
  expect((await app.request(good.mesh!, { headers: withUser(ctx, "mallory").headers })).status).toBe(403);
  // The page shows the 3D viewer for it.
  const page = await (await app.request(`/datasets/${id}`, { headers: withUser(ctx, "alice").headers })).text();
  expect(page).toContain(`class="mesh-viewer" data-src="/api/v1/datasets/${id}/previews/${good.n}/mesh.glb?v=`);
}, 60_000);
