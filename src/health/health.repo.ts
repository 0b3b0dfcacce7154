import type { Database } from "bun:sqlite";

/** The database probe of the health check, prepared once per call site (it runs on every poll). */
export function healthRepo(db: Database) {
  // A real page of the file is read (not just `SELECT 1`), so a damaged or unreadable database answers an error.
  const probe = db.query<{ n: number }, []>("SELECT count(*) AS n FROM schema_migrations");
  return {
    /** Reads the migrations table; throws what SQLite reports. */
    ping(): number {
      return probe.get()?.n ?? 0;
    },
  };
}
