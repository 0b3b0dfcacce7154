import { afterEach, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Database } from "bun:sqlite";
import { main } from "../../src/main.ts";
import { openDatabase } from "../../src/db/database.ts";
import { tempDir } from "../support/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function state() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const st = path.join(dir, "state");
  const db = openDatabase(path.join(st, "mata.db"));
  db.query("INSERT INTO datasets (uid, path, title, created_at, updated_at) VALUES ('u1', 'scan-1', 'First', 1, 1)").run();
  db.close();
  return { dir, st, args: ["--state", st] };
}

test("backup then restore brings back the metadata, keeping the replaced database", async () => {
  const { dir, st, args } = state();
  const file = path.join(dir, "b.db");
  expect(await main(["backup", file, ...args])).toBe(0);
  const db = openDatabase(path.join(st, "mata.db"));
  db.query("UPDATE datasets SET title = 'Changed'").run();
  db.close();
  expect(await main(["backup", file, ...args])).toBe(1); // never overwrites a backup
  expect(await main(["restore", file, ...args])).toBe(0);
  const after = new Database(path.join(st, "mata.db"));
  expect(after.query<{ title: string }, []>("SELECT title FROM datasets").get()?.title).toBe("First");
  after.close();
  expect(existsSync(path.join(st, "mata.db.before-restore"))).toBe(true);
});

test("restore refuses files that are not whole Mata databases, and leaves the live one alone", async () => {
  const { dir, st, args } = state();
  const junk = path.join(dir, "junk.db");
  writeFileSync(junk, "definitely not sqlite");
  expect(await main(["restore", junk, ...args])).toBe(1);
  const other = path.join(dir, "other.db");
  const o = new Database(other);
  o.exec("CREATE TABLE t (x)");
  o.close();
  expect(await main(["restore", other, ...args])).toBe(1);
  expect(await main(["restore", path.join(dir, "absent.db"), ...args])).toBe(1);
  const live = new Database(path.join(st, "mata.db"));
  expect(live.query<{ n: number }, []>("SELECT count(*) AS n FROM datasets").get()?.n).toBe(1);
  live.close();
});

test("restore refuses while a server holds the state dir", async () => {
  const { dir, st, args } = state();
  const file = path.join(dir, "b.db");
  expect(await main(["backup", file, ...args])).toBe(0);
  const sleeper = Bun.spawn(["sleep", "30"]);
  try {
    writeFileSync(path.join(st, "mata.pid"), `${sleeper.pid}\n`);
    expect(await main(["restore", file, ...args])).toBe(1);
  } finally {
    sleeper.kill();
  }
});
