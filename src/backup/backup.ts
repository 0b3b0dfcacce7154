import { Database } from "bun:sqlite";
import { chmodSync, existsSync, renameSync, rmSync, statSync, copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { AppError } from "../errors.ts";
import { migrate } from "../db/database.ts";
import { fsyncFile } from "../platform/fs.ts";
import { createPrivateFile, DB_FILE_MODE, secureDatabaseFiles } from "../db/state-files.ts";

/** Writes a consistent copy of the live database to `file` (safe while `mata serve` runs: VACUUM INTO reads one snapshot). */
export function backupDatabase(dbFile: string, file: string): { bytes: number } {
  if (!existsSync(dbFile)) throw new AppError(404, `No database at ${dbFile}: nothing to back up`);
  if (existsSync(file)) throw new AppError(409, `${file} already exists; choose a new file name`);
  const tmp = `${file}.tmp-${process.pid}`;
  // A backup holds the password hashes too: created 0600 before a byte is written (VACUUM INTO takes an empty file).
  createPrivateFile(tmp);
  const db = new Database(dbFile, { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    db.query("VACUUM INTO ?").run(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    db.close();
  }
  fsyncFile(tmp);
  renameSync(tmp, file);
  return { bytes: statSync(file).size };
}

/**
 * Replaces the database with a backup after checking it is a whole Mata database; the old one is kept
 * beside it as `mata.db.before-restore`. Refuses while a server holds the state dir.
 */
export function restoreDatabase(dbFile: string, file: string): { migrations: string[] } {
  if (!existsSync(file)) throw new AppError(404, `No backup file at ${file}`);
  if (serverRunning(path.dirname(dbFile))) throw new AppError(409, "mata serve is running on this state dir: stop it before restoring");
  const header = readFileSync(file).subarray(0, 16).toString("latin1");
  if (header !== "SQLite format 3\0") throw new AppError(400, `${file} is not an SQLite database`);
  const tmp = `${dbFile}.restore-${process.pid}`;
  copyFileSync(file, tmp);
  chmodSync(tmp, DB_FILE_MODE);
  let migrations: string[] = [];
  const db = new Database(tmp, { readwrite: true });
  try {
    const ok = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check;
    if (ok !== "ok") throw new AppError(400, `${file} is damaged: ${ok}`);
    const hasSchema = db.query("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").get();
    const hasDatasets = db.query("SELECT 1 FROM sqlite_master WHERE name = 'datasets'").get();
    if (!hasSchema || !hasDatasets) throw new AppError(400, `${file} is an SQLite file but not a Mata database`);
    db.exec("PRAGMA foreign_keys = ON");
    // A backup from an older version is brought up to date before it goes live.
    migrations = migrate(db);
    db.exec("PRAGMA journal_mode = DELETE");
  } catch (e) {
    db.close();
    rmSync(tmp, { force: true });
    throw e;
  }
  db.close();
  fsyncFile(tmp);
  if (existsSync(dbFile)) {
    const before = `${dbFile}.before-restore`;
    // Fold the old WAL into the old file so the kept copy is whole.
    const old = new Database(dbFile, { readwrite: true });
    old.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    old.close();
    renameSync(dbFile, before);
  }
  rmSync(`${dbFile}-wal`, { force: true });
  rmSync(`${dbFile}-shm`, { force: true });
  renameSync(tmp, dbFile);
  secureDatabaseFiles(dbFile);
  return { migrations };
}

/** True when the pid file of `mata serve` in the state dir names a live process. */
export function serverRunning(stateDir: string): boolean {
  const pidFile = path.join(stateDir, "mata.pid");
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
