// One scrape of `/metrics`: the instance's counters and histograms, plus gauges read at this moment (jobs by kind and
// state, free disk space, memory, watcher).
import type { AppContext } from "../context.ts";
import { diskSpace } from "../platform/disk-space.ts";
import { VERSION } from "../version.ts";
import { Exposition } from "./prometheus.ts";

/** The whole exposition text of one scrape. */
export function renderMetrics(ctx: AppContext): string {
  const { metrics, sync, jobs } = ctx.services;
  const out = new Exposition();

  out.family("mata_info", "gauge", "Always 1; the version as a label.").sample("mata_info", { version: VERSION }, 1);

  out.family("mata_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.");
  for (const [route, stats] of metrics.http)
    for (const [method, byStatus] of stats.byMethod)
      for (const [status, n] of byStatus) out.sample("mata_http_requests_total", { route, method, status: String(status) }, n);

  out.family("mata_http_request_duration_seconds", "histogram", "Time from a request's arrival to its response headers, by route pattern.");
  for (const [route, stats] of metrics.http) out.histogram("mata_http_request_duration_seconds", { route }, stats.duration);

  out.family("mata_web_thread_requests_total", "counter", "HTTP requests answered by the web threads beside the main one (in mata_http_requests_total too).");
  out.sample("mata_web_thread_requests_total", undefined, metrics.webThreadRequests);

  out.family("mata_jobs", "gauge", "Background jobs in the queue's table, by kind and state.");
  for (const r of jobs.queue.repo.countsByKindAndState()) out.sample("mata_jobs", { kind: r.kind, state: r.state }, r.n);
  out.family("mata_jobs_running_here", "gauge", "Jobs this process runs now.").sample("mata_jobs_running_here", undefined, jobs.queue.load.running);

  out.family("mata_reconcile_duration_seconds", "histogram", "Duration of reconcile runs: full (the whole root) or partial (datasets the watcher named).");
  out.histogram("mata_reconcile_duration_seconds", { scope: "full" }, metrics.reconcile.full);
  out.histogram("mata_reconcile_duration_seconds", { scope: "partial" }, metrics.reconcile.partial);
  out.family("mata_reconcile_last_success", "gauge", "1 when the last reconcile succeeded, 0 when it failed (absent before the first).");
  if (sync.lastReconcile) out.sample("mata_reconcile_last_success", undefined, sync.lastReconcile.ok ? 1 : 0);

  out.family("mata_watcher_events_total", "counter", "Raw file-system events the watcher reported, by kind.");
  for (const [event, n] of metrics.watcherEvents) out.sample("mata_watcher_events_total", { event }, n);
  out.family("mata_watcher_up", "gauge", "1 while the watcher runs, 0 when it failed or stopped (absent in a process without one).");
  if (sync.watcher.state !== "off") out.sample("mata_watcher_up", undefined, sync.watcher.state === "running" ? 1 : 0);

  out.family("mata_disk_free_bytes", "gauge", "Bytes an unprivileged writer may still use on the file system of the state dir or the share root.");
  out.family("mata_disk_size_bytes", "gauge", "Size of the file system of the state dir or the share root.");
  const disks: [string, ReturnType<typeof diskSpace>][] = [
    ["state", diskSpace(ctx.config.state)],
    ["root", diskSpace(ctx.config.root)],
  ];
  for (const [volume, d] of disks) if (!("error" in d)) out.sample("mata_disk_free_bytes", { volume }, d.freeBytes);
  for (const [volume, d] of disks) if (!("error" in d)) out.sample("mata_disk_size_bytes", { volume }, d.totalBytes);

  out.family("process_resident_memory_bytes", "gauge", "Resident set size of the server process.");
  out.sample("process_resident_memory_bytes", undefined, process.memoryUsage.rss());
  out.family("process_start_time_seconds", "gauge", "When the process started, in seconds since the Unix epoch.");
  out.sample("process_start_time_seconds", undefined, Math.floor(performance.timeOrigin / 1000));
  return out.text();
}
