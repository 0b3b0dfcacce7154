import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { accountsRepo } from "../auth/auth.repo.ts";
import { hashPassword, randomSecret } from "../auth/password.ts";
import type { AppContext } from "../context.ts";
import { writeFileAtomic } from "../platform/fs.ts";

export const DEMO_ACCOUNT = "demo";

/**
 * Makes sure the demo has an admin to sign in with: "demo" with a random password kept (0600) in the
 * state dir, never a fixed one, since a demo may be served on a reachable address by mistake.
 */
export async function ensureDemoAccount(ctx: AppContext): Promise<{ name: string; password: string | null }> {
  const file = path.join(ctx.config.state, "demo-password.txt");
  const accounts = accountsRepo(ctx.db);
  if (!accounts.get(DEMO_ACCOUNT)) {
    const password = randomSecret().slice(0, 16);
    accounts.add(DEMO_ACCOUNT, await hashPassword(password), true, ctx.clock.now());
    writeFileAtomic(ctx.config.state, path.basename(file), `${password}\n`, 0o600);
    return { name: DEMO_ACCOUNT, password };
  }
  // An existing account keeps its password; it is known only if Mata made it.
  return { name: DEMO_ACCOUNT, password: existsSync(file) ? readFileSync(file, "utf8").trim() : null };
}
