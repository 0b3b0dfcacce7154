// The state dir holds the database (password hashes, session ids, API token digests) and every preview: only
// the service's own account may enter it, whatever the umask was when it was made.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";

/** The state dir's mode: the service alone (previews of unreadable datasets live there too). */
export const STATE_DIR_MODE = 0o700;
/** The database's mode, and so of its -wal and -shm files, which SQLite creates with the database's mode. */
export const DB_FILE_MODE = 0o600;

/** Creates the state dir 0700, or narrows an existing one (an install made before this check). */
export function secureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
  narrow(dir, STATE_DIR_MODE);
}

/**
 * Creates the database file 0600 before SQLite opens it (SQLite gives its -wal and -shm files the database's
 * mode), and narrows an existing database, its -wal and -shm and any copy kept beside it to 0600.
 */
export function secureDatabaseFiles(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, "a", DB_FILE_MODE));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`, `${file}.before-restore`]) if (existsSync(f)) narrow(f, DB_FILE_MODE);
}

/** Creates an empty file 0600 (e.g. the target of VACUUM INTO, which must be missing or empty). */
export function createPrivateFile(file: string): void {
  closeSync(openSync(file, "wx", DB_FILE_MODE));
  narrow(file, DB_FILE_MODE);
}

/** Removes group and other bits from a path's mode (never widens it); a path we do not own is left as it is. */
function narrow(p: string, mode: number): void {
  try {
    const now = statSync(p).mode & 0o777;
    if ((now & ~mode) !== 0) chmodSync(p, now & mode);
  } catch {
    // Not ours to change (a read-only check by another account): the owner's next start narrows it.
  }
}
