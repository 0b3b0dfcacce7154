// The fixity job kind: one run per dataset at the lowest priority, queued when a dataset's content settles (its new
// files get a checksum) and when its verification falls due (config `[fixity] every`).
import type { AppContext, ContentChange } from "../context.ts";
import type { JobKind } from "../jobs/job.types.ts";
import type { JobQueue } from "../jobs/jobs.service.ts";
import { log } from "../log.ts";
import { checkDataset } from "./fixity.service.ts";
import { fixityRepo } from "./fixity.repo.ts";

export const FIXITY_JOB = "fixity";
/** Below previews and rule commands: checksums can always wait for what people look at. */
const FIXITY_PRIORITY = 0;
/** How often the schedule looks for datasets due (their own interval is config `[fixity] every`). */
const SWEEP_MS = 60 * 60 * 1000;
const START_DELAY_MS = 60_000;

export interface FixityPayload {
  /** Read every file and compare (else only files without a checksum are read). */
  verify: boolean;
}

/** Queues a fixity run of a dataset; a queued one is refreshed, and a verification asked for is never dropped. */
export function queueFixity(queue: JobQueue, datasetId: number, generation: number, verify: boolean, delayMs = 0): number {
  return queue.enqueue(FIXITY_JOB, {
    datasetId,
    generation,
    payload: { verify } satisfies FixityPayload,
    delayMs,
    dedupeKey: `${FIXITY_JOB}:${datasetId}`,
    merge: (queued) => ({ verify: verify || (queued as Partial<FixityPayload>)?.verify === true }),
  });
}

/** Queues every dataset with files to hash or a verification due. */
function queueDue(ctx: AppContext, queue: JobQueue, everyMs: number, delayMs: number): void {
  const due = fixityRepo(ctx.db).due(ctx.clock.now() - everyMs);
  for (const d of due) queueFixity(queue, d.id, d.generation, d.verify, delayMs);
  if (due.length > 0) log.info("fixity runs queued", { datasets: due.length });
}

export function fixityJob(): JobKind {
  return {
    name: FIXITY_JOB,
    priority: FIXITY_PRIORITY,
    // Hashing runs in the idle CPU class and can take hours: one dataset at a time leaves the other slots free.
    maxRunning: 1,
    async handler(job, run) {
      if (job.datasetId === null) return;
      const verify = (job.payload as Partial<FixityPayload>)?.verify === true;
      await checkDataset(run.ctx, job.datasetId, { verify, signal: run.signal, progress: run.progress });
    },
    start(ctx, queue, settleMs) {
      const everyMs = ctx.config.fixityEveryMs;
      if (everyMs === null) return;
      // After the previews of the same change: a new scan is looked at before it is checksummed.
      const onChange = (c: ContentChange) => void (c.changed.length > 0 && queueFixity(queue, c.datasetId, c.generation, false, settleMs * 2));
      ctx.hooks.contentChanged.push(onChange);
      // A minute after start: a restarting server first serves pages and catches up on previews.
      queueDue(ctx, queue, everyMs, Math.max(settleMs, START_DELAY_MS));
      const timer = setInterval(() => queueDue(ctx, queue, everyMs, 0), SWEEP_MS);
      return () => {
        clearInterval(timer);
        const i = ctx.hooks.contentChanged.indexOf(onChange);
        if (i >= 0) ctx.hooks.contentChanged.splice(i, 1);
      };
    },
  };
}
