import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { chunksIn, readTile } from "../preview/tiles.ts";
import sharp from "sharp";
import { queueFor, startJobs } from "../../src/jobs/index.ts";
import { estimateEta, JobQueue } from "../../src/jobs/jobs.service.ts";
import { listPreviews, previewDir, previewJob, previewSummary } from "../../src/preview/preview.service.ts";
import { previewRepo } from "../../src/preview/preview.repo.ts";
import { activeTilerChildren } from "../../src/preview/tiler.process.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "./fixture.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(overrides: Parameters<typeof testContext>[0] = {}) {
  const ctx = testContext(overrides);
  cleanups.push(() => ctx.cleanup());
  return ctx;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
};
/** Tiler children of a process, found through /proc (their environment carries the marker). */
const childrenOf = (ppid: number) =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const ppidOf = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
        return ppidOf === ppid && readFileSync(`/proc/${pid}/environ`, "utf8").includes("MATA_TILER_CHILD=1");
      } catch {
        return false;
      }
    })
    .map(Number);
const jobs = (ctx: ReturnType<typeof setup>, kind = "preview") =>
  ctx.db
    .query<{ id: number; state: string; started_at: number | null; attempts: number; error: string | null; generation: number }, [string]>(
      "SELECT * FROM jobs WHERE kind = ? ORDER BY id",
    )
    .all(kind);
const ramp = (x: number, y: number, z: number) => (x * 3 + y * 5 + z * 7) % 4000;

