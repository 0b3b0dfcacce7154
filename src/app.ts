import { Hono } from "hono";
import type { AppContext, AppEnv } from "./context.ts";
import { renderError } from "./web/errors.ts";
import { staticRoutes } from "./web/static.routes.ts";
import { authenticate } from "./auth/auth.middleware.ts";
import { enforceAccess } from "./access/access.middleware.ts";
import { accessRoutes } from "./access/access.routes.tsx";
import { loginRoutes } from "./auth/login.routes.ts";
import { accountRoutes } from "./auth/account.routes.ts";
import { VERSION } from "./version.ts";
import { notFound } from "./errors.ts";
import { datasetsRoutes } from "./datasets/datasets.routes.ts";
import { openApiDocument } from "./web/openapi.ts";
import { searchRoutes } from "./search/search.routes.ts";
import { cloudRoutes } from "./search/cloud.routes.ts";
import { graphRoutes } from "./graph/graph.routes.ts";
import { tagsRoutes } from "./tags/tags.routes.ts";
import { relationsRoutes } from "./relations/relations.routes.ts";
import { describeRoutes } from "./pages/describe.routes.ts";
import { pagesRoutes } from "./pages/pages.routes.tsx";
import { previewRoutes } from "./preview/preview.routes.tsx";
import { jobsRoutes } from "./jobs/jobs.routes.tsx";

/** Builds the whole HTTP app over a context; tests call `createApp(ctx).request(...)` with no socket. */
export function createApp(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(renderError);
  app.notFound((c) => renderError(notFound(`Nothing at ${c.req.path}`), c));
  app.use("*", async (c, next) => {
    c.set("ctx", ctx);
    await next();
  });

  // Open to everyone: health and static assets.
  app.get("/api/v1/health", (c) => c.json({ ok: true, version: VERSION }));
  app.route("/", staticRoutes);
  app.route("/", loginRoutes);

  // Everything below needs a signed-in account.
  app.use("*", authenticate);
  app.use("*", enforceAccess);
  app.route("/", accessRoutes);
  app.route("/", accountRoutes);
  app.route("/", datasetsRoutes);
  app.route("/", searchRoutes);
  app.route("/", cloudRoutes);
  app.route("/", graphRoutes);
  app.route("/", tagsRoutes);
  app.route("/", relationsRoutes);
  app.route("/", describeRoutes);
  app.route("/", pagesRoutes);
  app.route("/", previewRoutes);
  app.route("/", jobsRoutes);
  app.get("/api/v1/openapi.json", (c) => c.json(openApiDocument(app)));
  return app;
}
