// The running sync engine with real chokidar on real temp trees.
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { appendFileSync, cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createSyncService, scopeOf, type SyncService } from "../../src/sync/sync.service.ts";
import type { SyncSummary } from "../../src/sync/summary.ts";
import { readIdentity } from "../../src/sync/sidecar.ts";
import { testContext } from "../support/env.ts";
import { at, datasets, fileRows, files, parents, put, until } from "./helpers.ts";

// Real trees, processes and watchers on a shared machine: generous bounds, the waits inside are specific.
setDefaultTimeout(60_000);

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function running(overrides = {}, periodMs?: number) {
  const ctx = testContext({ debounceMs: 100, stableMs: 400, reconcileMinutes: 0, ...overrides });
  cleanups.push(ctx.cleanup);
  const service: SyncService = await createSyncService(ctx, { periodMs });
  cleanups.push(() => service.stop());
  const runs: SyncSummary[] = [];
  service.onRun.push((s) => runs.push(s));
  await until(() => runs.length > 0, 15000, "the start reconcile");
  return { ctx, service, runs, root: ctx.config.root };
}

const presentPaths = (ctx: Parameters<typeof datasets>[0]) =>
  datasets(ctx)
    .filter((d) => d.state === "present")
    .map((d) => d.path);

describe("watcher", () => {
  test("scopes: hints map to the dataset folder at the configured depth", () => {
    expect(scopeOf("a/b/c.tif", 1)).toBe("a");
    expect(scopeOf("lab/s1/x/y", 2)).toBe("lab/s1");
    expect(scopeOf("lab", 2)).toBe("lab");
    expect(scopeOf("bad\uFFFD/x", 1)).toBe("");
  });

  test("a start reconcile, then a new dataset and its files appear within seconds, in few debounced runs", async () => {
    const { ctx, runs, root, service } = await running();
    put(root, "scan1/a.tif", "aaa");
    put(root, "scan1/sub/b.tif", "bb");
    await until(() => datasets(ctx).length === 1 && at(ctx, "scan1").file_count === 2, 15000, "scan1 with 2 files");
    expect(runs.length).toBeLessThanOrEqual(4);
    put(root, "scan2/c.tif", "c");
    await until(() => presentPaths(ctx).includes("scan2") && at(ctx, "scan2").file_count === 1, 15000, "scan2");
    await service.idle();
    const before = runs.length;
    rmSync(path.join(root, "scan1/a.tif"));
    await until(() => at(ctx, "scan1").file_count === 1, 15000, "the removal");
    expect(files(ctx, at(ctx, "scan1").id)).toEqual(["sub/b.tif"]);
    // Incremental: the change reconciled its dataset only, not the tree.
    await service.idle();
    expect(runs.length).toBeGreaterThan(before);
    expect(runs.slice(before).every((r) => r.datasets.present === 1)).toBe(true);
  });

  test("a file still being written is not processed until it stops changing", async () => {
    const { ctx, root } = await running({ stableMs: 600 });
    put(root, "big/done.txt", "x");
    await until(() => presentPaths(ctx).includes("big"), 15000, "the dataset");
    const { id } = at(ctx, "big");
    const file = path.join(root, "big/growing.raw");
    writeFileSync(file, "");
    const seenSizes: number[] = [];
    for (let i = 0; i < 12; i++) {
      appendFileSync(file, Buffer.alloc(1000, 1));
      await Bun.sleep(150);
      const row = fileRows(ctx, id).get("growing.raw");
      if (row) seenSizes.push(row.size);
    }
    // While it grew, the database never listed a partial size.
    expect(seenSizes).toEqual([]);
    await until(() => fileRows(ctx, id).get("growing.raw")?.size === 12000, 15000, "the final size");
  });

  test("2,000 files arriving one by one are all listed, aggregated into few runs", async () => {
    const { ctx, runs, root } = await running({ debounceMs: 200, stableMs: 300 });
    mkdirSync(path.join(root, "many"));
    for (let i = 0; i < 2000; i++) {
      writeFileSync(path.join(root, "many", `f${String(i).padStart(4, "0")}.dat`), `file ${i}`);
      if (i % 50 === 0) await Bun.sleep(5);
    }
    await until(() => presentPaths(ctx).includes("many") && at(ctx, "many").file_count === 2000, 20000, "2,000 files");
    const d = at(ctx, "many");
    expect(files(ctx, d.id)).toHaveLength(2000);
    expect(runs.length).toBeLessThan(60);
  }, 40000);

  test("a 10,000-file dataset copied into the share arrives whole", async () => {
    const { ctx, root } = await running({ debounceMs: 200, stableMs: 300 });
    const src = path.join(ctx.dir, "staging", "ct-scan");
    for (let d = 0; d < 10; d++) {
      mkdirSync(path.join(src, `stack${d}`), { recursive: true });
      for (let i = 0; i < 1000; i++) writeFileSync(path.join(src, `stack${d}`, `z${i}.dcm`), `${d}/${i}`);
    }
    expect(Bun.spawnSync(["cp", "-r", src, path.join(root, "ct-scan")]).exitCode).toBe(0);
    await until(() => presentPaths(ctx).includes("ct-scan") && at(ctx, "ct-scan").file_count === 10000, 45000, "10,000 files");
    expect(files(ctx, at(ctx, "ct-scan").id)).toHaveLength(10000);
  });

  test("a dataset renamed while its files change keeps its id and ends with the right files", async () => {
    const { ctx, root } = await running();
    for (let i = 0; i < 20; i++) put(root, `orig/f${i}.dat`, `v${i}`);
    await until(() => presentPaths(ctx).includes("orig") && at(ctx, "orig").file_count === 20, 15000, "orig");
    const { id } = at(ctx, "orig");
    ctx.db.query("UPDATE datasets SET title = 'keep me' WHERE id = ?").run(id);
    const writer = (async () => {
      for (let i = 20; i < 40; i++) {
        for (const dir of ["orig", "renamed"]) {
          try {
            writeFileSync(path.join(root, dir, `f${i}.dat`), `v${i}`);
            break;
          } catch {
            // the folder was renamed between the two names: try the other
          }
        }
        await Bun.sleep(10);
      }
    })();
    await Bun.sleep(60);
    renameSync(path.join(root, "orig"), path.join(root, "renamed"));
    await writer;
    rmSync(path.join(root, "renamed/f0.dat"));
    await until(() => presentPaths(ctx).join() === "renamed" && at(ctx, "renamed").file_count === 39, 15000, "the renamed dataset with 39 files");
    expect(at(ctx, "renamed")).toMatchObject({ id, title: "keep me" });
    expect(datasets(ctx)).toHaveLength(1);
  });

  test("depth 2: a dataset moved across parent folders, a parent renamed, a copy of a copy", async () => {
    const { ctx, root } = await running({ depth: 2 });
    put(root, "lab-a/s1/a.tif", "aaa");
    put(root, "lab-a/s2/b.tif", "b");
    await until(() => presentPaths(ctx).length === 2, 15000, "two datasets");
    const s1 = at(ctx, "lab-a/s1");
    const s2 = at(ctx, "lab-a/s2");
    mkdirSync(path.join(root, "lab-b"));
    renameSync(path.join(root, "lab-a/s1"), path.join(root, "lab-b/s1"));
    await until(() => presentPaths(ctx).includes("lab-b/s1"), 15000, "the move");
    expect(at(ctx, "lab-b/s1").id).toBe(s1.id);
    renameSync(path.join(root, "lab-a"), path.join(root, "lab-z"));
    await until(() => presentPaths(ctx).includes("lab-z/s2"), 15000, "the parent rename");
    expect(at(ctx, "lab-z/s2").id).toBe(s2.id);
    cpSync(path.join(root, "lab-b/s1"), path.join(root, "lab-z/s1-copy"), { recursive: true });
    await until(() => presentPaths(ctx).includes("lab-z/s1-copy"), 15000, "the copy");
    const c1 = at(ctx, "lab-z/s1-copy");
    cpSync(path.join(root, "lab-z/s1-copy"), path.join(root, "lab-b/s1-copy-copy"), { recursive: true });
    await until(() => presentPaths(ctx).includes("lab-b/s1-copy-copy"), 15000, "the copy of the copy");
    expect(parents(ctx, c1.id)).toEqual([s1.id]);
    expect(parents(ctx, at(ctx, "lab-b/s1-copy-copy").id)).toEqual([c1.id]);
    expect(datasets(ctx).filter((d) => d.state === "missing")).toEqual([]);
  });

  test("the periodic full reconcile repairs what the watcher cannot see", async () => {
    const { ctx, root, runs } = await running({}, 700);
    put(root, "d/a.tif", "a");
    await until(() => presentPaths(ctx).includes("d"), 15000, "d");
    const { uid } = at(ctx, "d");
    // Sidecar changes are ignored by the watcher (and inotify never sees another NFS/SMB host's changes).
    rmSync(path.join(root, "d/.mata"), { recursive: true });
    const before = runs.length;
    await until(() => readIdentity(path.join(root, "d"))?.uid === uid, 15000, "the identity rewritten by a periodic run");
    expect(runs.slice(before).some((r) => r.datasets.present === 1 && r.ms >= 0)).toBe(true);
  });

  test("delete then restore through the watcher: missing, then the same id again", async () => {
    const { ctx, root } = await running();
    put(root, "keep/a.tif", "aaa");
    await until(() => presentPaths(ctx).includes("keep"), 15000, "keep");
    const { id } = at(ctx, "keep");
    const aside = path.join(ctx.dir, "aside");
    renameSync(path.join(root, "keep"), aside);
    await until(() => datasets(ctx).find((d) => d.id === id)?.state === "missing", 15000, "missing");
    renameSync(aside, path.join(root, "keep"));
    await until(() => datasets(ctx).find((d) => d.id === id)?.state === "present", 15000, "restored");
    expect(datasets(ctx)).toHaveLength(1);
  });
});