describe("job queue", () => {
  test("the ETA is linear in progress and only given for running jobs with some progress", () => {
    expect(estimateEta({ state: "running", progress: 0.25, started_at: 1000 }, 31_000)).toBe(90);
    expect(estimateEta({ state: "running", progress: 0.005, started_at: 1000 }, 31_000)).toBeNull();
    expect(estimateEta({ state: "queued", progress: 0.5, started_at: null }, 31_000)).toBeNull();
  });

  test("higher priority first, bounded concurrency, cancel and retry", async () => {
    const ctx = setup({ jobConcurrency: 1 });
    const q = new JobQueue(ctx, 1);
    const order: string[] = [];
    let concurrent = 0;
    let peak = 0;
    const gate = Promise.withResolvers<void>();
    const handler = (name: string) => async (_job: unknown, run: { signal: AbortSignal; progress(f: number): void }) => {
      concurrent++;
      peak = Math.max(peak, concurrent);
      order.push(name);
      run.progress(0.5);
      try {
        if (name === "slow") await Promise.race([gate.promise, new Promise((_, rej) => run.signal.addEventListener("abort", () => rej(new Error("aborted"))))]);
      } finally {
        concurrent--;
      }
      if (name === "flaky" && order.filter((o) => o === "flaky").length === 1) throw new Error("flaky failed once");
    };
    q.register({ name: "low", priority: 1, handler: handler("low") });
    q.register({ name: "high", priority: 50, handler: handler("high") });
    q.register({ name: "slow", priority: 100, handler: handler("slow") });
    q.register({ name: "flaky", priority: 0, handler: handler("flaky") });
    const low = q.enqueue("low");
    q.enqueue("high");
    const slow = q.enqueue("slow");
    const flaky = q.enqueue("flaky");
    q.start();
    await waitFor("slow running", () => q.isRunning(slow));
    expect(q.repo.get(slow)!.progress).toBe(0.5);
    q.cancel(slow);
    await waitFor("drained", () => q.repo.get(flaky)!.state === "failed");
    expect(order).toEqual(["slow", "high", "low", "flaky"]);
    expect(peak).toBe(1);
    expect(q.repo.get(slow)!.state).toBe("cancelled");
    expect(q.repo.get(low)!.state).toBe("done");
    expect(q.repo.get(flaky)!.error).toBe("flaky failed once");
    expect(() => q.cancel(low)).toThrow(/done/);
    q.retry(flaky);
    await waitFor("retried", () => q.repo.get(flaky)!.state === "done");
    expect(q.repo.get(flaky)!.attempts).toBe(2);
    await q.stop();
  });

  test("a background kind's maxRunning leaves the other slots to the work people wait for", async () => {
    const ctx = setup({ jobConcurrency: 2 });
    const q = new JobQueue(ctx, 2);
    const gate = Promise.withResolvers<void>();
    const started: string[] = [];
    const handler = (name: string) => async () => {
      started.push(name);
      if (name === "hash") await gate.promise;
    };
    q.register({ name: "hash", priority: 1, maxRunning: 1, handler: handler("hash") });
    q.register({ name: "export", priority: 50, handler: handler("export") });
    const hashes = [q.enqueue("hash"), q.enqueue("hash"), q.enqueue("hash")];
    q.start();
    await waitFor("a hash running", () => q.isRunning(hashes[0]!));
    await Bun.sleep(50);
    // Two slots, three background jobs queued: only one of them runs, the other slot stays free...
    expect(hashes.map((id) => q.repo.get(id)!.state)).toEqual(["running", "queued", "queued"]);
    // ...for an export queued behind them, which runs at once.
    const exp = q.enqueue("export");
    await waitFor("the export done", () => q.repo.get(exp)!.state === "done");
    expect(q.repo.get(hashes[0]!)!.state).toBe("running");
    gate.resolve();
    await waitFor("all hashed", () => hashes.every((id) => q.repo.get(id)!.state === "done"));
    expect(started).toEqual(["hash", "export", "hash", "hash"]);
    await q.stop();
  });

  test("2,000 slices arriving one by one end in one preview build", async () => {
    const ctx = setup();
    const id = addDataset(ctx, "stack");
    // The settle time only has to outlast the gap between two slices of the copy (here a few ms).
    const stop = await startJobs(ctx, { settleMs: 1500, kinds: [previewJob({ encoding: "raw" })] });
    cleanups.push(stop);
    const dir = path.join(ctx.config.root, "stack");
    const slice = (z: number) => Buffer.from(Array.from({ length: 24 * 20 }, (_, i) => (i + z) & 255));
    for (let z = 0; z < 2000; z++) {
      const name = `slice_${String(z).padStart(4, "0")}.png`;
      await sharp(slice(z), { raw: { width: 24, height: 20, channels: 1 } })
        .png()
        .toFile(path.join(dir, name));
      commitChange(ctx, id, [name]);
      if (z === 5) expect(previewSummary(ctx, id).state).toBe("queued");
    }
    await waitFor("stack preview", () => previewSummary(ctx, id).state === "ready", 120_000);
    const started = jobs(ctx).filter((j) => j.started_at !== null);
    expect(started.length).toBe(1);
    expect(jobs(ctx).length).toBe(1);
    const [p] = listPreviews(ctx, id);
    expect(p).toMatchObject({ file: "slice_0000.png", size: [24, 20, 2000], state: "ready" });
    const key = previewRepo(ctx.db).get(id, 0)!.content_key;
    const tile = readTile(previewDir(ctx, key), 0, "0-24_0-20_1234-1235")!;
    const [lo, hi] = p!.window!;
    const shown = (v: number) => Math.max(0, Math.min(255, Math.floor(((v - lo) * 255) / (hi - lo) + 0.5)));
    expect([...tile.subarray(0, 3)]).toEqual([shown(1234 & 255), shown(1235 & 255), shown(1236 & 255)]);
  }, 180_000);

  test("a new generation stops the running build at once: the tiler child is killed, then one build completes", async () => {
    const ctx = setup();
    const id = addDataset(ctx, "big");
    writeMetaImage(path.join(ctx.config.root, "big"), "vol", [512, 512, 160], ramp);
    const stop = await startJobs(ctx, { settleMs: 30 });
    cleanups.push(stop);
    commitChange(ctx, id);
    const child = await waitFor("a tiler child", () => activeTilerChildren()[0], 30_000);
    await waitFor("build progress", () => (previewRepo(ctx.db).get(id, 0)?.progress ?? 0) > 0.05, 30_000);
    expect(alive(child)).toBe(true);
    const t0 = performance.now();
    commitChange(ctx, id, ["vol.raw"]);
    await waitFor("child gone", () => !alive(child), 2_000, 2);
    const stoppedMs = performance.now() - t0;
    expect(stoppedMs).toBeLessThan(1000);
    expect(jobs(ctx)[0]).toMatchObject({ state: "cancelled" });
    expect(jobs(ctx)[0]!.error).toContain("superseded");
    await waitFor("rebuilt", () => previewSummary(ctx, id).state === "ready", 120_000);
    expect(jobs(ctx).map((j) => j.state)).toEqual(["cancelled", "done"]);
    expect(readdirSync(path.join(ctx.config.state, "previews", ".tmp"))).toEqual([]);
  }, 180_000);

  test("kill -9 of the server mid-build: the restart re-queues the job and the preview completes correctly", async () => {
    const ctx = setup();
    const id = addDataset(ctx, "crash");
    writeMetaImage(path.join(ctx.config.root, "crash"), "vol", [512, 512, 120], ramp);
    const generation = commitChange(ctx, id);
    const server = Bun.spawn([process.execPath, path.join(import.meta.dir, "run-jobs.ts"), ctx.config.root, ctx.config.state, String(id), String(generation)], {
      stdout: "pipe",
      stderr: "ignore",
    });
    cleanups.push(() => {
      server.kill("SIGKILL");
    });
    await waitFor("build under way", () => (previewRepo(ctx.db).get(id, 0)?.progress ?? 0) > 0.1, 60_000);
    const tmp = path.join(ctx.config.state, "previews", ".tmp");
    // One build in its temp folder, with the scratch of its bricks beside it.
    expect(readdirSync(tmp).filter((f) => !f.endsWith(".bricks")).length).toBe(1);
    const orphans = childrenOf(server.pid);
    expect(orphans.length).toBe(1);
    server.kill("SIGKILL");
    await server.exited;
    expect(jobs(ctx)[0]!.state).toBe("running");
    // The orphaned tiler notices its parent is gone (stdin closed) and stops by itself.
    await waitFor("orphan tiler gone", () => orphans.every((pid) => !alive(pid)), 10_000);
    const stop = await startJobs(ctx, { settleMs: 0, kinds: [previewJob({ encoding: "raw" })] });
    cleanups.push(stop);
    await waitFor("preview after restart", () => previewSummary(ctx, id).state === "ready", 120_000);
    const [job] = jobs(ctx);
    expect(job).toMatchObject({ state: "done", attempts: 2 });
    const key = previewRepo(ctx.db).get(id, 0)!.content_key;
    const dir = previewDir(ctx, key);
    const info = JSON.parse(readFileSync(path.join(dir, "info"), "utf8"));
    expect(info.scales.map((s: { size: number[] }) => s.size)).toEqual([
      [512, 512, 120],
      [256, 256, 60],
    ]);
    expect(["xy", "xz", "yz"].map((o) => chunksIn(dir, o as "xy", 0).chunks)).toEqual([120 * 4, 512 * 2, 512 * 2]);
    expect(readdirSync(tmp)).toEqual([]);
  }, 180_000);

  test("a rule's command runs with the dataset path and changed files; a failure is recorded, never fatal", async () => {
    const ctx = setup({
      rules: [
        { glob: "**/*.csv", command: ["sh", "-c", 'echo "$MATA_DATASET_PATH" "$@" > "$MATA_DATASET_PATH/../out.txt"', "rule"], timeoutSeconds: 10 },
        { glob: "**/*.bad", command: ["sh", "-c", "echo broken input >&2; exit 3"], timeoutSeconds: 10 },
        { glob: "**/*.slow", command: ["sh", "-c", "sleep 30"], timeoutSeconds: 1 },
      ],
    });
    const id = addDataset(ctx, "tables");
    const dsDir = path.join(ctx.config.root, "tables");
    for (const f of ["a.csv", "b.csv", "x.bad", "y.slow", "notes.txt"]) await Bun.write(path.join(dsDir, f), "1");
    const stop = await startJobs(ctx, { settleMs: 30 });
    cleanups.push(stop);
    commitChange(ctx, id, ["a.csv", "notes.txt"]);
    commitChange(ctx, id, ["b.csv", "x.bad", "y.slow"]);
    await waitFor("commands finished", () => jobs(ctx, "command").filter((j) => j.state === "done" || j.state === "failed").length === 3, 30_000);
    expect(readFileSync(path.join(ctx.config.root, "out.txt"), "utf8").trim()).toBe(`${dsDir} ./a.csv ./b.csv`);
    const final = jobs(ctx, "command").filter((j) => j.state !== "cancelled");
    expect(final.map((j) => j.state).sort()).toEqual(["done", "failed", "failed"]);
    const errors = final
      .map((j) => j.error)
      .filter(Boolean)
      .join("\n");
    expect(errors).toContain("exited with code 3: broken input");
    expect(errors).toContain("timed out after 1 s");
    const events = ctx.db
      .query<{ kind: string }, [number]>("SELECT kind FROM events WHERE dataset_id = ? ORDER BY id")
      .all(id)
      .map((e) => e.kind);
    expect(events.filter((k) => k === "rule.failed").length).toBe(2);
    expect(queueFor(ctx).repo.list({ datasetId: id, limit: 10 }).length).toBeGreaterThanOrEqual(3);
    expect(existsSync(path.join(ctx.config.state, "previews", ".tmp"))).toBe(false);
  }, 60_000);

  test("a command runs in its own process group: a timeout kills its children too, and a file named like an option stays a file", async () => {
    const ctx = setup({
      rules: [
        // Starts a child that would outlive it, notes the child's pid, then hangs past its timeout.
        { glob: "**/*.hang", command: ["sh", "-c", 'sleep 300 & echo $! > "$MATA_DATASET_PATH/../child.pid"; sleep 300'], timeoutSeconds: 1 },
        { glob: "**/*.txt", command: ["sh", "-c", 'printf "%s\\n" "$@" > "$MATA_DATASET_PATH/../args.txt"', "rule"], timeoutSeconds: 10 },
      ],
    });
    const id = addDataset(ctx, "hostile");
    const dsDir = path.join(ctx.config.root, "hostile");
    for (const f of ["x.hang", "--checkpoint-action=exec=touch PWNED.txt"]) await Bun.write(path.join(dsDir, f), "1");
    const stop = await startJobs(ctx, { settleMs: 30 });
    cleanups.push(stop);
    commitChange(ctx, id, ["x.hang", "--checkpoint-action=exec=touch PWNED.txt"]);
    await waitFor("both commands ended", () => jobs(ctx, "command").filter((j) => j.state === "done" || j.state === "failed").length === 2, 30_000);
    const child = Number(readFileSync(path.join(ctx.config.root, "child.pid"), "utf8"));
    await waitFor(
      "the background child is gone",
      () => {
        try {
          process.kill(child, 0);
          return false;
        } catch {
          return true;
        }
      },
      5000,
    );
    expect(readFileSync(path.join(ctx.config.root, "args.txt"), "utf8").trim()).toBe("./--checkpoint-action=exec=touch PWNED.txt");
  }, 60_000);
});

