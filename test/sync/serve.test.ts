// `mata serve` runs the sync engine: a folder copied into the share becomes a dataset, and SIGTERM stops it cleanly.
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import path from "node:path";
import { tempDir } from "../support/env.ts";
import { put, until } from "./helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

test("mata serve reconciles at start and follows changes until SIGTERM", async () => {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const root = path.join(dir, "root");
  const state = path.join(dir, "state");
  put(root, "before-start/a.dat", "a");
  const server = Bun.spawn([process.execPath, "src/main.ts", "serve", "--root", root, "--state", state, "--listen", "127.0.0.1:0"], {
    cwd: path.join(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, MATA_LOG: "warn", MATA_ACLS: "false", MATA_DEBOUNCE_MS: "100", MATA_STABLE_MS: "200" },
  });
  cleanups.push(() => server.kill("SIGKILL"));
  const rows = () => {
    try {
      const db = new Database(path.join(state, "mata.db"), { readonly: true });
      try {
        return db.query<{ path: string; file_count: number }, []>("SELECT path, file_count FROM datasets WHERE state = 'present' ORDER BY path").all();
      } finally {
        db.close();
      }
    } catch {
      return [];
    }
  };
  await until(() => rows().length === 1, 15000, "the start reconcile");
  put(root, "after-start/b.dat", "b");
  put(root, "after-start/c.dat", "c");
  await until(() => rows().find((r) => r.path === "after-start")?.file_count === 2, 10000, "the new dataset");
  server.kill("SIGTERM");
  expect(await server.exited).toBe(0);
}, 30000);
