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

/** How long an attempt waits for a free slot (while others for the same account or address are checked) before it is refused. */
const SLOT_WAIT_MS = 30_000;
const SLOT_POLL_MS = 20;

/**
 * Reserves a sign-in attempt before its password is checked, and returns the function that hands it back.
 * It is refused (429) while its account name or client address is blocked after repeated failures, so guessing
 * is slowed per account (even spread over many addresses) and per address (over many names). Attempts in flight
 * count against the free tries that are left: with 3 failures of 5 behind it an account has 2 checks under way
 * at most, and past the free tries one; a further attempt waits for a slot and then looks again, and by then the
 * failures of those before it are counted (and may block it). So guesses sent in parallel get no more password
 * checks than guesses sent one by one, while a script's parallel requests with the right password only wait.
 */
export async function reserveAttempt(ctx: AppContext, name: string, addr: string): Promise<() => void> {
  const inFlight = ctx.services.auth.attemptsInFlight;
  const keys = [
    [userKey(name), FREE_PER_ACCOUNT],
    [addrKey(addr), FREE_PER_ADDRESS],
  ] as const;
  const deadline = performance.now() + SLOT_WAIT_MS;
  for (;;) {
    const repo = failuresRepo(ctx.db);
    const now = ctx.clock.now();
    let free = true;
    for (const [key, freeTries] of keys) {
      const row = repo.get(key);
      if (row && row.blocked_until > now) {
        const seconds = Math.ceil((row.blocked_until - now) / 1000);
        throw new AppError(429, `Too many failed sign-ins; try again in ${seconds} s`, { details: { retryAfter: seconds } });
      }
      const failures = row && now - row.last_at < WINDOW_MS ? row.failures : 0;
      if ((inFlight.get(key) ?? 0) >= Math.max(1, freeTries - failures)) free = false;
    }
    if (free) {
      // Checked and taken with no await between, so no other attempt can slip in.
      for (const [key] of keys) inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const [key] of keys) {
          const n = (inFlight.get(key) ?? 1) - 1;
          if (n > 0) inFlight.set(key, n);
          else inFlight.delete(key);
        }
      };
    }
    if (performance.now() > deadline)
      throw new AppError(429, "Too many sign-ins at once for this account or address; try again shortly", { details: { retryAfter: 1 } });
    await Bun.sleep(SLOT_POLL_MS);
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