test("a change stops only the jobs whose inputs it touches: a saved note leaves a running command alone", async () => {
  const ctx = testContext({
    rules: [{ glob: "**/*.csv", command: ["sh", "-c", 'sleep 2; echo ran >> "$MATA_DATASET_PATH/../runs.txt"'], timeoutSeconds: 30 }],
  });
  cleanups.push(() => ctx.cleanup());
  const id = addDataset(ctx, "tables");
  const dsDir = path.join(ctx.config.root, "tables");
  for (const f of ["a.csv", "notes.txt"]) await Bun.write(path.join(dsDir, f), "1");
  const stop = await startJobs(ctx, { settleMs: 30 });
  cleanups.push(stop);
  commitChange(ctx, id, ["a.csv"]);
  await waitFor("the command runs", () => jobs(ctx, "command").some((j) => j.state === "running"), 10_000);
  commitChange(ctx, id, ["notes.txt"]);
  await waitFor("the command ends", () => jobs(ctx, "command").some((j) => j.state === "done" || j.state === "cancelled" || j.state === "failed"), 15_000);
  expect(jobs(ctx, "command").map((j) => j.state)).toEqual(["done"]);
  // Its own input changing does stop it, and it runs again for the new version.
  commitChange(ctx, id, ["a.csv"]);
  await waitFor("the second run starts", () => jobs(ctx, "command").filter((j) => j.state === "running").length === 1, 10_000);
  commitChange(ctx, id, ["a.csv"]);
  await waitFor("a third run ends", () => jobs(ctx, "command").filter((j) => j.state === "done").length === 2, 20_000);
  expect(jobs(ctx, "command").filter((j) => j.state === "cancelled").length).toBe(1);
}, 60_000);

