import { createFetch } from "./app.ts";
import type { AppContext } from "./context.ts";
import { log } from "./log.ts";
import { startAccess } from "./access/access.service.ts";
import { authRuntime, closeAuth } from "./auth/auth.runtime.ts";
import { startSync } from "./sync/sync.service.ts";
import { startSearchIndexer } from "./search/search.indexer.ts";
import { startJobs } from "./jobs/index.ts";
import { startBackups } from "./backup/schedule.ts";
import { startAuditRetention } from "./audit/audit.service.ts";
import { closeDatabase } from "./db/database.ts";
import { LISTEN_OPTIONS, refuseTakenPort, startWebThreads } from "./serving/web-threads.ts";

/** Something started with the server that must be stopped with it. */
export type Stop = () => Promise<void> | void;

// How long requests under way may take to finish once a stop began; then their connections are cut.
const DRAIN_MS = 5_000;

/**
 * Starts everything `mata serve` runs (web and its web threads, watcher, jobs) and returns one function stopping it all.
 * Background services are started here, in order; each returns its own stop function. The stop is graceful and
 * bounded: health turns 503 and no new connection is accepted at once, on any thread; running jobs are stopped
 * (preview builds and rule commands killed, their temp output removed, the jobs left queued for the next start), the
 * watcher closed and a reconcile ended after its current dataset, meanwhile requests under way get up to 5 s to
 * finish; then the database is checkpointed and closed.
 */
export async function startServer(ctx: AppContext): Promise<{ url: string; stop: Stop }> {
  ctx.services.lifecycle.startedAt = ctx.clock.now();
  const stopAccess = startAccess(ctx);
  const stopIndexer = startSearchIndexer(ctx);
  const stopJobs = await startJobs(ctx);
  const stopBackups = startBackups(ctx);
  const stopAuditRetention = startAuditRetention(ctx);
  // Accounts first: a bad Kerberos keytab or PAM setup stops the start, not the first sign-in.
  authRuntime(ctx);
  const fetch = createFetch(ctx);
  const threads = ctx.config.webThreads - 1;
  if (threads > 0) refuseTakenPort(ctx.config.host, ctx.config.port);
  const server = Bun.serve({
    ...LISTEN_OPTIONS,
    hostname: ctx.config.host,
    port: ctx.config.port,
    reusePort: threads > 0,
    fetch,
    tls: ctx.config.tls ? { cert: Bun.file(ctx.config.tls.cert), key: Bun.file(ctx.config.tls.key) } : undefined,
  });
  const webThreads = await startWebThreads(ctx, fetch, server.port!, threads);
  ctx.services.lifecycle.webThreads = 1 + webThreads.count;
  // The sync engine last, so every hook listener (access, jobs) is attached before its first reconcile.
  const stopSync = await startSync(ctx);
  const host = server.hostname ?? ctx.config.host;
  const url = `${ctx.config.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  log.info("serving", { url, root: ctx.config.root, state: ctx.config.state });
  return {
    url,
    stop: async () => {
      ctx.services.lifecycle.stopping = true;
      const drained = server.stop(false);
      const threadsStopped = webThreads.stop(DRAIN_MS);
      const t0 = performance.now();
      // The watcher and the queue stop together: neither waits for the other (jobs queued meanwhile stay queued).
      await Promise.all([stopSync(), stopJobs(), stopBackups()]);
      stopIndexer();
      stopAuditRetention();
      await stopAccess();
      const left = Math.max(0, DRAIN_MS - (performance.now() - t0));
      if (!(await Promise.race([drained.then(() => true), Bun.sleep(left).then(() => false)]))) {
        log.warn("requests still under way after the drain time are cut", { drainMs: DRAIN_MS });
        await server.stop(true);
      }
      await threadsStopped;
      closeAuth(ctx);
      closeDatabase(ctx.db);
      log.info("stopped", { ms: Math.round(performance.now() - t0) });
    },
  };
}
