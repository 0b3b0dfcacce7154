// Signed-in users for tests that call routes through createApp(ctx).request().
import type { AppContext } from "../../src/context.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { SESSION_COOKIE } from "../../src/auth/request.ts";
import { createSession } from "../../src/auth/session.service.ts";

/** Headers that sign a request in as one user, for pages, htmx and the JSON API alike. */
export interface TestUser {
  name: string;
  /** Cookie + X-CSRF-Token: spread into `headers` of any request, GET or POST/PUT/PATCH/DELETE. */
  headers: Record<string, string>;
  /** The session cookie alone (`mata_session=...`), e.g. to test CSRF refusal. */
  cookie: string;
  /** The session's CSRF token (for a form field `_csrf`). */
  csrf: string;
}

/**
 * Signs `name` in with a real session (no password check, so it is fast): a local account row is created
 * when missing (with is_admin), and the session carries `groups` as a PAM sign-in would, for group grants.
 * Usage: `const alice = withUser(ctx, "alice"); await app.request("/api/v1/datasets", { headers: alice.headers })`.
 */
export function withUser(ctx: AppContext, name: string, opts: { admin?: boolean; groups?: string[] } = {}): TestUser {
  const accounts = accountsRepo(ctx.db);
  if (!accounts.get(name)) accounts.add(name, null, opts.admin ?? false, ctx.clock.now());
  else if (opts.admin !== undefined) accounts.setAdmin(name, opts.admin);
  const s = createSession(ctx, { name, isAdmin: opts.admin ?? false, groups: opts.groups ?? [] }, "test");
  const cookie = `${SESSION_COOKIE}=${s.cookieValue}`;
  return { name, headers: { Cookie: cookie, "X-CSRF-Token": s.csrf }, cookie, csrf: s.csrf };
}
