import type { AppContext, Principal } from "../context.ts";
import { badRequest, notFound } from "../errors.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { tokensRepo, type TokenRow } from "./auth.repo.ts";
import { authRuntime } from "./auth.runtime.ts";
import { randomSecret, sha256Hex } from "./password.ts";

const PREFIX = "mata_";
/** last_used_at is written at most this often. */
const USED_EVERY_MS = 60_000;

/** Creates an API token for scripts; the secret is returned once and only its hash is kept. */
export function createToken(ctx: AppContext, account: string, label: string): { id: number; secret: string } {
  const clean = label.trim();
  if (!clean || clean.length > 100) throw badRequest("A token needs a label of 1 to 100 characters");
  const secret = PREFIX + randomSecret();
  const prefix = secret.slice(0, PREFIX.length + 6);
  const id = ctx.db.transaction(() => {
    const id = tokensRepo(ctx.db).insert(account, clean, sha256Hex(secret), prefix, ctx.clock.now());
    recordAudit(ctx, { action: "token.create", actor: account, target: clean, detail: { id, prefix } });
    return id;
  })();
  return { id, secret };
}

/** The live tokens of an account, for the /account page. */
export function listTokens(ctx: AppContext, account: string): TokenRow[] {
  return tokensRepo(ctx.db).forAccount(account);
}

/** Revokes one of the account's own tokens; another account's token is "not found". */
export function revokeToken(ctx: AppContext, account: string, id: number): void {
  ctx.db.transaction(() => {
    if (!tokensRepo(ctx.db).revoke(id, account, ctx.clock.now())) throw notFound(`No token ${id}`);
    ctx.services.auth.tokens.clear();
    recordAudit(ctx, { action: "token.revoke", actor: account, detail: { id } });
  })();
}

/**
 * The principal a bearer token acts for, or null when unknown, revoked or its account is gone. A found principal is
 * cached (for a second at most, and never past the token's next last-used mark), as sessions are.
 */
export function principalForToken(ctx: AppContext, secret: string): Principal | null {
  if (!secret.startsWith(PREFIX)) return null;
  const cache = ctx.services.auth.tokens;
  const now = ctx.clock.now();
  const hit = cache.get(secret, now);
  if (hit) return hit;
  const repo = tokensRepo(ctx.db);
  const row = repo.byHash(sha256Hex(secret));
  if (!row) return null;
  const principal = authRuntime(ctx).backend.lookup(row.account);
  if (!principal) return null;
  let usedAt = row.last_used_at;
  if (!usedAt || now - usedAt > USED_EVERY_MS) repo.markUsed(row.id, (usedAt = now));
  cache.set(secret, principal, now, usedAt + USED_EVERY_MS);
  return principal;
}