test("a command's own output in its dataset neither stops nor re-triggers it, however its glob is written", async () => {
  const ctx = testContext({
    rules: [{ glob: "**/*", command: ["sh", "-c", 'sleep 0.3; echo "analysed $*" >> "$MATA_DATASET_PATH/analysis.log"', "rule"], timeoutSeconds: 30 }],
  });
  cleanups.push(() => ctx.cleanup());
  const id = addDataset(ctx, "study");
  const dsDir = path.join(ctx.config.root, "study");
  await Bun.write(path.join(dsDir, "a.csv"), "1");
  const stop = await startJobs(ctx, { settleMs: 30 });
  cleanups.push(stop);
  commitChange(ctx, id, ["a.csv"]);
  await waitFor("the first run", () => jobs(ctx, "command").filter((j) => j.state === "done").length === 1, 15_000);
  // The watcher reports the log the command wrote: no new run.
  commitChange(ctx, id, ["analysis.log"]);
  await Bun.sleep(500);
  expect(jobs(ctx, "command").map((j) => j.state)).toEqual(["done"]);
  // A person's change afterwards runs it again, once.
  await Bun.write(path.join(dsDir, "b.csv"), "2");
  commitChange(ctx, id, ["b.csv"]);
  await waitFor("the second run", () => jobs(ctx, "command").filter((j) => j.state === "done").length === 2, 15_000);
  commitChange(ctx, id, ["analysis.log"]);
  await Bun.sleep(500);
  expect(jobs(ctx, "command").map((j) => j.state)).toEqual(["done", "done"]);
  expect(readFileSync(path.join(dsDir, "analysis.log"), "utf8").trim().split("\n")).toEqual(["analysed ./a.csv", "analysed ./b.csv"]);
}, 60_000);
