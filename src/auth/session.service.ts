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
    if (repo.removeExpired(now) > 0) ctx.services.auth.sessions.clear();
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

/**
 * The live session a cookie names, or null when unknown, expired or idle too long. A found session is cached (for a
 * second at most, and never past its expiry or its next seen_at touch), so a page's burst of requests reads it once.
 */
export function findSession(ctx: AppContext, cookieValue: string): Session | null {
  const cache = ctx.services.auth.sessions;
  const now = ctx.clock.now();
  const hit = cache.get(cookieValue, now);
  if (hit) return hit;
  const repo = sessionsRepo(ctx.db);
  const idHash = sha256Hex(cookieValue);
  const row = repo.get(idHash);
  if (!row) return null;
  if (row.expires_at <= now || now - row.seen_at > SESSION_IDLE_MS) {
    repo.remove(idHash);
    return null;
  }
  let seenAt = row.seen_at;
  if (now - seenAt > TOUCH_EVERY_MS) repo.touch(idHash, (seenAt = now));
  const session = toSession(row);
  cache.set(cookieValue, session, now, Math.min(row.expires_at, seenAt + TOUCH_EVERY_MS));
  return session;
}

/** Ends one session (logout). */
export function endSession(ctx: AppContext, cookieValue: string): void {
  sessionsRepo(ctx.db).remove(sha256Hex(cookieValue));
  ctx.services.auth.sessions.clear();
}

/** Ends every session of an account (after a password change). */
export function endAllSessions(ctx: AppContext, account: string): number {
  ctx.services.auth.sessions.clear();
  return sessionsRepo(ctx.db).removeForAccount(account);
}
