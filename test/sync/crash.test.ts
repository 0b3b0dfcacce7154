// Crash safety: the real CLI killed with SIGKILL at random moments while it reconciles a large tree.
import { afterEach, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openDatabase } from "../../src/db/database.ts";
import { readManifest } from "../../src/sync/manifest.ts";
import { readIdentity, readMetadataMirror } from "../../src/sync/sidecar.ts";
import { walkDataset } from "../../src/sync/walk.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { tempDir, testContext } from "../support/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const REPO = path.join(import.meta.dir, "../..");

function makeDataset(root: string, name: string, files: number): void {
  mkdirSync(path.join(root, name, "slices"), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(path.join(root, name, i % 2 ? "slices" : "", `img${i}.tif`), `${name}:${i}`);
}

/** Runs `mata scan`, killing it with SIGKILL after `killAfterMs` (undefined: let it finish). Returns whether it finished. */
async function scan(root: string, state: string, killAfterMs?: number): Promise<boolean> {
  const p = Bun.spawn([process.execPath, "src/main.ts", "scan", "--json", "--root", root, "--state", state], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, MATA_LOG: "error" },
  });
  if (killAfterMs !== undefined) {
    const timer = setTimeout(() => p.kill("SIGKILL"), killAfterMs);
    await p.exited;
    clearTimeout(timer);
    return p.signalCode === null && p.exitCode === 0;
  }
  const code = await p.exited;
  if (code !== 0) throw new Error(`mata scan failed: ${await new Response(p.stderr).text()}`);
  return true;
}

/** Events committed so far: grows when a killed run got some work committed before it died. */
function eventCount(state: string): number {
  const db = openDatabase(path.join(state, "mata.db"));
  try {
    return db.query<{ n: number }, []>("SELECT count(*) AS n FROM events").get()!.n;
  } finally {
    db.close();
  }
}

