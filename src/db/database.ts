import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { MIGRATIONS } from "./migrations/index.ts";
import { secureDatabaseFiles, STATE_DIR_MODE } from "./state-files.ts";

/** Opens the store with every pragma set in this one place, and brings its schema up to date. */
export function openDatabase(file: string, opts: { readonly?: boolean; migrate?: boolean } = {}): Database {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true, mode: STATE_DIR_MODE });
  // Password hashes and session ids live here: 0600 from the first byte, and narrowed at every start.
  if (file !== ":memory:" && !opts.readonly) secureDatabaseFiles(file);
  const db = new Database(file, opts.readonly ? { readonly: true } : { create: true, readwrite: true, strict: true });
  db.exec("PRAGMA busy_timeout = 10000");
  if (!opts.readonly) {
    db.exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode survives a crash of the process; only power loss may drop the last commits.
    db.exec("PRAGMA synchronous = NORMAL");
  }
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA temp_store = MEMORY");
  if (opts.migrate !== false && !opts.readonly) migrate(db);
  return db;
}

/**
 * A test of whether another connection (another thread or process) committed to `db` since the test last ran: one
 * `PRAGMA data_version`, about a microsecond. This connection's own commits do not count.
 */
export function commitsElsewhere(db: Database): () => boolean {
  const version = db.query<{ data_version: number }, []>("PRAGMA data_version");
  let seen = version.get()!.data_version;
  return () => {
    const now = version.get()!.data_version;
    if (now === seen) return false;
    seen = now;
    return true;
  };
}

/**
 * Closes the store after folding the write-ahead log into `mata.db` and truncating it, so a stopped server leaves one
 * whole file (a copy of it alone is complete). A reader holding the log (`mata backup`) only makes the fold partial.
 */
export function closeDatabase(db: Database): void {
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** Applies every numbered migration not yet applied, each in its own transaction, in name order. */
export function migrate(db: Database): string[] {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const done = new Set(
    db
      .query<{ name: string }, []>("SELECT name FROM schema_migrations")
      .all()
      .map((r) => r.name),
  );
  const applied: string[] = [];
  for (const m of [...MIGRATIONS].sort((a, b) => a.name.localeCompare(b.name))) {
    if (done.has(m.name)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.query("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)").run(m.name, Date.now());
    }).immediate();
    applied.push(m.name);
  }
  return applied;
}

export type { Database };
