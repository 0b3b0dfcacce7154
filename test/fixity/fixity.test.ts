// Fixity on real files: first checksums equal sha256sum's, bit rot under an unchanged size and mtime is found and
// reported until the content is restored, a change the scan sees starts the checksum again, a swapped folder is
// never read through, the manifest keeps the checksums and `rebuild` takes them back.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { checkDataset } from "../../src/fixity/fixity.service.ts";
import { fixityRepo } from "../../src/fixity/fixity.repo.ts";
import { importChecksums } from "../../src/fixity/fixity.restore.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { readManifest } from "../../src/sync/manifest.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { testContext } from "../support/env.ts";
import { waitFor } from "../jobs/fixture.ts";
import { at } from "../sync/helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
}, 60_000);

function setup() {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  return ctx;
}

const sha256sum = (file: string) => Bun.spawnSync(["sha256sum", file]).stdout.toString().split(" ")[0];
const sumOf = (ctx: ReturnType<typeof setup>, id: number, rel: string) =>
  ctx.db.query<{ sha256: string | null }, [number, string]>("SELECT sha256 FROM files WHERE dataset_id = ? AND path = ?").get(id, rel)?.sha256;
const signal = () => new AbortController().signal;

/** Rewrites a file's bytes in place and puts its mtime back: what bit rot or quiet tampering looks like. */
function rot(file: string, bytes: Uint8Array): void {
  const st = statSync(file);
  writeFileSync(file, bytes);
  utimesSync(file, st.atime, st.mtime);
}

test("first checksums are sha256sum's; rot under the same size and mtime is found, reported and cleared by a restore", async () => {
  const ctx = setup();
  const ds = path.join(ctx.config.root, "scan");
  mkdirSync(path.join(ds, "sub"), { recursive: true });
  const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff);
  writeFileSync(path.join(ds, "big.raw"), big);
  writeFileSync(path.join(ds, "sub", "small.txt"), "hello");
  writeFileSync(path.join(ds, "empty.bin"), "");
  await reconcileAll(ctx);
  const id = at(ctx, "scan").id;

  const first = await checkDataset(ctx, id, { verify: false, signal: signal() });
  expect(first).toMatchObject({ hashed: 3, matched: 0, mismatches: [], skipped: [] });
  for (const rel of ["big.raw", "sub/small.txt", "empty.bin"]) expect(sumOf(ctx, id, rel)).toBe(sha256sum(path.join(ds, rel)));
  // The manifest carries them, so `rebuild` can take them back.
  expect(readManifest(ds)!.files.find((f) => f.path === "big.raw")?.sha256).toBe(sha256sum(path.join(ds, "big.raw")));

  const original = sha256sum(path.join(ds, "big.raw"))!;
  const rotten = big.slice();
  rotten[2_000_000] = rotten[2_000_000]! ^ 0x10;
  rot(path.join(ds, "big.raw"), rotten);
  await reconcileAll(ctx);
  const verify = await checkDataset(ctx, id, { verify: true, signal: signal() });
  expect(verify.matched).toBe(2);
  expect(verify.mismatches).toEqual([expect.objectContaining({ path: "big.raw", expected: original, actual: sha256sum(path.join(ds, "big.raw")) })]);
  const repo = fixityRepo(ctx.db);
  expect(repo.counts(id)).toMatchObject({ files: 3, hashed: 3, mismatches: 1 });
  expect(repo.counts(id)!.verified_at).toBeGreaterThan(0);
  expect(repo.allMismatches().items.map((m) => `${m.dataset_path}/${m.path}`)).toEqual(["scan/big.raw"]);
  expect(ctx.db.query("SELECT kind FROM events WHERE kind = 'fixity.mismatch' AND dataset_id = ?").all(id)).toHaveLength(1);
  // The recorded checksum stays the original one: a second verification still reports it.
  expect((await checkDataset(ctx, id, { verify: true, signal: signal() })).mismatches).toHaveLength(1);

  // Restored from a backup (same bytes, same mtime): matched again, the report cleared.
  rot(path.join(ds, "big.raw"), big);
  expect((await checkDataset(ctx, id, { verify: true, signal: signal() })).matched).toBe(3);
  expect(repo.counts(id)!.mismatches).toBe(0);
}, 60_000);

