// A web thread: one more listener on the server's port (SO_REUSEPORT, so the kernel spreads connections over the
// threads), answering tile requests by the fast path over its own database connection and caches, and handing every
// other request to the main thread (src/serving/forward.ts). Each request first asks SQLite whether anyone else committed
// and if so drops the caches (src/services.ts), so a grant, sign-out or new preview written anywhere is seen at once.
import { parentPort, workerData } from "node:worker_threads";
import path from "node:path";
import { openDatabase } from "../db/database.ts";
import { withTileFastPath } from "../preview/tile.fast-path.ts";
import { contextOver, readCacheRefresher } from "../services.ts";
import { forward } from "./forward.ts";
import { LISTEN_OPTIONS, type ThreadMessage, type WebThreadData } from "./web-threads.ts";

// How often this thread's request counts go to the main thread's metrics.
const METRICS_EVERY_MS = 1000;

const { config, port, socket } = workerData as WebThreadData;
const ctx = contextOver(config, openDatabase(path.join(config.state, "mata.db"), { migrate: false }));

const server = Bun.serve({
  ...LISTEN_OPTIONS,
  hostname: config.host,
  port,
  reusePort: true,
  tls: config.tls ? { cert: Bun.file(config.tls.cert), key: Bun.file(config.tls.key) } : undefined,
  fetch: withTileFastPath(ctx, (req, s) => forward(req, s, socket), { tokens: false, refresh: readCacheRefresher(ctx) }),
});

const post = (m: ThreadMessage) => parentPort!.postMessage(m);
const sendCounts = () => {
  const counts = ctx.services.metrics.takeRequests();
  if (counts.length > 0) post({ type: "requests", counts });
};
const timer = setInterval(sendCounts, METRICS_EVERY_MS);

parentPort!.on("message", async (m: { type: "stop" }) => {
  if (m.type !== "stop") return;
  clearInterval(timer);
  // No new connections; the main thread cuts what is still under way when its own drain time is up.
  await server.stop(false);
  sendCounts();
  ctx.db.close();
  post({ type: "stopped" });
});
post({ type: "ready" });
