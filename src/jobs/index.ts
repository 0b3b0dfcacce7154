import { rmSync } from "node:fs";
import type { AppContext } from "../context.ts";
import { log } from "../log.ts";
import { datasetsBehind, PREVIEW_JOB, previewHandler, previewTmpDir } from "../preview/preview.service.ts";
import { COMMAND_JOB, commandHandler } from "./command.job.ts";
import type { JobKind } from "./job.types.ts";
import { JobQueue } from "./jobs.service.ts";
import { rulesListener } from "./rules.ts";

/** Priorities: analysing a dataset (rule commands) runs before building its previews. */
export const PRIORITY = { command: 20, preview: 10 } as const;

/** Knobs tests turn; the server uses the defaults. */
export interface JobsOptions {
  /** How long a dataset must stay unchanged before its jobs start (default: 3 s or twice the stable time). */
  settleMs?: number;
  /** Extra kinds other features run on the same queue. */
  kinds?: JobKind[];
  /** Tile encoding of preview builds (default jpeg). */
  encoding?: "jpeg" | "raw";
}

const queues = new WeakMap<AppContext, JobQueue>();

/** The running queue of a context, or a queue that only reads and edits rows when none was started (e.g. in route tests). */
export function queueFor(ctx: AppContext): JobQueue {
  let q = queues.get(ctx);
  if (!q) {
    q = newQueue(ctx, {});
    queues.set(ctx, q);
  }
  return q;
}

function newQueue(ctx: AppContext, opts: JobsOptions): JobQueue {
  const queue = new JobQueue(ctx, ctx.config.jobConcurrency);
  queue.register({ name: PREVIEW_JOB, priority: PRIORITY.preview, handler: previewHandler({ encoding: opts.encoding }) });
  queue.register({ name: COMMAND_JOB, priority: PRIORITY.command, handler: commandHandler((id) => queue.repo.datasetLocation(id)) });
  for (const k of opts.kinds ?? []) queue.register(k);
  return queue;
}

/**
 * Starts the job queue with `mata serve`: clears half-made preview builds a crash left, re-queues interrupted
 * jobs, and turns content changes into jobs through the file-type rules. Returns the function that stops it.
 */
export async function startJobs(ctx: AppContext, opts: JobsOptions = {}): Promise<() => Promise<void>> {
  const queue = newQueue(ctx, opts);
  queues.set(ctx, queue);
  rmSync(previewTmpDir(ctx), { recursive: true, force: true });
  const settleMs = opts.settleMs ?? Math.max(3000, ctx.config.stableMs * 2);
  const listener = rulesListener(queue, ctx.config.rules, settleMs);
  ctx.hooks.contentChanged.push(listener);
  queue.start();
  const behind = datasetsBehind(ctx);
  for (const d of behind) queue.enqueue(PREVIEW_JOB, { datasetId: d.id, generation: d.generation, delayMs: settleMs, dedupeKey: `${PREVIEW_JOB}:${d.id}` });
  if (behind.length > 0) log.info("previews queued for datasets changed while stopped", { datasets: behind.length });
  log.info("jobs started", { concurrency: ctx.config.jobConcurrency, settleMs });
  return async () => {
    const i = ctx.hooks.contentChanged.indexOf(listener);
    if (i >= 0) ctx.hooks.contentChanged.splice(i, 1);
    await queue.stop();
    queues.delete(ctx);
  };
}
