// What this process counts as it runs (requests, reconciles, watcher events), kept in memory per instance and read
// by `/metrics`; gauges of the moment (jobs, disk, memory) are read at scrape time instead (metrics.service.ts).
import { Histogram } from "./prometheus.ts";

/** Request durations, in seconds: from sub-millisecond tiles to slow pages. */
export const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Reconcile durations, in seconds: one dataset's few files to a full walk of millions. */
export const RECONCILE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The label of requests no declared route answered (404s, probes): one value, so odd paths cannot add series. */
export const UNMATCHED_ROUTE = "(unmatched)";

/** One route pattern's counts by method and status, and its duration histogram. */
export interface RouteStats {
  byMethod: Map<string, Map<number, number>>;
  duration: Histogram;
}

/** Request counts as one thread hands them to another: per route, by method and status, and the duration histogram. */
export type RequestCounts = { route: string; methods: [string, [number, number][]][]; buckets: number[]; sum: number }[];

/** The counters and histograms of one instance (`ctx.services.metrics`). */
export class Metrics {
  /** By route pattern (`/api/v1/datasets/:id`), never the raw path, so the series stay as many as the routes. */
  readonly http = new Map<string, RouteStats>();
  readonly reconcile = { full: new Histogram(RECONCILE_BUCKETS), partial: new Histogram(RECONCILE_BUCKETS) };
  /** Requests the web threads beside the main one answered (src/serving/web-threads.ts); also counted in `http`. */
  webThreadRequests = 0;
  /** Raw watcher events by kind (add, change, unlink, addDir, unlinkDir). */
  readonly watcherEvents = new Map<string, number>();

  /** Counts one answered request; after the first request of a route, method and status, it allocates nothing. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const stats = this.routeStats(route);
    const byStatus = statusCounts(stats, method);
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    stats.duration.observe(seconds);
  }

  private routeStats(route: string): RouteStats {
    let stats = this.http.get(route);
    if (!stats) this.http.set(route, (stats = { byMethod: new Map(), duration: new Histogram(REQUEST_BUCKETS) }));
    return stats;
  }

  /** The request counts since the last call, for another thread to add to its own (`addRequests`); they start again from zero. */
  takeRequests(): RequestCounts {
    const out: RequestCounts = [];
    for (const [route, stats] of this.http) {
      const methods = [...stats.byMethod].map(([method, byStatus]) => [method, [...byStatus]] as [string, [number, number][]]);
      out.push({ route, methods, buckets: [...stats.duration.counts], sum: stats.duration.sum });
    }
    this.http.clear();
    return out;
  }

  /** Adds the request counts a web thread took from its own metrics, so `/metrics` shows every thread's requests. */
  addRequests(counts: RequestCounts): void {
    for (const { route, methods, buckets, sum } of counts) {
      const stats = this.routeStats(route);
      for (const [method, statuses] of methods) {
        const byStatus = statusCounts(stats, method);
        for (const [status, n] of statuses) byStatus.set(status, (byStatus.get(status) ?? 0) + n);
      }
      buckets.forEach((n, i) => {
        stats.duration.counts[i]! += n;
        stats.duration.count += n;
        this.webThreadRequests += n;
      });
      stats.duration.sum += sum;
    }
  }

  observeReconcile(full: boolean, seconds: number): void {
    (full ? this.reconcile.full : this.reconcile.partial).observe(seconds);
  }

  watcherEvent(event: string): void {
    this.watcherEvents.set(event, (this.watcherEvents.get(event) ?? 0) + 1);
  }
}

function statusCounts(stats: RouteStats, method: string): Map<number, number> {
  let byStatus = stats.byMethod.get(method);
  if (!byStatus) stats.byMethod.set(method, (byStatus = new Map()));
  return byStatus;
}
