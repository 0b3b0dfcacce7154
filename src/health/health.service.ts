// The health report behind /api/v1/health: each part of a running server checked cheaply (it is polled by load
// balancers and monitoring), `degraded` with a reason per failing part. No check names a path of the share or state dir.
import type { AppContext } from "../context.ts";
import { diskSpace, type DiskSpace } from "../platform/disk-space.ts";
import type { WatcherState } from "../sync/sync.status.ts";
import type { JobsRepo } from "../jobs/jobs.repo.ts";
import { healthRepo } from "./health.repo.ts";

/** Whether `serve` runs an instance, and whether it is stopping. */
export interface Lifecycle {
  startedAt: number | null;
  stopping: boolean;
  /** Threads answering on the web port, the main one included (0 before the server starts). */
  webThreads: number;
}

// A disk is short of space under the smaller of these: 1 GiB, or 2% of its size (a small disk is not always short).
const MIN_FREE_BYTES = 1024 ** 3;
const MIN_FREE_FRACTION = 0.02;
// Jobs due this long with a free slot and none started mean the queue is stuck.
const STALLED_MS = 5 * 60_000;

/** One file system's space, and whether it is short. */
export type DiskCheck = { ok: boolean; freeBytes: number; totalBytes: number; minFreeBytes: number } | { ok: false; error: string };

/** Everything the health route reports. */
export interface HealthReport {
  status: "ok" | "degraded";
  reasons: string[];
  checks: {
    server: { state: "running" | "stopping" | "off"; uptimeSeconds: number | null; webThreads: number };
    watcher: { state: WatcherState["state"]; sinceSeconds: number | null; reason?: string };
    reconcile: { lastAgoSeconds: number | null; lastMs: number | null; lastOk: boolean | null; lastFullAgoSeconds: number | null };
    jobs: {
      queue: "off" | "running" | "stopping";
      queued: number;
      running: number;
      failed: number;
      oldestQueuedSeconds: number | null;
    };
    database: { ok: boolean; ms: number; error?: string };
    disk: { state: DiskCheck; root: DiskCheck };
  };
}

function diskCheck(space: DiskSpace): DiskCheck {
  if ("error" in space) return { ok: false, error: space.error };
  const minFreeBytes = Math.floor(Math.min(MIN_FREE_BYTES, space.totalBytes * MIN_FREE_FRACTION));
  return { ok: space.freeBytes >= minFreeBytes, ...space, minFreeBytes };
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)} MiB`;
const ago = (now: number, at: number | null | undefined) => (at === null || at === undefined ? null : Math.max(0, Math.round((now - at) / 1000)));

/** Checks every part and says which ones are degraded; a few cheap reads (two statfs, three indexed queries). */
export function healthReport(ctx: AppContext): HealthReport {
  const now = ctx.clock.now();
  const reasons: string[] = [];
  const { lifecycle, sync } = ctx.services;

  const server = {
    state: lifecycle.stopping ? ("stopping" as const) : lifecycle.startedAt === null ? ("off" as const) : ("running" as const),
    uptimeSeconds: ago(now, lifecycle.startedAt),
    webThreads: lifecycle.webThreads,
  };
  if (server.state === "stopping") reasons.push("server: stopping");

  const w = sync.watcher;
  const watcher = { state: w.state, sinceSeconds: w.state === "off" ? null : ago(now, w.since), ...(w.state === "failed" ? { reason: w.reason } : {}) };
  if (w.state === "failed") reasons.push(`watcher: failed: ${w.reason}`);
  else if (w.state === "stopped" && !lifecycle.stopping) reasons.push("watcher: stopped");

  const last = sync.lastReconcile;
  const reconcile = {
    lastAgoSeconds: ago(now, last?.at),
    lastMs: last?.ms ?? null,
    lastOk: last?.ok ?? null,
    lastFullAgoSeconds: ago(now, sync.lastFullReconcile?.at),
  };
  if (last && !last.ok) reasons.push("reconcile: the last run failed (see the log)");

  let database: HealthReport["checks"]["database"];
  const t0 = performance.now();
  let live: ReturnType<JobsRepo["liveCounts"]> | null = null;
  try {
    healthRepo(ctx.db).ping();
    live = ctx.services.jobs.queue.repo.liveCounts();
    database = { ok: true, ms: Math.round((performance.now() - t0) * 100) / 100 };
  } catch (e) {
    database = { ok: false, ms: Math.round(performance.now() - t0), error: String((e as Error)?.message ?? e).slice(0, 200) };
    reasons.push(`database: ${database.error}`);
  }

  const queue = ctx.services.jobs.queue;
  const jobs = {
    queue: queue.state,
    queued: live?.queued ?? 0,
    running: live?.running ?? 0,
    failed: live?.failed ?? 0,
    oldestQueuedSeconds: ago(now, live?.oldestQueuedAt),
  };
  const { running, concurrency } = queue.load;
  if (queue.state === "running" && live?.firstDueAt != null && now - live.firstDueAt > STALLED_MS && running < concurrency)
    reasons.push(`jobs: due for ${Math.round((now - live.firstDueAt) / 60_000)} min with a free slot but none started`);

  const disk = { state: diskCheck(diskSpace(ctx.config.state)), root: diskCheck(diskSpace(ctx.config.root)) };
  for (const [name, d] of [
    ["state dir", disk.state],
    ["share root", disk.root],
  ] as const) {
    if ("error" in d) reasons.push(`${name}: free space unknown (${d.error})`);
    else if (!d.ok) reasons.push(`${name}: ${mib(d.freeBytes)} free, under the minimum of ${mib(d.minFreeBytes)}`);
  }

  return { status: reasons.length ? "degraded" : "ok", reasons, checks: { server, watcher, reconcile, jobs, database, disk } };
}
