import { Hono, type Context } from "hono";
import type { AppEnv } from "../context.ts";
import { badRequest } from "../errors.ts";
import { pageProps } from "../auth/page-props.ts";
import { JobsPage, JobsTable } from "../../templates/jobs/jobs.tsx";
import { queueFor } from "./index.ts";
import { jobView, type JobView } from "./jobs.service.ts";

const STATES = new Set(["queued", "running", "done", "failed", "cancelled"]);

function parseId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`Job id must be a number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseFilter(q: Record<string, string | undefined>): { state?: string; kind?: string; datasetId?: number; limit: number } {
  const state = q.state || undefined;
  if (state !== undefined && !STATES.has(state)) throw badRequest(`state must be one of ${[...STATES].join(", ")}, got ${JSON.stringify(state)}`);
  const dataset = q.dataset || undefined;
  if (dataset !== undefined && !/^\d{1,15}$/.test(dataset)) throw badRequest(`dataset must be a dataset id, got ${JSON.stringify(dataset)}`);
  const limit = q.limit === undefined || q.limit === "" ? 200 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest(`limit must be a whole number from 1 to 1000, got ${JSON.stringify(q.limit)}`);
  return { state, kind: q.kind || undefined, datasetId: dataset === undefined ? undefined : Number(dataset), limit };
}

/**
 * The job admin API and page. No route here is in the access table, so the enforcement point leaves them
 * to admins; a dataset's own preview progress is under /api/v1/datasets/{id}/previews.
 */
export const jobsRoutes = new Hono<AppEnv>()
  .get("/api/v1/jobs", (c) => {
    const ctx = c.var.ctx;
    const items: JobView[] = queueFor(ctx).repo.list(parseFilter(c.req.query())).map((r) => jobView(r, ctx.clock.now()));
    return c.json({ items });
  })
  .post("/api/v1/jobs/:id/cancel", (c) => c.json(jobView(queueFor(c.var.ctx).cancel(parseId(c.req.param("id"))), c.var.ctx.clock.now())))
  .post("/api/v1/jobs/:id/retry", (c) => c.json(jobView(queueFor(c.var.ctx).retry(parseId(c.req.param("id"))), c.var.ctx.clock.now())))
  .get("/jobs", (c) => {
    const f = parseFilter(c.req.query());
    const jobs = queueFor(c.var.ctx).repo.list(f).map((r) => jobView(r, c.var.ctx.clock.now()));
    return c.html(<JobsPage jobs={jobs} filter={f.state ?? ""} {...pageProps(c)} />);
  })
  .get("/jobs/table", (c) => table(c))
  .post("/jobs/:id/cancel", (c) => {
    queueFor(c.var.ctx).cancel(parseId(c.req.param("id")));
    return table(c);
  })
  .post("/jobs/:id/retry", (c) => {
    queueFor(c.var.ctx).retry(parseId(c.req.param("id")));
    return table(c);
  });

function table(c: Context<AppEnv>): Response | Promise<Response> {
  const f = parseFilter(c.req.query());
  const jobs = queueFor(c.var.ctx).repo.list(f).map((r) => jobView(r, c.var.ctx.clock.now()));
  return c.html(<JobsTable jobs={jobs} filter={f.state ?? ""} />);
}
