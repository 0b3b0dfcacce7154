// Scheduled backups: `serve` writes online copies on its own, keeps the newest `keep`, and `mata restore` brings one
// back with the edits made before it. Real SQLite files, real `mata backup` child processes.
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { restoreDatabase } from "../../src/backup/backup.ts";
import { backupName, listBackups, startBackups } from "../../src/backup/schedule.ts";
import { testContext, tempDir } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { waitFor } from "../jobs/fixture.ts";

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

const events = (ctx: { db: Database }, kind: string) =>
  ctx.db
    .query<{ detail: string }, [string]>("SELECT detail FROM events WHERE kind = ? ORDER BY id")
    .all(kind)
    .map((r) => JSON.parse(r.detail));

test("[backup] is read from the config file; a bad duration or keep names the setting", () => {
  const dir = tempDir("mata-backup-config-");
  cleanups.push(dir.cleanup);
  const file = (body: string) => {
    const f = path.join(dir.dir, `c${Math.random()}.toml`);
    writeFileSync(f, `root = "/srv/x"\nstate = "/var/lib/x"\n${body}\n`);
    return f;
  };
  expect(loadConfig({ config: file('[backup]\nevery = "1d"') }, {}).backup).toEqual({ everyMs: 86_400_000, keep: 14, folder: "/var/lib/x/backups" });
  expect(loadConfig({ config: file('[backup]\nevery = "30m"\nkeep = 3\nfolder = "/mnt/copies"') }, {}).backup).toEqual({
    everyMs: 1_800_000,
    keep: 3,
    folder: "/mnt/copies",
  });
  expect(loadConfig({ config: file("[backup]\nkeep = 3") }, {}).backup).toBeUndefined();
  expect(() => loadConfig({ config: file('[backup]\nevery = "daily"') }, {})).toThrow(/backup.every must be a duration/);
  expect(() => loadConfig({ config: file('[backup]\nevery = "1h"\nkeep = 0') }, {})).toThrow(ConfigError);
});

test("copies are made on schedule, only the newest `keep` stay, and the newest restores with the edits made before it", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const folder = path.join(ctx.dir, "copies");
  ctx.config.backup = { everyMs: 1000, keep: 2, folder };
  putDataset(ctx, "first", {}, { title: "made before the first copy" });
  const stop = startBackups(ctx);
  try {
    await waitFor("first copy", () => events(ctx, "backup.done").length >= 1, 20_000);
    putDataset(ctx, "second", {}, { title: "made between copies" });
    const before = events(ctx, "backup.done").length;
    await waitFor("two more copies", () => events(ctx, "backup.done").length >= before + 2, 20_000);
  } finally {
    await stop();
  }
  const copies = listBackups(folder);
  expect(copies.length).toBe(2);
  expect(readdirSync(folder).sort()).toEqual(copies.map((c) => c.name).sort());
  for (const c of copies) expect(statSync(path.join(folder, c.name)).mode & 0o777).toBe(0o600);
  expect(events(ctx, "backup.done").at(-1)!.removed.length).toBeGreaterThanOrEqual(1);

  const other = tempDir("mata-backup-restore-");
  cleanups.push(other.cleanup);
  const dbFile = path.join(other.dir, "mata.db");
  restoreDatabase(dbFile, path.join(folder, copies.at(-1)!.name));
  const db = new Database(dbFile, { readonly: true });
  const titles = db
    .query<{ title: string }, []>("SELECT title FROM datasets ORDER BY path")
    .all()
    .map((r) => r.title);
  db.close();
  expect(titles).toEqual(["made before the first copy", "made between copies"]);
}, 60_000);

test("an overdue schedule copies at once; a copy it cannot write is recorded as failed and the schedule carries on", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  const folder = path.join(ctx.dir, "copies");
  mkdirSync(folder);
  writeFileSync(path.join(folder, backupName(Date.now() - 3 * 86_400_000)), "an old copy");
  writeFileSync(path.join(folder, "notes.txt"), "not a copy: never removed");
  ctx.config.backup = { everyMs: 86_400_000, keep: 1, folder };
  let stop = startBackups(ctx);
  await waitFor("the overdue copy", () => events(ctx, "backup.done").length === 1, 20_000);
  await stop();
  expect(readdirSync(folder).sort()).toEqual([listBackups(folder)[0]!.name, "notes.txt"].sort());
  expect(listBackups(folder)[0]!.at).toBeGreaterThan(Date.now() - 60_000);

  // A file where the folder should be: the copy fails, the failure is recorded, the server carries on.
  const blocked = path.join(ctx.dir, "blocked");
  writeFileSync(blocked, "a file, not a folder");
  ctx.config.backup = { everyMs: 1000, keep: 1, folder: blocked };
  stop = startBackups(ctx);
  await waitFor("the failure", () => events(ctx, "backup.failed").length === 1, 20_000);
  await stop();
  expect(events(ctx, "backup.failed")[0].message).toMatch(/EEXIST|ENOTDIR|not a directory|exists/i);
}, 60_000);
