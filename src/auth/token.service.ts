import type { AppContext, Principal } from "../context.ts";
import { badRequest, notFound } from "../errors.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { tokensRepo, type TokenRow } from "./auth.repo.ts";
import { authRuntime } from "./auth.runtime.ts";
import { randomSecret, sha256Hex } from "./password.ts";

const PREFIX = "mata_";

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
    recordAudit(ctx, { action: "token.revoke", actor: account, detail: { id } });
  })();
}

/** The principal a bearer token acts for, or null when unknown, revoked or its account is gone. */
export function principalForToken(ctx: AppContext, secret: string): Principal | null {
  if (!secret.startsWith(PREFIX)) return null;
  const repo = tokensRepo(ctx.db);
  const row = repo.byHash(sha256Hex(secret));
  if (!row) return null;
  const principal = authRuntime(ctx).backend.lookup(row.account);
  if (!principal) return null;
  const now = ctx.clock.now();
  if (!row.last_used_at || now - row.last_used_at > 60_000) repo.markUsed(row.id, now);
  return principal;
}
