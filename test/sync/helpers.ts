// Shared helpers of the sync tests: build real trees, read back what the database holds.
import { afterEach } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../../src/context.ts";
import { testContext } from "../support/env.ts";

/** Writes a file (and its folders) under the root. */
export function put(root: string, rel: string, content: string | Uint8Array = "x"): void {
  const abs = path.join(root, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, content);
}

/** Dataset rows by path (present ones) for easy assertions. */
export function datasets(ctx: AppContext): {
  id: number;
  uid: string;
  path: string;
  state: string;
  file_count: number;
  byte_count: number;
  generation: number;
  scan_error: string | null;
  title: string;
  owner: string | null;
}[] {
  return ctx.db
    .query<any, []>("SELECT id, uid, path, state, file_count, byte_count, generation, scan_error, title, owner FROM datasets ORDER BY path, id")
    .all();
}

/** The one present dataset at a path. */
export function at(ctx: AppContext, p: string) {
  const row = datasets(ctx).find((d) => d.path === p && d.state === "present");
  if (!row) throw new Error(`no present dataset at ${p}; have ${JSON.stringify(datasets(ctx).map((d) => [d.path, d.state]))}`);
  return row;
}

/** Sorted file paths of a dataset. */
export function files(ctx: AppContext, datasetId: number): string[] {
  return ctx.db
    .query<{ path: string }, [number]>("SELECT path FROM files WHERE dataset_id = ? ORDER BY path")
    .all(datasetId)
    .map((r) => r.path);
}

/** File rows of a dataset by path. */
export function fileRows(ctx: AppContext, datasetId: number): Map<string, { id: number; size: number; mtime_ms: number; inode: number }> {
  const rows = ctx.db.query<any, [number]>("SELECT id, path, size, mtime_ms, inode FROM files WHERE dataset_id = ?").all(datasetId);
  return new Map(rows.map((r: any) => [r.path, r]));
}

/** Parent ids of a dataset. */
export function parents(ctx: AppContext, id: number): number[] {
  return ctx.db
    .query<{ parent_id: number }, [number]>("SELECT parent_id FROM relations WHERE child_id = ? ORDER BY position")
    .all(id)
    .map((r) => r.parent_id);
}

/** Event kinds recorded for a dataset, oldest first. */
export function eventKinds(ctx: AppContext, id: number): string[] {
  return ctx.db
    .query<{ kind: string }, [number]>("SELECT kind FROM events WHERE dataset_id = ? ORDER BY id")
    .all(id)
    .map((r) => r.kind);
}

/** Adds a small tag tree to a dataset, the way the metadata feature stores it. */
export function addTags(ctx: AppContext, id: number): void {
  const ins = ctx.db.query<{ id: number }, [number, number | null, number, string, string]>(
    "INSERT INTO tags (dataset_id, parent_id, position, key, value, subtree_hash) VALUES (?, ?, ?, ?, ?, 'h') RETURNING id",
  );
  const patient = ins.get(id, null, 0, "Patient", "")!.id;
  ins.get(id, patient, 0, "Species", "sheep");
  ins.get(id, patient, 1, "Age", "3");
  ins.get(id, null, 1, "Modality", "CT");
}

/** The tag tree of a dataset as nested [key, value, children] lists. */
export function tagTreeOf(ctx: AppContext, id: number): unknown[] {
  const rows = ctx.db.query<any, [number]>("SELECT id, parent_id, position, key, value FROM tags WHERE dataset_id = ? ORDER BY position, id").all(id);
  const build = (p: number | null): unknown[] => rows.filter((r: any) => r.parent_id === p).map((r: any) => [r.key, r.value, build(r.id)]);
  return build(null);
}

/** Waits until `check` returns truthy, polling; fails with the last value after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms = 10000, what = "condition"): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = undefined;
      if (Date.now() + 50 >= end) throw e;
    }
    await Bun.sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * Runs a real `mata COMMAND --json` (scan, rebuild) as the unprivileged uid 65534 (root reads everything, so
 * permission errors need another user), on a tree and state dir that user owns; returns the printed report.
 * Extra CLI flags in `args`.
 */
export function asNobody(ctx: AppContext, command: "scan" | "rebuild", args: string[] = []): any {
  Bun.spawnSync(["chown", "-R", "65534:65534", ctx.config.state]);
  const argv = [process.execPath, "src/main.ts", command, "--json", "--root", ctx.config.root, "--state", ctx.config.state, ...args];
  const r = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...argv], {
    cwd: path.join(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, HOME: "/tmp", MATA_LOG: "error" },
  });
  if (r.exitCode !== 0 || r.stderr.length > 0) throw new Error(`${command} as uid 65534 failed (${r.exitCode}): ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}

/** `mata scan --json` as uid 65534 (see asNobody). */
export const scanAsNobody = (ctx: AppContext, args: string[] = []): any => asNobody(ctx, "scan", args);

/**
 * Per-test cleanup for a test file: `ctxWith` makes a test context, `cleanups` takes any other undo; all run after
 * each test, last first.
 */
export function contextsPerTest() {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
  });
  const ctxWith = (overrides: Parameters<typeof testContext>[0] = {}) => {
    const ctx = testContext(overrides);
    cleanups.push(ctx.cleanup);
    return ctx;
  };
  return { ctxWith, cleanups };
}
