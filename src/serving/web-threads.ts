// Serving on more than one core. One JavaScript thread answers about 85,000 tiles a second (bench/tiles-serve.ts), about
// half what nginx serves from the same 2 cores, so `mata serve` opens `web_threads - 1` web threads beside the
// main one, all listening on the same port (SO_REUSEPORT): each answers tiles itself, and hands anything else to the main
// thread, which alone runs the app's writes, hooks and jobs (src/serving/web.worker.ts, src/serving/forward.ts).
import { Worker } from "node:worker_threads";
import { chmodSync, rmSync } from "node:fs";
import type { AppContext } from "../context.ts";
import type { Config } from "../config.ts";
import { log } from "../log.ts";
import type { RequestCounts } from "../metrics/metrics.ts";
import type { Fetch } from "../preview/tile.fast-path.ts";
import { acceptForwarded, forwardSocket } from "./forward.ts";

/** What every listener of the server is opened with besides its address. */
export const LISTEN_OPTIONS = {
  // Large files are streamed; uploads never come through the web (the share is the way in).
  maxRequestBodySize: 16 * 1024 * 1024,
  idleTimeout: 120,
} as const;

/** What a web thread is started with. */
export interface WebThreadData {
  config: Config;
  port: number;
  socket: string;
}

/** What a web thread tells the main thread. */
export type ThreadMessage = { type: "ready" } | { type: "stopped" } | { type: "requests"; counts: RequestCounts };

/** The running web threads. */
export interface WebThreads {
  /** How many started. */
  count: number;
  /** Stops them taking connections and waits up to `ms` for what is under way, then ends them and the hand-over socket. */
  stop(ms: number): Promise<void>;
}

// A unix socket's path must fit in 108 bytes.
const MAX_SOCKET_PATH = 100;
const START_TIMEOUT_MS = 15_000;

/**
 * Refuses a port another server already listens on, as a listener without SO_REUSEPORT would: with it, a second server
 * started by the same account on the same port would silently share its connections.
 */
export function refuseTakenPort(hostname: string, port: number): void {
  if (port === 0) return;
  Bun.serve({ hostname, port, fetch: () => new Response(null, { status: 503 }) }).stop(true);
}

/**
 * Starts `count` web threads on the main listener's port (0 starts none); a thread that fails to start is logged and
 * left out. `fetch` is the main listener's handler, which also answers what the threads hand over.
 */
export async function startWebThreads(ctx: AppContext, fetch: Fetch, port: number, count: number): Promise<WebThreads> {
  if (count < 1) return { count: 0, stop: async () => {} };
  const socket = forwardSocket(ctx.config.state);
  if (socket.length > MAX_SOCKET_PATH) {
    log.warn("no web threads: the state dir's path is too long for their hand-over socket", { socket });
    return { count: 0, stop: async () => {} };
  }
  rmSync(socket, { force: true });
  const handover = Bun.serve({ maxRequestBodySize: LISTEN_OPTIONS.maxRequestBodySize, unix: socket, fetch: acceptForwarded(fetch) });
  chmodSync(socket, 0o600);
  const data: WebThreadData = { config: ctx.config, port, socket };
  const started = await Promise.all(Array.from({ length: count }, () => startThread(ctx, data)));
  const threads = started.filter((t): t is Thread => t !== null);
  log.info("web threads", { threads: threads.length + 1 });
  return {
    count: threads.length,
    async stop(ms) {
      await Promise.all(threads.map((t) => stopThread(t, ms)));
      await handover.stop(true);
      rmSync(socket, { force: true });
    },
  };
}

interface Thread {
  worker: Worker;
  /** Stopped, failed or given up on: its exit says nothing more. */
  ended: boolean;
}

function startThread(ctx: AppContext, data: WebThreadData): Promise<Thread | null> {
  const thread: Thread = { worker: new Worker(new URL("./web.worker.ts", import.meta.url), { workerData: data }), ended: false };
  const w = thread.worker;
  return new Promise((resolve) => {
    let ready = false;
    const fail = (why: string) => {
      if (thread.ended) return;
      thread.ended = true;
      if (ready) log.warn("a web thread ended; the other threads serve on", { why });
      else {
        log.warn("a web thread did not start; serving without it", { why });
        void w.terminate();
        resolve(null);
      }
    };
    const timer = setTimeout(() => fail(`no answer in ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    w.on("message", (m: ThreadMessage) => {
      if (m.type === "requests") ctx.services.metrics.addRequests(m.counts);
      else if (m.type === "ready" && !ready) {
        ready = true;
        clearTimeout(timer);
        resolve(thread);
      }
    });
    w.on("error", (e: Error) => fail(e.message));
    w.on("exit", (code) => {
      clearTimeout(timer);
      fail(`exit code ${code}`);
    });
  });
}

async function stopThread(thread: Thread, ms: number): Promise<void> {
  thread.ended = true;
  const stopped = new Promise<void>((resolve) => {
    thread.worker.on("message", (m: ThreadMessage) => m.type === "stopped" && resolve());
    thread.worker.on("exit", () => resolve());
  });
  thread.worker.postMessage({ type: "stop" });
  await Promise.race([stopped, Bun.sleep(ms)]);
  await thread.worker.terminate();
}
