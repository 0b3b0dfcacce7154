import { createApp } from "./app.ts";
import type { AppContext } from "./context.ts";
import { log } from "./log.ts";
import { startAccess } from "./access/access.service.ts";
import { authRuntime, closeAuth } from "./auth/auth.runtime.ts";
import { startSync } from "./sync/sync.service.ts";
import { startSearchIndexer } from "./search/search.indexer.ts";
import { startJobs } from "./jobs/index.ts";
import { startBackups } from "./backup/schedule.ts";

/** Something started with the server that must be stopped with it. */
export type Stop = () => Promise<void> | void;

/**
 * Starts everything `mata serve` runs (web, watcher, jobs) and returns one function stopping it all.
 * Background services are started here, in order; each returns its own stop function.
 */
export async function startServer(ctx: AppContext): Promise<{ url: string; stop: Stop }> {
  const stops: Stop[] = [];
  stops.push(startAccess(ctx));
  stops.push(startSearchIndexer(ctx));
  stops.push(await startJobs(ctx));
  stops.push(startBackups(ctx));
  // Accounts first: a bad Kerberos keytab or PAM setup stops the start, not the first sign-in.
  authRuntime(ctx);
  const app = createApp(ctx);
  const server = Bun.serve({
    hostname: ctx.config.host,
    port: ctx.config.port,
    fetch: app.fetch,
    tls: ctx.config.tls ? { cert: Bun.file(ctx.config.tls.cert), key: Bun.file(ctx.config.tls.key) } : undefined,
    // Large files are streamed; uploads never come through the web (the share is the way in).
    maxRequestBodySize: 16 * 1024 * 1024,
    idleTimeout: 120,
  });
  stops.push(() => closeAuth(ctx));
  stops.push(() => server.stop(true));
  // The sync engine last, so every hook listener (access, jobs) is attached before its first reconcile.
  stops.push(await startSync(ctx));
  const host = server.hostname ?? ctx.config.host;
  const url = `${ctx.config.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  log.info("serving", { url, root: ctx.config.root, state: ctx.config.state });
  return {
    url,
    stop: async () => {
      for (const s of stops.reverse()) await s();
      ctx.db.close();
    },
  };
}
