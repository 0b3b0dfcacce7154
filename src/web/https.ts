import type { Context } from "hono";
import type { AppEnv } from "../context.ts";

/** True when the request came over TLS, so cookies get the Secure flag. */
export function isHttps(c: Context<AppEnv>): boolean {
  return Boolean(c.var.ctx.config.tls) || new URL(c.req.url).protocol === "https:";
}
