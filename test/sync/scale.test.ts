// Large datasets: a change the watcher names is reconciled by looking at that path alone, the manifest grows by an
// appended log instead of being rewritten, and a whole walk streams in path order.
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { appendManifest, readManifest, writeManifest } from "../../src/sync/manifest.ts";
import { reconcileAll, reconcileScopes } from "../../src/sync/reconcile.ts";
import { comparePaths, walkDataset } from "../../src/sync/walk.ts";
import { testContext } from "../support/env.ts";
import { at, fileRows, files, put } from "./helpers.ts";

const contexts: ReturnType<typeof testContext>[] = [];
afterEach(() => {
  for (const c of contexts.splice(0)) c.db.close();
});
function ctxWith() {
  const ctx = testContext();
  contexts.push(ctx);
  return ctx;
}

/** Totals and rows as the database holds them, to compare a run over named paths with a whole walk. */
function snapshot(ctx: ReturnType<typeof testContext>, p: string) {
  const d = at(ctx, p);
  return { file_count: d.file_count, byte_count: d.byte_count, files: [...fileRows(ctx, d.id)].map(([k, v]) => [k, v.size, v.mtime_ms, v.inode]) };
}

describe("named paths", () => {
  test("one change in a large dataset is reconciled by looking at the named paths alone, with the same result as a whole walk", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    for (let d = 0; d < 20; d++) {
      mkdirSync(path.join(root, "big", `part${d}`), { recursive: true });
      for (let i = 0; i < 250; i++) writeFileSync(path.join(root, "big", `part${d}`, `s${i}.dat`), `${d}-${i}`);
    }
    await reconcileAll(ctx);
    const big = at(ctx, "big");
    expect(big.file_count).toBe(5000);
    const movedId = fileRows(ctx, big.id).get("part3/s7.dat")!.id;

    // Named: one added, one modified, one removed, a new folder, and a move of which only the new path is named.
    put(root, "big/part1/new.dat", "added!");
    writeFileSync(path.join(root, "big/part2/s5.dat"), "modified, longer");
    rmSync(path.join(root, "big/part4/s9.dat"));
    put(root, "big/fresh/a.dat", "a");
    put(root, "big/fresh/deeper/b.dat", "bb");
    renameSync(path.join(root, "big/part3/s7.dat"), path.join(root, "big/part5/moved.dat"));
    // Not named: left for the next whole walk.
    put(root, "big/part6/unnamed.dat", "later");

    const named = ["part1/new.dat", "part2/s5.dat", "part4/s9.dat", "fresh", "fresh/a.dat", "part5/moved.dat"];
    const s = await reconcileScopes(ctx, ["big"], { paths: new Map([["big", named]]) });
    expect(s.files).toMatchObject({ added: 3, modified: 1, removed: 1, renamed: 1 });
    const rows = fileRows(ctx, big.id);
    expect(rows.get("part5/moved.dat")!.id).toBe(movedId);
    expect(rows.has("part3/s7.dat")).toBe(false);
    expect(rows.has("part6/unnamed.dat")).toBe(false);
    expect(at(ctx, "big").generation).toBe(big.generation + 1);
    // The manifest grew by a log; read back, it lists what the database holds.
    expect(existsSync(path.join(root, "big/.mata/manifest.log"))).toBe(true);
    expect(readManifest(path.join(root, "big"))!.files.map((f) => f.path)).toEqual(files(ctx, big.id));
    const afterNamed = snapshot(ctx, "big");

    // The whole walk then finds only the unnamed file, and agrees with the totals kept by difference.
    const whole = await reconcileAll(ctx);
    expect(whole.files).toMatchObject({ added: 1, modified: 0, removed: 0, renamed: 0 });
    rmSync(path.join(root, "big/part6/unnamed.dat"));
    await reconcileAll(ctx);
    expect(snapshot(ctx, "big")).toEqual(afterNamed);
    expect(readManifest(path.join(root, "big"))!.files.map((f) => f.path)).toEqual(files(ctx, big.id));
  }, 60_000);

  test("a named folder that is gone removes the rows below it; a named path that turned into a folder is walked", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "d/keep.dat", "1");
    put(root, "d/sub/x.dat", "2");
    put(root, "d/sub/y/z.dat", "3");
    put(root, "d/thing", "a file for now");
    await reconcileAll(ctx);
    const d = at(ctx, "d");
    rmSync(path.join(root, "d/sub"), { recursive: true });
    rmSync(path.join(root, "d/thing"));
    put(root, "d/thing/inside.dat", "now a folder");
    await reconcileScopes(ctx, ["d"], { paths: new Map([["d", ["sub", "thing"]]]) });
    expect(files(ctx, d.id)).toEqual(["keep.dat", "thing/inside.dat"]);
    expect(at(ctx, "d")).toMatchObject({ file_count: 2, byte_count: 1 + "now a folder".length });
  });
});

