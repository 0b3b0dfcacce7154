import type { AppContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { failuresRepo } from "./auth.repo.ts";

/** Failures older than this are forgotten. */
const WINDOW_MS = 15 * 60_000;
/** Free failures before each further one blocks the key for a growing time. */
const FREE_PER_ACCOUNT = 5;
const FREE_PER_ADDRESS = 20;
const MAX_BLOCK_MS = 15 * 60_000;

/** Forgotten counters are deleted at most this often, so guessed names cannot grow the table without end. */
const SWEEP_EVERY_MS = 60_000;

const userKey = (name: string) => `user:${name.toLowerCase()}`;
const addrKey = (addr: string) => `addr:${addr}`;

/**
 * Refuses a sign-in while its account name or client address is blocked after repeated failures,
 * so guessing is slowed per account (even spread over many addresses) and per address (over many names).
 */
export function assertNotThrottled(ctx: AppContext, name: string, addr: string): void {
  const repo = failuresRepo(ctx.db);
  const now = ctx.clock.now();
  for (const key of [userKey(name), addrKey(addr)]) {
    const row = repo.get(key);
    if (row && row.blocked_until > now) {
      const seconds = Math.ceil((row.blocked_until - now) / 1000);
      throw new AppError(429, `Too many failed sign-ins; try again in ${seconds} s`, { details: { retryAfter: seconds } });
    }
  }
}

/** Counts a failed sign-in for the name and the address; past the free tries each failure doubles the block. */
export function recordFailure(ctx: AppContext, name: string, addr: string): void {
  const repo = failuresRepo(ctx.db);
  const now = ctx.clock.now();
  ctx.db.transaction(() => {
    if (now - ctx.services.auth.failuresSweptAt > SWEEP_EVERY_MS) {
      repo.removeStale(now - WINDOW_MS, now);
      ctx.services.auth.failuresSweptAt = now;
    }
    for (const [key, free] of [
      [userKey(name), FREE_PER_ACCOUNT],
      [addrKey(addr), FREE_PER_ADDRESS],
    ] as const) {
      const row = repo.get(key);
      const failures = (row && now - row.last_at < WINDOW_MS ? row.failures : 0) + 1;
      const over = failures - free;
      const blockedUntil = over > 0 ? now + Math.min(1000 * 2 ** (over - 1), MAX_BLOCK_MS) : 0;
      repo.put({ key, failures, last_at: now, blocked_until: blockedUntil });
    }
  })();
}

/** A right password clears the account's failures (the address keeps its count). */
export function recordSuccess(ctx: AppContext, name: string): void {
  failuresRepo(ctx.db).clear(userKey(name));
}
