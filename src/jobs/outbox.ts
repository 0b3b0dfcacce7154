// Changes that reach the queue from any process: `mata scan` (no job queue of its own) records what it changed in
// the database, and `serve` drains it into its rules, so a scan beside a running server still queues previews.
import type { AppContext, ContentChange } from "../context.ts";
import { log } from "../log.ts";
import { outboxRepo } from "./outbox.repo.ts";

const BATCH = 500;

/** A content-change listener for a process without a job queue: it leaves each change for the server. */
export function recordChangesForServe(ctx: AppContext): (change: ContentChange) => void {
  const repo = outboxRepo(ctx.db);
  return (change) => repo.add(change, ctx.clock.now());
}

/** Hands recorded changes to `deliver` now and every `intervalMs`; returns the function that stops it. */
export function drainOutbox(ctx: AppContext, deliver: (change: ContentChange) => void, intervalMs: number): () => void {
  const repo = outboxRepo(ctx.db);
  const drain = () => {
    try {
      for (let batch = repo.take(BATCH); batch.length > 0; batch = repo.take(BATCH)) {
        for (const change of batch) deliver(change);
        log.info("changes from another process queued", { changes: batch.length });
      }
    } catch (e) {
      // A busy database: the next tick tries again, nothing was taken.
      log.warn("change outbox drain failed", { error: String(e) });
    }
  };
  drain();
  const timer = setInterval(drain, intervalMs);
  return () => clearInterval(timer);
}
