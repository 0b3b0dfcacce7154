import type { MiddlewareHandler } from "hono";
import type { AppEnv, Principal } from "../context.ts";
import { sameSecret } from "./password.ts";
import { setRequestAuth } from "./request.ts";

/** Who a request bearing a route's shared secret acts as: no account, no groups, no admin flag. */
const TOKEN_HOLDER: Principal = { name: "(route token)", isAdmin: false, groups: [] };

/**
 * Lets a request bearing a route's own shared secret (`Authorization: Bearer SECRET`, e.g. config `metrics_token`)
 * through without an account; mounted on that route alone, ahead of `authenticate`, which then leaves the request as it
 * is. Any other credential goes on to `authenticate` as usual.
 */
export function routeTokenGate(secretOf: (c: Parameters<MiddlewareHandler<AppEnv>>[0]) => string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const secret = secretOf(c);
    const header = c.req.header("Authorization") ?? "";
    if (secret && /^bearer /i.test(header) && sameSecret(header.slice(7).trim(), secret)) {
      c.set("user", TOKEN_HOLDER);
      setRequestAuth(c, { method: "route-token", csrf: null });
    }
    await next();
  };
}
