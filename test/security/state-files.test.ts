// The state dir holds mata.db (password hashes, session ids, token digests) and every preview: 0700, and the
// database with its -wal, -shm and backups 0600, when created and again at every start (older installs).
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config.ts";
import { createContext } from "../../src/services.ts";
import { backupDatabase, restoreDatabase } from "../../src/backup/backup.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { tempDir } from "../support/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const modeOf = (p: string) => statSync(p).mode & 0o777;

function place() {
  const tmp = tempDir("mata-perm-");
  cleanups.push(tmp.cleanup);
  const root = path.join(tmp.dir, "root");
  const state = path.join(tmp.dir, "state");
  mkdirSync(root);
  return { dir: tmp.dir, root, state, config: { ...loadConfig({ root, state, listen: "127.0.0.1:0" }, {}), acls: false } };
}

test("a new state dir is 0700 and mata.db, -wal and -shm are 0600 (with the usual umask 022)", () => {
  const old = process.umask(0o022);
  try {
    const { state, config } = place();
    const ctx = createContext(config);
    accountsRepo(ctx.db).add("ann", "$argon2id$not-a-real-hash", false, Date.now());
    expect(modeOf(state)).toBe(0o700);
    for (const f of ["mata.db", "mata.db-wal", "mata.db-shm"]) {
      expect(existsSync(path.join(state, f))).toBe(true);
      expect({ f, mode: modeOf(path.join(state, f)).toString(8) }).toEqual({ f, mode: "600" });
    }
    ctx.db.close();
  } finally {
    process.umask(old);
  }
});

test("an existing install with a 0755 state dir and a world-readable 0644 database is narrowed at start", () => {
  const { state, config } = place();
  mkdirSync(state, { mode: 0o755 });
  chmodSync(state, 0o755);
  // The database as an older version left it: created by SQLite under umask 022.
  const before = new Database(path.join(state, "mata.db"), { create: true });
  before.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)");
  for (const f of ["mata.db", "mata.db-wal", "mata.db-shm"]) chmodSync(path.join(state, f), 0o644);
  before.close(false);
  for (const f of ["mata.db-wal", "mata.db-shm"]) if (existsSync(path.join(state, f))) chmodSync(path.join(state, f), 0o644);
  expect(modeOf(state)).toBe(0o755);
  expect(modeOf(path.join(state, "mata.db"))).toBe(0o644);

  const ctx = createContext(config);
  expect(modeOf(state)).toBe(0o700);
  for (const f of ["mata.db", "mata.db-wal", "mata.db-shm"]) if (existsSync(path.join(state, f))) expect(modeOf(path.join(state, f))).toBe(0o600);
  ctx.db.close();
});

test("a backup is 0600 from its creation, and a restored database is 0600", () => {
  const old = process.umask(0o022);
  try {
    const { dir, state, config } = place();
    const ctx = createContext(config);
    accountsRepo(ctx.db).add("ann", "$argon2id$not-a-real-hash", false, Date.now());
    const backup = path.join(dir, "mata-backup.db");
    backupDatabase(path.join(state, "mata.db"), backup);
    expect(modeOf(backup)).toBe(0o600);
    ctx.db.close();
    chmodSync(backup, 0o644);
    restoreDatabase(path.join(state, "mata.db"), backup);
    expect(modeOf(path.join(state, "mata.db"))).toBe(0o600);
    expect(modeOf(path.join(state, "mata.db.before-restore"))).toBe(0o600);
  } finally {
    process.umask(old);
  }
});
