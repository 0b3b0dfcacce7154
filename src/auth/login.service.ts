import type { AppContext, Principal } from "../context.ts";
import { AppError } from "../errors.ts";
import { authRuntime } from "./auth.runtime.ts";
import type { VerifyFailure } from "./backend.ts";
import { recordFailure, recordSuccess, reserveAttempt } from "./throttle.service.ts";

const MESSAGES: Record<VerifyFailure, string> = {
  bad_credentials: "Wrong account name or password",
  account_expired: "This account has expired; ask an administrator",
  password_expired: "The password of this account has expired; change it on the system first",
};

/**
 * Checks a name and password against the configured backend, for the login form and HTTP Basic alike.
 * Each attempt first reserves a slot of the account's and the address's remaining free tries (`reserveAttempt`),
 * so parallel guesses cannot outrun the failure count; failures are counted per account and address, and each
 * is answered no sooner than the failure floor after it started, so an unknown name cannot be told from a
 * wrong password by timing.
 */
export async function signIn(ctx: AppContext, name: string, password: string, addr: string): Promise<Principal> {
  const rt = authRuntime(ctx);
  const started = performance.now();
  const cleanName = name.trim();
  const release = await reserveAttempt(ctx, cleanName, addr);
  let result: Awaited<ReturnType<typeof rt.backend.verify>>;
  try {
    const wellFormed = cleanName.length > 0 && cleanName.length <= 256 && !/[\0-\x1f]/.test(cleanName) && password.length <= 4096;
    result = wellFormed ? await rt.backend.verify(cleanName, password, addr) : ({ ok: false, reason: "bad_credentials" } as const);
    if (result.ok) recordSuccess(ctx, cleanName);
    else recordFailure(ctx, cleanName, addr);
  } finally {
    // The failure is counted before the slot is handed back, so the next attempt sees it.
    release();
  }
  if (result.ok) return result.principal;
  const wait = started + rt.options.failureFloorMs - performance.now();
  if (wait > 0) await Bun.sleep(wait);
  throw new AppError(401, MESSAGES[result.reason], { code: result.reason === "bad_credentials" ? "unauthorized" : result.reason });
}
