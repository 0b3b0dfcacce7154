import type { AppContext } from "../context.ts";
import { log } from "../log.ts";
import type { JobKind } from "./job.types.ts";
import { JobQueue } from "./jobs.service.ts";
import { rulesListener } from "./rules.ts";
import { drainOutbox } from "./outbox.ts";

/** Knobs tests turn; the server uses the defaults. */
export interface JobsOptions {
  /** How long a dataset must stay unchanged before its jobs start (default: 3 s or twice the stable time). */
  settleMs?: number;
  /** Kinds added for this run, replacing registered kinds of the same name (tests: a preview kind with raw tiles). */
  kinds?: JobKind[];
  /** How often changes other processes recorded (`mata scan`) are taken into the queue (default 2 s). */
  outboxMs?: number;
  /** How long a job that ran out of disk space waits before it is tried again (default 30 s). */
  diskFullRetryMs?: number;
}

/**
 * The job queue of one context, built with its services and holding the kinds every feature registered at
 * start-up. Until `start`, its queue only reads and edits rows (route tests, `mata scan`); each start runs a
 * fresh queue, and a stop leaves an idle one again.
 */
export class Jobs {
  private current: JobQueue;

  constructor(
    private readonly ctx: AppContext,
    private readonly kinds: readonly JobKind[],
  ) {
    this.current = this.newQueue([]);
  }

  /** The running queue, or one that only reads and edits rows when none was started. */
  get queue(): JobQueue {
    return this.current;
  }

  /**
   * Starts the queue with `mata serve`: runs each kind's start-up work (a crash's leftovers, what changed while
   * stopped), re-queues interrupted jobs, and turns content changes into jobs through the file-type rules.
   * Returns the function that stops it.
   */
  async start(opts: JobsOptions = {}): Promise<() => Promise<void>> {
    const { ctx } = this;
    const kinds = opts.kinds ?? [];
    const queue = this.newQueue(kinds, opts.diskFullRetryMs);
    this.current = queue;
    const settleMs = opts.settleMs ?? Math.max(3000, ctx.config.stableMs * 2);
    const listener = rulesListener(ctx, queue, settleMs);
    ctx.hooks.contentChanged.push(listener);
    const stopKinds = this.registered(kinds).map((kind) => kind.start?.(ctx, queue, settleMs));
    const stopDrain = drainOutbox(ctx, listener, opts.outboxMs ?? 2000);
    queue.start();
    log.info("jobs started", { concurrency: ctx.config.jobConcurrency, settleMs });
    return async () => {
      stopDrain();
      for (const stopKind of stopKinds) stopKind?.();
      const i = ctx.hooks.contentChanged.indexOf(listener);
      if (i >= 0) ctx.hooks.contentChanged.splice(i, 1);
      await queue.stop();
      if (this.current === queue) this.current = this.newQueue([]);
    };
  }

  private registered(extra: readonly JobKind[]): JobKind[] {
    const byName = new Map<string, JobKind>();
    for (const k of [...this.kinds, ...extra]) byName.set(k.name, k);
    return [...byName.values()];
  }

  private newQueue(extra: readonly JobKind[], diskFullRetryMs?: number): JobQueue {
    const queue = new JobQueue(this.ctx, this.ctx.config.jobConcurrency, diskFullRetryMs);
    for (const k of this.registered(extra)) queue.register(k);
    return queue;
  }
}

/** The running queue of a context, or a queue that only reads and edits rows when none was started (e.g. in route tests). */
export function queueFor(ctx: AppContext): JobQueue {
  return ctx.services.jobs.queue;
}

/** Starts the context's job queue (see `Jobs.start`); returns the function that stops it. */
export function startJobs(ctx: AppContext, opts: JobsOptions = {}): Promise<() => Promise<void>> {
  return ctx.services.jobs.start(opts);
}
