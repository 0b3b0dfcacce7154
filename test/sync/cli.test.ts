import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { cpSync, existsSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { openDatabase } from "../../src/db/database.ts";
import { writeMetadataMirror, readIdentity } from "../../src/sync/sidecar.ts";
import { createSyncService } from "../../src/sync/sync.service.ts";
import { testContext } from "../support/env.ts";
import { tempDir } from "../support/env.ts";
import { put } from "./helpers.ts";

// Real trees, processes and watchers on a shared machine: generous bounds, the waits inside are specific.
setDefaultTimeout(60_000);

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function mata(args: string[]) {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", ...args], {
    cwd: path.join(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, MATA_LOG: "error" },
  });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("mata scan", () => {
  test("--help names the options; a missing root is a clear error", () => {
    const h = mata(["scan", "--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("--json");
    expect(h.out).toContain("--root DIR");
    const bad = mata(["scan", "--root", "/nonexistent/mata-root", "--state", "/tmp/x"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("root /nonexistent/mata-root is not a folder");
    expect(mata(["rebuild", "--help"]).out).toContain("sidecars");
  });

  test("--json prints counts of datasets and files added, removed, renamed, copied", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const root = path.join(dir, "root");
    const args = ["scan", "--json", "--root", root, "--state", path.join(dir, "state")];
    put(root, "a/1.tif", "11");
    put(root, "b/2.tif", "2");
    const first = JSON.parse(mata(args).out);
    expect(first.datasets).toMatchObject({ added: 2, present: 2 });
    expect(first.files).toMatchObject({ added: 2, present: 2 });
    renameSync(path.join(root, "a"), path.join(root, "a2"));
    cpSync(path.join(root, "b"), path.join(root, "b copy"), { recursive: true });
    rmSync(path.join(root, "b/2.tif"));
    const second = JSON.parse(mata(args).out);
    expect(second.datasets).toMatchObject({ added: 0, renamed: 1, copied: 1, removed: 0, restored: 0, present: 3 });
    expect(second.files).toMatchObject({ added: 1, removed: 1 });
    const text = mata(args.filter((a) => a !== "--json"));
    expect(text.out).toContain("datasets: 3 present, 0 added");
  });
});

describe("concurrent writers", () => {
  test("mata scan runs beside a running sync engine: no error, no duplicate or lost dataset", async () => {
    const ctx = testContext({ debounceMs: 50, stableMs: 0, reconcileMinutes: 0 });
    cleanups.push(ctx.cleanup);
    const service = await createSyncService(ctx);
    const root = ctx.config.root;
    for (let i = 0; i < 150; i++) put(root, `new${i}/f.dat`, `${i}`);
    const flags = ["--root", root, "--state", ctx.config.state, "--json"];
    const runs = await Promise.all(
      [0, 1].map(async () => {
        const p = Bun.spawn([process.execPath, "src/main.ts", "scan", ...flags], {
          cwd: path.join(import.meta.dir, "../.."),
          stdout: "pipe",
          stderr: "pipe",
          env: { ...process.env, MATA_LOG: "error" },
        });
        return { code: await p.exited, err: await new Response(p.stderr).text() };
      }),
    );
    await service.scanAll();
    await service.idle();
    await service.stop();
    expect(runs).toEqual([
      { code: 0, err: "" },
      { code: 0, err: "" },
    ]);
    const rows = ctx.db.query<{ uid: string; path: string; state: string }, []>("SELECT uid, path, state FROM datasets").all();
    expect(rows.filter((r) => r.state === "present")).toHaveLength(150);
    for (const r of rows.filter((x) => x.state === "present")) expect(readIdentity(path.join(root, r.path))?.uid).toBe(r.uid);
    expect(new Set(rows.map((r) => r.uid)).size).toBe(rows.length);
    expect(rows.filter((r) => r.state === "missing")).toEqual([]);
  });
});

describe("mata rebuild", () => {
  test("re-creates identities, copies, titles, tags and parents from the sidecars, keeping the old database", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const root = path.join(dir, "root");
    const state = path.join(dir, "state");
    const flags = ["--root", root, "--state", state];
    put(root, "orig/a.tif", "aaa");
    put(root, "other/b.tif", "b");
    expect(mata(["scan", ...flags]).code).toBe(0);
    cpSync(path.join(root, "orig"), path.join(root, "copy"), { recursive: true });
    expect(mata(["scan", ...flags]).code).toBe(0);
    const uid = (p: string) => readIdentity(path.join(root, p))!.uid;
    writeMetadataMirror(path.join(root, "other"), {
      title: "Other scan",
      description: "made from orig",
      tags: [{ key: "Patient", value: "", children: [{ key: "Species", value: "sheep", children: [] }] }],
      parents: [uid("orig"), "00000000-0000-4000-8000-000000000000"],
      updatedAt: 1,
    });
    // A mirror naming a cycle (orig derived from other) is cut, never stored.
    writeMetadataMirror(path.join(root, "orig"), { title: "Original", description: "", tags: [], parents: [uid("other")], updatedAt: Date.now() });
    const r = mata(["rebuild", "--json", ...flags]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ mirrors: 3, skippedParents: 2 });
    expect(existsSync(report.previous)).toBe(true);
    const db = openDatabase(path.join(state, "mata.db"));
    try {
      const rows = db.query<{ id: number; uid: string; path: string; title: string }, []>("SELECT id, uid, path, title FROM datasets ORDER BY path").all();
      expect(rows.map((x) => [x.path, x.uid, x.title])).toEqual([
        ["copy", uid("copy"), ""],
        ["orig", uid("orig"), "Original"],
        ["other", uid("other"), "Other scan"],
      ]);
      const id = (p: string) => rows.find((x) => x.path === p)!.id;
      const rel = db.query<{ child_id: number; parent_id: number }, []>("SELECT child_id, parent_id FROM relations ORDER BY child_id").all();
      expect(rel).toEqual(
        expect.arrayContaining([
          { child_id: id("copy"), parent_id: id("orig") },
          { child_id: id("other"), parent_id: id("orig") },
        ]),
      );
      expect(rel).toHaveLength(2);
      const tags = db
        .query<{ key: string; value: string; subtree_hash: string }, [number]>("SELECT key, value, subtree_hash FROM tags WHERE dataset_id = ? ORDER BY id")
        .all(id("other"));
      expect(tags.map((t) => [t.key, t.value])).toEqual([
        ["Patient", ""],
        ["Species", "sheep"],
      ]);
      expect(tags[0]!.subtree_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM files").get()!.n).toBe(3);
    } finally {
      db.close();
    }
  });
});
