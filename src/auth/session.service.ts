import type { AppContext, Principal } from "../context.ts";
import { sessionsRepo, type SessionRow } from "./auth.repo.ts";
import { randomSecret, sha256Hex } from "./password.ts";

/** A session ends this long after sign-in, however active. */
export const SESSION_MAX_MS = 12 * 60 * 60_000;
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 2 * 60 * 60_000;
/** seen_at is written at most this often, so reads stay reads. */
const TOUCH_EVERY_MS = 60_000;
/** Expired sessions are swept at most this often (at sign-in). */
const SWEEP_EVERY_MS = 60_000;

/** A session as the middleware uses it. */
export interface Session {
  idHash: string;
  principal: Principal;
  csrf: string;
  expiresAt: number;
}

/** A new session and the cookie value that names it (returned once, stored only as a hash). */
export interface NewSession extends Session {
  cookieValue: string;
}

function toSession(row: SessionRow): Session {
  return {
    idHash: row.id_hash,
    principal: { name: row.account, isAdmin: row.is_admin === 1, groups: JSON.parse(row.groups) as string[] },
    csrf: row.csrf,
    expiresAt: row.expires_at,
  };
}

/** Starts a session with a fresh random id and CSRF token; sign-in always calls this, so an id planted before sign-in is worthless. */
export function createSession(ctx: AppContext, principal: Principal, method: string): NewSession {
  const repo = sessionsRepo(ctx.db);
  const now = ctx.clock.now();
  if (now - ctx.services.auth.sessionsSweptAt > SWEEP_EVERY_MS) {
    repo.removeExpired(now);
    ctx.services.auth.sessionsSweptAt = now;
  }
  const cookieValue = randomSecret();
  const row: SessionRow = {
    id_hash: sha256Hex(cookieValue),
    account: principal.name,
    is_admin: principal.isAdmin ? 1 : 0,
    groups: JSON.stringify(principal.groups),
    csrf: randomSecret(),
    method,
    created_at: now,
    seen_at: now,
    expires_at: now + SESSION_MAX_MS,
  };
  repo.insert(row);
  return { ...toSession(row), cookieValue };
}

/** The live session a cookie names, or null when unknown, expired or idle too long. */
export function findSession(ctx: AppContext, cookieValue: string): Session | null {
  const repo = sessionsRepo(ctx.db);
  const idHash = sha256Hex(cookieValue);
  const row = repo.get(idHash);
  if (!row) return null;
  const now = ctx.clock.now();
  if (row.expires_at <= now || now - row.seen_at > SESSION_IDLE_MS) {
    repo.remove(idHash);
    return null;
  }
  if (now - row.seen_at > TOUCH_EVERY_MS) repo.touch(idHash, now);
  return toSession(row);
}

/** Ends one session (logout). */
export function endSession(ctx: AppContext, cookieValue: string): void {
  sessionsRepo(ctx.db).remove(sha256Hex(cookieValue));
}

/** Ends every session of an account (after a password change). */
export function endAllSessions(ctx: AppContext, account: string): number {
  return sessionsRepo(ctx.db).removeForAccount(account);
}
