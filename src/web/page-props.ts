import type { Context } from "hono";
import type { AppEnv, Principal } from "../context.ts";

/**
 * What every page passes to `Layout`: the signed-in user and the session's CSRF token (rendered as
 * `<meta name="csrf-token">`, which static/app.js sends on htmx requests). Plain forms add
 * `<input type="hidden" name="_csrf" value={csrf}>`. Use: `<Layout title=".." {...pageProps(c)}>`.
 */
export function pageProps(c: Context<AppEnv>): { user: Principal | null; csrf: string | undefined } {
  return { user: c.get("user") ?? null, csrf: c.get("auth")?.csrf ?? undefined };
}
