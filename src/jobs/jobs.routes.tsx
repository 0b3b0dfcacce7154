import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context.ts";
import { JOB_RULE } from "../access/access.rules.ts";
import { pageProps } from "../web/page-props.ts";
import { route } from "../web/route.ts";
import { attempt } from "../web/fragment.ts";
import { isHtmx, seeOther, takeFlash } from "../web/plain-form.ts";
import { html, Id, json, queryEnum, queryInt, queryText } from "../web/schemas.ts";
import { JobsPage, JobsTable } from "../../templates/jobs/jobs.tsx";
import { queueFor } from "./index.ts";
import { jobView } from "./jobs.service.ts";

const STATES = ["queued", "running", "done", "failed", "cancelled"] as const;
const Filter = z.object({
  state: queryEnum(STATES),
  kind: queryText(100, "Job kind, e.g. preview or command"),
  dataset: z.preprocess((v) => (v === "" ? undefined : v), Id.optional()).meta({ description: "Only this dataset's jobs" }),
  limit: queryInt(1, 1000, 200),
});
type Filter = z.output<typeof Filter>;
const DatasetFilter = Filter.omit({ dataset: true });
const DatasetParams = z.object({ id: Id.meta({ description: "Dataset id" }) });
const JobParams = z.object({ id: Id.meta({ description: "Job id" }) });

const Job = z
  .object({
    id: z.number().int(),
    kind: z.string(),
    datasetId: z.number().int().nullable(),
    generation: z.number().int(),
    state: z.enum(STATES),
    priority: z.number().int(),
    progress: z.number(),
    etaSeconds: z.number().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    createdAt: z.number(),
    startedAt: z.number().nullable(),
    finishedAt: z.number().nullable(),
    runAfter: z.number(),
  })
  .meta({ id: "Job" });

function jobs(c: Context<AppEnv>, f: Filter) {
  const now = c.var.ctx.clock.now();
  return queueFor(c.var.ctx)
    .repo.list({ state: f.state, kind: f.kind, datasetId: f.dataset, limit: f.limit })
    .map((r) => jobView(r, now));
}

const table = (c: Context<AppEnv>, f: Filter) => c.html(<JobsTable jobs={jobs(c, f)} filter={f.state ?? ""} csrf={pageProps(c).csrf} />);

/**
 * Cancel or retry from the jobs page: htmx gets the fresh table (a refusal as an error, as before); a plain form
 * post (no JavaScript) goes back to the page (303) with what happened, or why not, said there.
 */
function jobAction(c: Context<AppEnv>, f: Filter, act: () => unknown, done: string): Response | Promise<Response> {
  if (isHtmx(c)) {
    act();
    return table(c, f);
  }
  const back = f.state ? `/jobs?state=${encodeURIComponent(f.state)}` : "/jobs";
  return attempt(
    () => {
      act();
      return seeOther(c, back, { kind: "notice", text: done });
    },
    (e) => seeOther(c, back, { kind: "error", text: e.message }),
  );
}

/**
 * The job admin API and page (admins: every dataset's jobs, with their command output); a dataset's readers
 * list that dataset's own jobs; a job is cancelled or retried by those who may edit its dataset.
 */
export const jobsRoutes = [
  route({
    method: "get",
    path: "/api/v1/jobs",
    access: "admin",
    group: "jobs",
    summary: "Background jobs with state, progress and ETA (admins)",
    query: Filter,
    responses: { 200: json(z.object({ items: z.array(Job) }), "Jobs, newest first") },
    handler: (c, { query }) => c.json({ items: jobs(c, query) }),
  }),
  route({
    method: "get",
    path: "/api/v1/datasets/:id/jobs",
    access: "read",
    group: "jobs",
    summary: "One dataset's background jobs with state, progress, ETA and errors (those who may read the dataset)",
    params: DatasetParams,
    query: DatasetFilter,
    responses: { 200: json(z.object({ items: z.array(Job) }), "The dataset's jobs, newest first") },
    handler: (c, { params, query }) => c.json({ items: jobs(c, { ...query, dataset: params.id }) }),
  }),
  route({
    method: "post",
    path: "/api/v1/jobs/:id/cancel",
    access: JOB_RULE,
    group: "jobs",
    summary: "Cancel a queued or running job (its dataset's editors, admins)",
    params: JobParams,
    responses: { 200: json(Job, "The job after the cancel") },
    handler: (c, { params }) => c.json(jobView(queueFor(c.var.ctx).cancel(params.id), c.var.ctx.clock.now())),
  }),
  route({
    method: "post",
    path: "/api/v1/jobs/:id/retry",
    access: JOB_RULE,
    group: "jobs",
    summary: "Queue a failed or cancelled job again (its dataset's editors, admins)",
    params: JobParams,
    responses: { 200: json(Job, "The job, queued again") },
    handler: (c, { params }) => c.json(jobView(queueFor(c.var.ctx).retry(params.id), c.var.ctx.clock.now())),
  }),
  route({
    method: "get",
    path: "/jobs",
    access: "admin",
    summary: "The jobs page (admins)",
    query: Filter,
    responses: { 200: html() },
    handler: (c, { query }) => c.html(<JobsPage jobs={jobs(c, query)} filter={query.state ?? ""} flash={takeFlash(c)} {...pageProps(c)} />),
  }),
  route({
    method: "get",
    path: "/jobs/table",
    access: "admin",
    summary: "The jobs table fragment (refreshed while jobs run)",
    query: Filter,
    responses: { 200: html("The table fragment") },
    handler: (c, { query }) => table(c, query),
  }),
  route({
    method: "post",
    path: "/jobs/:id/cancel",
    access: JOB_RULE,
    summary: "Cancel a job from the jobs page",
    params: JobParams,
    query: Filter,
    responses: { 200: html("The table fragment"), 303: { description: "Without JavaScript: back to the jobs page" } },
    handler: (c, { params, query }) => jobAction(c, query, () => queueFor(c.var.ctx).cancel(params.id), `Job ${params.id} cancelled.`),
  }),
  route({
    method: "post",
    path: "/jobs/:id/retry",
    access: JOB_RULE,
    summary: "Retry a job from the jobs page",
    params: JobParams,
    query: Filter,
    responses: { 200: html("The table fragment"), 303: { description: "Without JavaScript: back to the jobs page" } },
    handler: (c, { params, query }) => jobAction(c, query, () => queueFor(c.var.ctx).retry(params.id), `Job ${params.id} queued again.`),
  }),
];