describe("crash safety", () => {
  test("SIGKILL at random moments (migration, reconcile, sidecar writes) loses nothing; the next run is exact", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const root = path.join(dir, "root");
    const state = path.join(dir, "state");
    for (let d = 0; d < 60; d++) makeDataset(root, `base${String(d).padStart(2, "0")}`, 200);

    // Killed during its first start (migrations) and first reconcile, then finished: the baseline.
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const ms of [15, 40, 80, 150]) await scan(root, state, ms);
    await scan(root, state);
    let db = openDatabase(path.join(state, "mata.db"));
    const idOf = new Map(
      db
        .query<{ id: number; path: string }, []>("SELECT id, path FROM datasets")
        .all()
        .map((r) => [r.path, r.id]),
    );
    expect(idOf.size).toBe(60);
    for (const [p, id] of idOf) db.query("UPDATE datasets SET title = ? WHERE id = ?").run(`title of ${p}`, id);
    db.close();

    // The model: which dataset id each folder must end as, and which copies and missing ones there must be.
    const expectId = new Map(idOf);
    const copies: { path: string; parent: number }[] = [];
    const gone: number[] = [];
    const mutate = (round: number) => {
      const names = [...expectId.keys()].sort();
      const a = names[(round * 7) % names.length]!;
      renameSync(path.join(root, a), path.join(root, `${a}-r${round}`));
      expectId.set(`${a}-r${round}`, expectId.get(a)!);
      expectId.delete(a);
      const b = names[(round * 11 + 3) % names.length]!;
      if (b !== a) writeFileSync(path.join(root, b, `added-${round}.tif`), "new content");
      if (round % 3 === 0) {
        const c = names[(round * 13 + 5) % names.length]!;
        if (c !== a && existsSync(path.join(root, c))) {
          cpSync(path.join(root, c), path.join(root, `copy-${round}`), { recursive: true });
          copies.push({ path: `copy-${round}`, parent: expectId.get(c)! });
        }
      }
      if (round % 4 === 1) {
        const g = names[(round * 17 + 1) % names.length]!;
        if (g !== a && g !== b && expectId.has(g)) {
          rmSync(path.join(root, g), { recursive: true });
          gone.push(expectId.get(g)!);
          expectId.delete(g);
        }
      }
      makeDataset(root, `new-${round}`, 600);
      // Modified files in many datasets, so each run rewrites many manifests (kills land mid-write).
      for (const n of names.filter((_, i) => i % 3 === round % 3))
        if (n !== a && existsSync(path.join(root, n))) writeFileSync(path.join(root, n, "img0.tif"), `round ${round}`);
    };

    // Kills are spread over the time a run lasts (learnt from runs that finished first), and the test
    // counts killed runs that had committed part of their work: those are the interesting crashes.
    let window = 800;
    let finished = 0;
    let kills = 0;
    let partial = 0;
    for (let round = 0; round < 14; round++) {
      mutate(round);
      for (let k = 0; k < 2; k++) {
        kills += 1;
        const before = eventCount(state);
        const t = performance.now();
        if (await scan(root, state, 10 + Math.floor(rand() * window))) {
          finished += 1;
          window = Math.max(50, Math.round(performance.now() - t));
        } else if (eventCount(state) > before) partial += 1;
        else window = Math.round(window * 1.25); // killed before any commit: aim later next time
      }
    }
    await scan(root, state);

    db = openDatabase(path.join(state, "mata.db"));
    cleanups.push(() => db.close());
    expect(db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()!.integrity_check).toBe("ok");
    expect(db.query("PRAGMA foreign_key_check").all()).toEqual([]);
    type Row = { id: number; uid: string; path: string; state: string; title: string; file_count: number; byte_count: number };
    const rows = db.query<Row, []>("SELECT id, uid, path, state, title, file_count, byte_count FROM datasets").all();
    const present = rows.filter((r) => r.state === "present");
    const folders = readdirSync(root).sort();
    expect(present.map((r) => r.path).sort()).toEqual(folders);
    expect(new Set(rows.map((r) => r.uid)).size).toBe(rows.length);
    // Renamed datasets kept their id and title; deleted ones are missing with their title; copies know their parent, once.
    for (const [p, id] of expectId) expect(present.find((r) => r.path === p)).toMatchObject({ id, title: expect.stringMatching(/^title of /) });
    for (const id of gone) expect(rows.find((r) => r.id === id)).toMatchObject({ state: "missing", title: expect.stringMatching(/^title of /) });
    const parentOf = db.query<{ parent_id: number }, [number]>("SELECT parent_id FROM relations WHERE child_id = ?");
    for (const c of copies) {
      const row = present.find((r) => r.path === c.path)!;
      expect(parentOf.all(row.id).map((x) => x.parent_id)).toEqual([c.parent]);
    }
    const newCount = folders.filter((f) => f.startsWith("new-")).length;
    expect(rows.length).toBe(60 + newCount + copies.length);
    // Every folder's files and sidecar agree with the database, and every sidecar file is whole.
    const filesOf = db.query<{ path: string; size: number }, [number]>("SELECT path, size FROM files WHERE dataset_id = ? ORDER BY path");
    for (const r of present) {
      const abs = path.join(root, r.path);
      const disk = await walkDataset(abs, []);
      const dbFiles = filesOf.all(r.id);
      expect(dbFiles).toEqual(disk.map((f) => ({ path: f.path, size: f.size })));
      expect(r.file_count).toBe(disk.length);
      expect(readIdentity(abs)?.uid).toBe(r.uid);
      const manifest = readManifest(abs);
      expect(manifest?.uid).toBe(r.uid);
      expect(manifest!.files.map((f) => f.path).sort()).toEqual(disk.map((f) => f.path));
      if (existsSync(path.join(abs, ".mata/metadata.json"))) expect(readMetadataMirror(abs)).toBeDefined();
    }
    console.log(
      `crash test: ${kills} runs with a random SIGKILL, ${finished} finished first, ${partial} died after committing part of their work; ${rows.length} datasets checked`,
    );
    expect(partial).toBeGreaterThanOrEqual(3);
  }, 180_000);
});

describe("temp files a killed writer left in `.mata`", () => {
  test("the next scan removes those of dead processes and keeps those of a writer still running", async () => {
    const ctx = testContext();
    cleanups.push(() => ctx.cleanup());
    mkdirSync(path.join(ctx.config.root, "ds"), { recursive: true });
    writeFileSync(path.join(ctx.config.root, "ds", "a.raw"), "x");
    await reconcileAll(ctx);
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    const live = Bun.spawn(["sleep", "60"]);
    cleanups.push(() => live.kill("SIGKILL"));
    const sidecar = path.join(ctx.config.root, "ds", ".mata");
    writeFileSync(path.join(sidecar, `metadata.json.tmp-${dead.pid}-abc123`), "{");
    writeFileSync(path.join(sidecar, `identity.json.tmp-${live.pid}-def456`), "{");
    await reconcileAll(ctx);
    expect(readdirSync(sidecar).filter((n) => n.includes(".tmp-"))).toEqual([`identity.json.tmp-${live.pid}-def456`]);
  });
});
