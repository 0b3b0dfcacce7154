// A dataset renamed while its preview builds: the build fails at the old path, runs again once the scan has followed
// the folder, and the preview ends ready instead of "failed" for good.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { startJobs } from "../../src/jobs/index.ts";
import { previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { testContext } from "../support/env.ts";
import { waitFor, writeMetaImage } from "../jobs/fixture.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

test("a preview follows its dataset through a rename mid-build", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const dir = path.join(ctx.config.root, "ct");
  mkdirSync(dir);
  writeMetaImage(dir, "vol", [320, 320, 160], (x, y, z) => (x * 7 + y * 3 + z) % 4000);
  cleanups.push(await startJobs(ctx, { settleMs: 30, kinds: [previewJob({ encoding: "raw" })] }));
  await reconcileAll(ctx);
  const id = ctx.db.query<{ id: number }, []>("SELECT id FROM datasets WHERE path = 'ct'").get()!.id;
  await waitFor("the build runs", () => previewSummary(ctx, id).state === "running", 30_000, 5);
  renameSync(dir, path.join(ctx.config.root, "ct-renamed"));
  await reconcileAll(ctx);
  expect(ctx.db.query<{ path: string }, [number]>("SELECT path FROM datasets WHERE id = ?").get(id)!.path).toBe("ct-renamed");
  await waitFor(
    "the preview is ready",
    () => {
      const s = previewSummary(ctx, id).state;
      if (s === "failed") throw new Error(`preview failed: ${previewSummary(ctx, id).error}`);
      return s === "ready";
    },
    120_000,
    50,
  );
}, 180_000);
