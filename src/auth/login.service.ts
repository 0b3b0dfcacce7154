import type { AppContext, Principal } from "../context.ts";
import { AppError } from "../errors.ts";
import { auditSignIn, type SignInVia } from "../audit/audit.service.ts";
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
 * wrong password by timing. Each outcome goes to the audit log (`via` says which way the password came).
 */
export async function signIn(ctx: AppContext, name: string, password: string, addr: string, via: SignInVia): Promise<Principal> {
  const rt = authRuntime(ctx);
  const started = performance.now();
  const cleanName = name.trim();
  let release: () => void;
  try {
    release = await reserveAttempt(ctx, cleanName, addr);
  } catch (e) {
    if (e instanceof AppError && e.status === 429) auditSignIn(ctx, "signin.blocked", cleanName, via, addr, e.message);
    throw e;
  }
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
  if (result.ok) {
    auditSignIn(ctx, "signin", result.principal.name, via, addr);
    return result.principal;
  }
  auditSignIn(ctx, "signin.failed", cleanName.slice(0, 256), via, addr, result.reason);
  const wait = started + rt.options.failureFloorMs - performance.now();
  if (wait > 0) await Bun.sleep(wait);
  throw new AppError(401, MESSAGES[result.reason], { code: result.reason === "bad_credentials" ? "unauthorized" : result.reason });
}
