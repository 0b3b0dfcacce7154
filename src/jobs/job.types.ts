import type { AppContext } from "../context.ts";
import type { JobQueue } from "./jobs.service.ts";

/** A job as a handler receives it. */
export interface JobRecord {
  id: number;
  kind: string;
  datasetId: number | null;
  /** The dataset generation the job was queued for; a newer generation makes the job stale. */
  generation: number;
  payload: unknown;
  attempts: number;
}

/** What a running handler may use: the app context, a signal that aborts on cancel, and progress. */
export interface JobRunContext {
  ctx: AppContext;
  signal: AbortSignal;
  /** Reports progress as a fraction 0..1 (stored for the dataset page and the API). */
  progress(fraction: number): void;
}

/** Does one job; throwing fails it with the error's message shown on the dataset page. */
export type JobHandler = (job: JobRecord, run: JobRunContext) => Promise<void>;

/** A named kind of job, which its feature registers at start-up; higher priority runs first (analysis before previews). */
export interface JobKind {
  name: string;
  priority: number;
  /**
   * At most this many jobs of the kind run at once (default: as many as the queue allows). Background kinds set 1, so
   * a slow low-priority job can never hold every slot while a preview or an export someone waits for is queued.
   */
  maxRunning?: number;
  handler: JobHandler;
  /**
   * The files that concern this kind, for a rule that names the kind as its action without a glob of its own; a
   * kind may know more for one dataset (the data file a volume's header names, whatever its extension).
   */
  inputs?: (file: string, datasetId: number, ctx: AppContext) => boolean;
  /**
   * Start-up work of the feature, run when the queue starts and before it takes a job (clear leftovers, queue what was
   * missed while stopped); what it returns is called when the queue stops (a timer of its own to clear).
   */
  start?(ctx: AppContext, queue: JobQueue, settleMs: number): void | (() => void);
}

/**
 * Thrown by a handler whose work was overtaken by an event it can recover from (its dataset moved mid-build):
 * the queue runs the job again after `delayMs` instead of failing it, up to a few attempts.
 */
export class RunAgain extends Error {
  constructor(
    message: string,
    readonly delayMs = 1000,
  ) {
    super(message);
    this.name = "RunAgain";
  }
}
