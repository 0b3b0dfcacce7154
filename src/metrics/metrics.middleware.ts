import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";
import { UNMATCHED_ROUTE, type Metrics } from "./metrics.ts";

// Methods outside this set only ever reach no route; they are counted as one value so a client cannot add series.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Counts every request under the pattern of the declared route that answered it (set by `markRoutes`), with its
 * method, status and duration to the response headers (a streamed file's transfer is not included). Mounted first,
 * so refusals (401, 403, 413) and errors are counted too.
 */
export function recordRequests(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const t0 = performance.now();
    try {
      await next();
    } finally {
      const route = c.get("route");
      const method = c.req.method;
      metrics.observeRequest(
        route ? route.path : UNMATCHED_ROUTE,
        route || KNOWN_METHODS.has(method) ? method : "OTHER",
        c.res.status,
        (performance.now() - t0) / 1000,
      );
    }
  };
}
