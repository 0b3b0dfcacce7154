import { z } from "zod";
import { VERSION } from "../version.ts";
import { healthReport } from "../health/health.service.ts";
import { route } from "./route.ts";
import { json } from "./schemas.ts";

const seconds = z.number().nullable();
const disk = z.union([
  z.object({ ok: z.boolean(), freeBytes: z.number(), totalBytes: z.number(), minFreeBytes: z.number() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

const Health = z.object({
  ok: z.boolean().describe("true when status is ok"),
  version: z.string(),
  status: z.enum(["ok", "degraded"]),
  reasons: z.array(z.string()).describe("One line per degraded part; empty when ok"),
  checks: z.object({
    server: z.object({
      state: z.enum(["running", "stopping", "off"]),
      uptimeSeconds: seconds,
      webThreads: z.number().describe("Threads answering on the web port, the main one included (web_threads)"),
    }),
    watcher: z.object({ state: z.enum(["off", "starting", "running", "stopped", "failed"]), sinceSeconds: seconds, reason: z.string().optional() }),
    reconcile: z.object({ lastAgoSeconds: seconds, lastMs: z.number().nullable(), lastOk: z.boolean().nullable(), lastFullAgoSeconds: seconds }),
    jobs: z.object({
      queue: z.enum(["off", "running", "stopping"]),
      queued: z.number(),
      running: z.number(),
      failed: z.number(),
      oldestQueuedSeconds: seconds,
    }),
    database: z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() }),
    disk: z.object({ state: disk, root: disk }).describe("The file systems of the state dir and of the share root"),
  }),
});

/** Health for monitoring and load balancers: open to everyone, 200 when every part is well, 503 when degraded. */
export const healthRoutes = [
  route({
    method: "get",
    path: "/api/v1/health",
    access: "public",
    group: "meta",
    summary: "Health and version",
    description:
      "Checks the watcher, the job queue, the database and the free space of the state dir and the share root. " +
      "A disk is short of space under the smaller of 1 GiB and 2% of its size. Names no path.",
    responses: { 200: json(Health, "Every part is well"), 503: json(Health, "Degraded (or stopping): `reasons` says why") },
    handler: (c) => {
      const report = healthReport(c.var.ctx);
      // Polled: never cached on the way, so a load balancer sees the moment.
      c.header("Cache-Control", "no-store");
      return c.json({ ok: report.status === "ok", version: VERSION, ...report }, report.status === "ok" ? 200 : 503);
    },
  }),
];