test("a change the scan sees (new size or mtime) starts the checksum again and ends a standing mismatch", async () => {
  const ctx = setup();
  const ds = path.join(ctx.config.root, "scan");
  mkdirSync(ds, { recursive: true });
  writeFileSync(path.join(ds, "a.raw"), "aaaa");
  await reconcileAll(ctx);
  const id = at(ctx, "scan").id;
  await checkDataset(ctx, id, { verify: false, signal: signal() });
  rot(path.join(ds, "a.raw"), new TextEncoder().encode("bbbb"));
  expect((await checkDataset(ctx, id, { verify: true, signal: signal() })).mismatches).toHaveLength(1);
  writeFileSync(path.join(ds, "a.raw"), "a new scan, longer");
  await reconcileAll(ctx);
  expect(sumOf(ctx, id, "a.raw")).toBeNull();
  expect(fixityRepo(ctx.db).counts(id)!.mismatches).toBe(0);
  expect((await checkDataset(ctx, id, { verify: false, signal: signal() })).hashed).toBe(1);
  expect(sumOf(ctx, id, "a.raw")).toBe(sha256sum(path.join(ds, "a.raw")));
}, 60_000);

test("files gone, changed since the scan, or behind a folder swapped for a symlink are skipped, never read through", async () => {
  const ctx = setup();
  const ds = path.join(ctx.config.root, "scan");
  const outside = path.join(ctx.dir, "outside");
  mkdirSync(path.join(ds, "sub"), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(ds, "sub", "f.raw"), "inside");
  writeFileSync(path.join(outside, "f.raw"), "OUTSIDE");
  writeFileSync(path.join(ds, "gone.raw"), "x");
  writeFileSync(path.join(ds, "grows.raw"), "x");
  await reconcileAll(ctx);
  const id = at(ctx, "scan").id;
  renameSync(path.join(ds, "sub"), path.join(ds, "sub.real"));
  symlinkSync(outside, path.join(ds, "sub"));
  rmSync(path.join(ds, "gone.raw"));
  writeFileSync(path.join(ds, "grows.raw"), "xxxxxxxx");
  const run = await checkDataset(ctx, id, { verify: false, signal: signal() });
  expect(run.hashed).toBe(0);
  expect(Object.fromEntries(run.skipped.map((s) => [s.path, s.reason]))).toEqual({
    "gone.raw": "cannot open (ENOENT)",
    "grows.raw": "changed since the last scan",
    "sub/f.raw": "cannot open (ELOOP)",
  });
  expect(sumOf(ctx, id, "sub/f.raw")).toBeNull();
}, 60_000);

test("the manifest keeps checksums for a rebuilt database; only for files still at their size and mtime", async () => {
  const ctx = setup();
  const ds = path.join(ctx.config.root, "scan");
  mkdirSync(ds, { recursive: true });
  writeFileSync(path.join(ds, "kept.raw"), "kept");
  writeFileSync(path.join(ds, "changed.raw"), "old");
  await reconcileAll(ctx);
  const id = at(ctx, "scan").id;
  await checkDataset(ctx, id, { verify: false, signal: signal() });
  // As a fresh database would be after the rebuild's reconcile: no checksums yet; one file changed meanwhile.
  ctx.db.exec("UPDATE files SET sha256 = NULL");
  writeFileSync(path.join(ds, "changed.raw"), "new content");
  await reconcileAll(ctx);
  expect(await importChecksums(ctx)).toEqual({ checksums: 1 });
  expect(sumOf(ctx, id, "kept.raw")).toBe(sha256sum(path.join(ds, "kept.raw")));
  expect(sumOf(ctx, id, "changed.raw")).toBeNull();

  // A renamed file keeps its checksum, in the database and in the manifest's log, so a rebuild need not read it again.
  renameSync(path.join(ds, "kept.raw"), path.join(ds, "renamed.raw"));
  await reconcileAll(ctx);
  expect(sumOf(ctx, id, "renamed.raw")).toBe(sha256sum(path.join(ds, "renamed.raw")));
  expect(readManifest(ds)!.files.find((f) => f.path === "renamed.raw")?.sha256).toBe(sha256sum(path.join(ds, "renamed.raw")));
}, 60_000);

test("a settled change queues a fixity run through the job queue, which hashes the new files", async () => {
  const ctx = setup();
  const ds = path.join(ctx.config.root, "scan");
  mkdirSync(ds, { recursive: true });
  writeFileSync(path.join(ds, "a.raw"), "first");
  const stop = await startJobs(ctx, { settleMs: 20 });
  cleanups.push(stop);
  await reconcileAll(ctx);
  const id = at(ctx, "scan").id;
  await waitFor("checksum recorded", () => sumOf(ctx, id, "a.raw"), 30_000);
  expect(sumOf(ctx, id, "a.raw")).toBe(sha256sum(path.join(ds, "a.raw")));
  expect(fixityRepo(ctx.db).counts(id)!.verified_at).toBeGreaterThan(0);
}, 60_000);