describe("manifest log", () => {
  const uid = "00000000-0000-4000-8000-000000000001";
  const entry = (p: string, size = 1) => ({ path: p, size, mtimeMs: 1000, inode: 7 });

  test("log lines newer than the base apply in order; older ones (a crash before the log was removed) and a cut-off last line do not", () => {
    const ctx = ctxWith();
    const dir = path.join(ctx.config.root, "m");
    mkdirSync(dir);
    writeManifest(dir, uid, 5, [entry("a"), entry("b")]);
    appendManifest(dir, 6, [{ file: entry("c") }, { removed: "a" }]);
    appendManifest(dir, 7, [{ file: entry("b", 9) }]);
    expect(readManifest(dir)).toEqual({ uid, generation: 5, files: [entry("b", 9), entry("c")] });
    // A crash mid-append leaves half a line: it is ignored.
    appendFileSync(path.join(dir, ".mata/manifest.log"), '{"g":8,"file":{"path":"d","si');
    expect(readManifest(dir)!.files.map((f) => f.path)).toEqual(["b", "c"]);
    // The base rewritten at generation 7 while the old log survives: the log's lines are all older, so ignored.
    writeFileSync(path.join(dir, ".mata/manifest.keep"), readFileSync(path.join(dir, ".mata/manifest.log")));
    writeManifest(dir, uid, 7, [entry("b", 9), entry("c")]);
    expect(existsSync(path.join(dir, ".mata/manifest.log"))).toBe(false);
    renameSync(path.join(dir, ".mata/manifest.keep"), path.join(dir, ".mata/manifest.log"));
    expect(readManifest(dir)!.files).toEqual([entry("b", 9), entry("c")]);
  });

  test("the log asks to be folded into the base once it outgrows it; the reconcile does so, streaming the rows", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "g/first.dat", "1");
    await reconcileAll(ctx);
    const dir = path.join(root, "g");
    const many = Array.from({ length: 20_000 }, (_, i) => ({ file: entry(`f${i}`) }));
    expect(appendManifest(dir, 100, many)).toBe(true);
    // A manifest behind the database (here: a log the database never committed) is rewritten from the rows.
    ctx.db.run("UPDATE datasets SET manifest_generation = 0");
    await reconcileAll(ctx);
    expect(existsSync(path.join(dir, ".mata/manifest.log"))).toBe(false);
    expect(readManifest(dir)!.files.map((f) => f.path)).toEqual(["first.dat"]);
    // Up to date: the next whole walk leaves the manifest alone.
    const mtime = statSync(path.join(dir, ".mata/manifest.json")).mtimeMs;
    await Bun.sleep(20);
    await reconcileAll(ctx);
    expect(statSync(path.join(dir, ".mata/manifest.json")).mtimeMs).toBe(mtime);
  });
});

describe("path order", () => {
  test("the walk visits files in the order SQLite sorts their paths, whatever the names", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    const names = ["a.txt", "a/b", "a-b/c", "a0", "Z", "é", "\u{1F600}", "\uFF61", "a/b.c/d", "a/b/c", "b"];
    for (const n of names) put(root, `o/${n}/f`, "x");
    const walked = (await walkDataset(path.join(root, "o"), [])).map((f) => f.path);
    ctx.db.run("CREATE TEMP TABLE p (path TEXT)");
    for (const w of walked) ctx.db.run("INSERT INTO p VALUES (?)", [w]);
    const sorted = ctx.db
      .query<{ path: string }, []>("SELECT path FROM p ORDER BY path")
      .all()
      .map((r) => r.path);
    expect(walked).toEqual(sorted);
    expect([...walked].sort(comparePaths)).toEqual(sorted);
  });
});
