import { Hono } from "hono";
import type { AppContext, AppEnv } from "./context.ts";
import { notFound } from "./errors.ts";
import { renderError } from "./web/errors.ts";
import { limitBody, markRoutes, mountRoutes, type Route } from "./web/route.ts";
import { securityHeaders } from "./web/security-headers.ts";
import { levelOf, tokenOf } from "./web/access-levels.ts";
import { requireAccess } from "./access/access.middleware.ts";
import { authenticate } from "./auth/auth.middleware.ts";
import { routeTokenGate } from "./auth/route-token.ts";
import { recordRequests } from "./metrics/metrics.middleware.ts";
import { metricsRoutes } from "./metrics/metrics.routes.ts";
import { healthRoutes } from "./web/health.routes.ts";
import { staticRoutes } from "./web/static.routes.ts";
import { docsRoutes } from "./web/docs.routes.ts";
import { loginRoutes } from "./auth/login.routes.ts";
import { accountRoutes } from "./auth/account.routes.ts";
import { accessRoutes } from "./access/access.routes.tsx";
import { datasetsRoutes } from "./datasets/datasets.routes.ts";
import { datasetsPages } from "./datasets/datasets.pages.tsx";
import { searchRoutes } from "./search/search.routes.ts";
import { cloudRoutes } from "./search/cloud.routes.ts";
import { graphRoutes } from "./graph/graph.routes.ts";
import { tagsRoutes } from "./tags/tags.routes.ts";
import { tagsPages } from "./tags/tags.pages.tsx";
import { relationsRoutes } from "./relations/relations.routes.ts";
import { relationsPages } from "./relations/relations.pages.tsx";
import { previewRoutes } from "./preview/preview.routes.tsx";
import { jobsRoutes } from "./jobs/jobs.routes.tsx";
import { fixityRoutes } from "./fixity/fixity.routes.tsx";
import { auditRoutes } from "./audit/audit.routes.tsx";
import { exportRoutes } from "./export/export.routes.ts";
import { withTileFastPath, type Fetch } from "./preview/tile.fast-path.ts";
import { readCacheRefresher } from "./services.ts";

/** Every route the app answers, each declared once with its access rule, inputs and answers. */
export function appRoutes(): Route[] {
  const routes: Route[] = [
    ...healthRoutes,
    ...staticRoutes,
    ...loginRoutes,
    ...accountRoutes,
    ...accessRoutes,
    ...datasetsRoutes,
    ...datasetsPages,
    ...searchRoutes,
    ...cloudRoutes,
    ...graphRoutes,
    ...tagsRoutes,
    ...tagsPages,
    ...relationsRoutes,
    ...relationsPages,
    ...previewRoutes,
    ...jobsRoutes,
    ...fixityRoutes,
    ...auditRoutes,
    ...exportRoutes,
    ...metricsRoutes,
  ];
  routes.push(...docsRoutes(() => routes));
  return routes;
}

/** Builds the whole HTTP app over a context; tests call `createApp(ctx).request(...)` with no socket. */
export function createApp(ctx: AppContext, routes: readonly Route[] = appRoutes()): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(renderError);
  app.notFound((c) => renderError(notFound(`Nothing at ${c.req.path}`), c));
  app.use("*", recordRequests(ctx.services.metrics));
  app.use("*", securityHeaders);
  app.use("*", async (c, next) => {
    c.set("ctx", ctx);
    await next();
  });
  app.use("*", limitBody);
  const open = routes.filter((r) => levelOf(r.access) === "public");
  const closed = routes.filter((r) => levelOf(r.access) !== "public");
  // In mounting order, so the first route marked is the one the router lets answer.
  markRoutes(app, [...open, ...closed]);
  // Public routes answer before `authenticate`; everything after it has a signed-in account or a 401.
  mountRoutes(app, open, requireAccess);
  for (const r of closed) {
    const token = tokenOf(r.access);
    if (token)
      app.on(
        r.method.toUpperCase(),
        [r.path],
        routeTokenGate((c) => token(c.var.ctx)),
      );
  }
  app.use("*", authenticate);
  mountRoutes(app, closed, requireAccess);
  return app;
}

/**
 * What `mata serve` hands to Bun.serve: the app behind the tiles' fast path (src/preview/tile.fast-path.ts), with the
 * read caches dropped whenever another thread or process wrote to the database.
 */
export function createFetch(ctx: AppContext): Fetch {
  const app = createApp(ctx);
  return withTileFastPath(ctx, (req, server) => app.fetch(req, server), { refresh: readCacheRefresher(ctx) });
}
