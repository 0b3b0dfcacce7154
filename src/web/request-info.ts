// What the request itself says about its client, for every feature (sign-in throttling, the audit log, error rendering).
import type { Context } from "hono";
import { getConnInfo } from "hono/bun";

/**
 * Whether a request comes from a program rather than a browser page: the JSON API and the Prometheus scrape. These
 * get 401 with a challenge and JSON errors, never the sign-in redirect or an HTML page.
 */
export function isMachineRequest(c: Context): boolean {
  return c.req.path.startsWith("/api/") || c.req.path === "/metrics";
}

/** The client's IP address (for per-address throttling and the audit log), or "local" for in-process test requests. */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "local";
  } catch {
    return "local";
  }
}
