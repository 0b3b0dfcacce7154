import type { Database } from "bun:sqlite";

/** An account of the built-in store as the auth code reads it. */
export interface AccountRow {
  id: number;
  name: string;
  password_hash: string | null;
  is_admin: number;
  disabled: number;
  created_at: number;
}

/** A session row; `id_hash` is the sha256 of the cookie value, never the value itself. */
export interface SessionRow {
  id_hash: string;
  account: string;
  is_admin: number;
  groups: string;
  csrf: string;
  method: string;
  created_at: number;
  seen_at: number;
  expires_at: number;
}

/** An API token as listed on /account (no secret, only its prefix). */
export interface TokenRow {
  id: number;
  account: string;
  label: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Failed sign-ins for one key ("user:NAME" or "addr:IP"). */
export interface FailureRow {
  key: string;
  failures: number;
  last_at: number;
  blocked_until: number;
}

/** Accounts of the built-in store; all their SQL lives here. */
export function accountsRepo(db: Database) {
  const byName = db.query<AccountRow, [string]>("SELECT * FROM accounts WHERE name = ?");
  const all = db.query<AccountRow, []>("SELECT * FROM accounts ORDER BY name");
  const insert = db.query("INSERT INTO accounts (name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)");
  const setHash = db.query("UPDATE accounts SET password_hash = ? WHERE name = ?");
  const setAdmin = db.query("UPDATE accounts SET is_admin = ? WHERE name = ?");
  return {
    get: (name: string) => byName.get(name) ?? null,
    list: () => all.all(),
    add(name: string, passwordHash: string | null, isAdmin: boolean, at: number): void {
      insert.run(name, passwordHash, isAdmin ? 1 : 0, at);
    },
    setPasswordHash: (name: string, hash: string) => setHash.run(hash, name).changes > 0,
    setAdmin: (name: string, isAdmin: boolean) => setAdmin.run(isAdmin ? 1 : 0, name).changes > 0,
  };
}

/** Sessions; looked up by the hash of the cookie value. */
export function sessionsRepo(db: Database) {
  const insert = db.query(
    "INSERT INTO sessions (id_hash, account, is_admin, groups, csrf, method, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const byHash = db.query<SessionRow, [string]>("SELECT * FROM sessions WHERE id_hash = ?");
  const touch = db.query("UPDATE sessions SET seen_at = ? WHERE id_hash = ?");
  const remove = db.query("DELETE FROM sessions WHERE id_hash = ?");
  const removeAccount = db.query("DELETE FROM sessions WHERE account = ?");
  const removeExpired = db.query("DELETE FROM sessions WHERE expires_at <= ?");
  return {
    insert(s: SessionRow): void {
      insert.run(s.id_hash, s.account, s.is_admin, s.groups, s.csrf, s.method, s.created_at, s.seen_at, s.expires_at);
    },
    get: (idHash: string) => byHash.get(idHash) ?? null,
    touch: (idHash: string, at: number) => void touch.run(at, idHash),
    remove: (idHash: string) => void remove.run(idHash),
    removeForAccount: (account: string) => removeAccount.run(account).changes,
    removeExpired: (now: number) => removeExpired.run(now).changes,
  };
}

/** API tokens; the secret's hash is the lookup key. */
export function tokensRepo(db: Database) {
  const insert = db.query<{ id: number }, [string, string, string, string, number]>(
    "INSERT INTO api_tokens (account, label, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
  );
  const byHash = db.query<TokenRow, [string]>(
    "SELECT id, account, label, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
  );
  const forAccount = db.query<TokenRow, [string]>(
    "SELECT id, account, label, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE account = ? AND revoked_at IS NULL ORDER BY id",
  );
  const used = db.query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
  const revoke = db.query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND account = ? AND revoked_at IS NULL");
  return {
    insert: (account: string, label: string, hash: string, prefix: string, at: number) => insert.get(account, label, hash, prefix, at)!.id,
    byHash: (hash: string) => byHash.get(hash) ?? null,
    forAccount: (account: string) => forAccount.all(account),
    markUsed: (id: number, at: number) => void used.run(at, id),
    revoke: (id: number, account: string, at: number) => revoke.run(at, id, account).changes > 0,
  };
}

/** Failed sign-in counters for throttling. */
export function failuresRepo(db: Database) {
  const get = db.query<FailureRow, [string]>("SELECT * FROM login_failures WHERE key = ?");
  const upsert = db.query(
    "INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES (?1, ?2, ?3, ?4) " +
      "ON CONFLICT(key) DO UPDATE SET failures = ?2, last_at = ?3, blocked_until = ?4",
  );
  const clear = db.query("DELETE FROM login_failures WHERE key = ?");
  const stale = db.query("DELETE FROM login_failures WHERE last_at < ? AND blocked_until < ?");
  return {
    get: (key: string) => get.get(key) ?? null,
    put: (r: FailureRow) => void upsert.run(r.key, r.failures, r.last_at, r.blocked_until),
    clear: (key: string) => void clear.run(key),
    /** Drops counters older than `before` that block nothing at `now`. */
    removeStale: (before: number, now: number) => stale.run(before, now).changes,
  };
}
