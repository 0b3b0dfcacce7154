// Preview builds are admitted by their estimated memory: several at once stay within the budget, in the order they
// asked; one larger than the budget runs alone; a cancelled wait gives its turn to the next.
import { expect, test } from "bun:test";
import path from "node:path";
import { startJobs } from "../../src/jobs/index.ts";
import { estimateBuildMemory, MemoryBudget } from "../../src/preview/memory-budget.ts";
import { previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { activeTilerChildren } from "../../src/preview/tiler.process.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const MiB = 2 ** 20;

test("the estimate is a slice pair and a brick per thread, whatever the depth", () => {
  const small = estimateBuildMemory({ width: 512, height: 512, depth: 512, dtype: "uint16" }, 2);
  expect(small).toBeGreaterThan(160 * MiB + 2 * 16 * MiB);
  expect(small).toBeLessThan(300 * MiB);
  // The depth adds nothing; 2048^2 and 8192^2 slices stay far under 2 GB even with 16 threads.
  expect(estimateBuildMemory({ width: 512, height: 512, depth: 5000, dtype: "uint16" }, 2)).toBe(small);
  const k2 = estimateBuildMemory({ width: 2048, height: 2048, depth: 1200, dtype: "uint16" }, 16);
  expect(k2).toBeLessThan(1000 * MiB);
  const k8 = estimateBuildMemory({ width: 8192, height: 8192, depth: 1000, dtype: "uint16" }, 16);
  expect(k8).toBeGreaterThan(k2);
  expect(k8).toBeLessThan(2000 * MiB);
  // Threads beyond the bricks there are cost nothing: a 100^3 volume is one brick.
  expect(estimateBuildMemory({ width: 100, height: 100, depth: 100, dtype: "uint8" }, 16)).toBe(
    estimateBuildMemory({ width: 100, height: 100, depth: 100, dtype: "uint8" }, 1),
  );
});

test("builds wait until their estimate fits, first come first served; a build over the budget runs alone", async () => {
  const budget = new MemoryBudget(1000);
  const order: string[] = [];
  const a = await budget.acquire(600);
  const b = budget.acquire(600).then((release) => (order.push("b"), release));
  const c = budget.acquire(300).then((release) => (order.push("c"), release));
  await Bun.sleep(5);
  // c would fit beside a, but b asked first.
  expect(order).toEqual([]);
  expect(budget.inUse).toBe(600);
  a();
  const releaseB = await b;
  const releaseC = await c;
  expect(order).toEqual(["b", "c"]);
  expect(budget.inUse).toBe(900);
  releaseB();
  releaseC();
  releaseC();
  expect(budget.inUse).toBe(0);
  const huge = await budget.acquire(5000);
  expect(budget.inUse).toBe(1000);
  const next = budget.acquire(1);
  let admitted = false;
  void next.then(() => (admitted = true));
  await Bun.sleep(5);
  expect(admitted).toBe(false);
  huge();
  (await next)();
  expect(budget.inUse).toBe(0);
});

test("a cancelled wait leaves the queue and lets the next one in", async () => {
  const budget = new MemoryBudget(100);
  const first = await budget.acquire(80);
  const stop = new AbortController();
  const cancelled = budget.acquire(50, stop.signal);
  const small = budget.acquire(10);
  stop.abort(new Error("superseded"));
  await expect(cancelled).rejects.toThrow("superseded");
  // The small one no longer waits behind the cancelled one.
  (await small)();
  first();
  expect(budget.inUse).toBe(0);
});

test("two datasets' builds with room for one: the second waits for the first, though two jobs may run at once", async () => {
  const ctx = testContext({ jobConcurrency: 2, previewMemory: 256 * MiB });
  try {
    const ids = ["a", "b"].map((name) => {
      const id = addDataset(ctx, name);
      writeMetaImage(path.join(ctx.config.root, name), "vol", [256, 256, 64], (x, y, z) => x + y + z);
      return id;
    });
    const stop = await startJobs(ctx, { settleMs: 0, kinds: [previewJob({ encoding: "raw" })] });
    try {
      let most = 0;
      for (const id of ids) commitChange(ctx, id);
      await waitFor(
        "both built",
        () => {
          most = Math.max(most, activeTilerChildren().length);
          return ids.every((id) => previewSummary(ctx, id).state === "ready");
        },
        120_000,
        2,
      );
      expect(most).toBe(1);
      expect(ctx.services.preview.memory.inUse).toBe(0);
    } finally {
      await stop();
    }
  } finally {
    ctx.cleanup();
  }
}, 180_000);
