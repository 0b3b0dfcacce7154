import type { AppContext } from "../context.ts";
import { conflict, notFound } from "../errors.ts";
import { log } from "../log.ts";
import { RunAgain, type JobKind, type JobRecord } from "./job.types.ts";
import { jobsRepo, parsePayload, type JobRow, type JobsRepo } from "./jobs.repo.ts";
import { isDiskFull } from "../platform/disk-full.ts";

/** How a caller asks for a job; `delayMs` lets a burst of changes settle, `merge` folds a queued twin's payload into the new one. */
export interface EnqueueOptions {
  datasetId?: number | null;
  generation?: number;
  payload?: unknown;
  delayMs?: number;
  dedupeKey?: string;
  merge?: (queuedPayload: unknown) => unknown;
}

/** A job as the API and admin page show it, with the ETA derived from progress so far. */
export interface JobView {
  id: number;
  kind: string;
  datasetId: number | null;
  generation: number;
  state: JobRow["state"];
  priority: number;
  progress: number;
  etaSeconds: number | null;
  error: string | null;
  attempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  runAfter: number;
}

// A job that found the disk full is tried again this much later, as often as it takes: space comes back.
export const DISK_FULL_RETRY_MS = 30_000;

// A job asking to run again (RunAgain) gets this many attempts in all before it fails like any other.
const RUN_AGAIN_ATTEMPTS = 5;

/** Why a running job was stopped: a cancel ends it, a shutdown puts it back in the queue. */
type StopReason = { kind: "cancel"; message: string } | { kind: "shutdown" };

interface Running {
  kind: string;
  controller: AbortController;
  done: Promise<void>;
}

/** Seconds left, estimated linearly from elapsed time and progress; null until there is enough progress to say. */
export function estimateEta(row: Pick<JobRow, "state" | "progress" | "started_at">, now: number): number | null {
  if (row.state !== "running" || row.started_at === null || row.progress < 0.01 || row.progress >= 1) return null;
  const elapsed = Math.max(0, now - row.started_at);
  return Math.round((elapsed * (1 - row.progress)) / row.progress / 1000);
}

/** Turns a row into the view the API returns. */
export function jobView(row: JobRow, now: number): JobView {
  return {
    id: row.id,
    kind: row.kind,
    datasetId: row.dataset_id,
    generation: row.generation,
    state: row.state,
    priority: row.priority,
    progress: row.progress,
    etaSeconds: estimateEta(row, now),
    error: row.error,
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    runAfter: row.run_after,
  };
}

/**
 * The SQLite-backed queue: named kinds with priorities, at most `concurrency` jobs at once, each with an
 * AbortSignal that a cancel, a newer dataset generation or a shutdown fires.
 */
export class JobQueue {
  readonly repo: JobsRepo;
  private readonly kinds = new Map<string, JobKind>();
  private readonly running = new Map<number, Running>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private stopping = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly concurrency: number,
    /** How long a job that ran out of disk space waits before it is tried again. */
    private readonly diskFullRetryMs = DISK_FULL_RETRY_MS,
  ) {
    this.repo = jobsRepo(ctx.db);
  }

  /** Makes a kind runnable; its priority is stored with every job so the queue order survives restarts. */
  register(kind: JobKind): void {
    this.kinds.set(kind.name, kind);
  }

  /** The registered kind of this name, if any (the rules ask it which files concern it). */
  kind(name: string): JobKind | undefined {
    return this.kinds.get(name);
  }

  /** Puts a job in the queue (or refreshes its queued twin) and wakes the loop. */
  enqueue(kindName: string, opts: EnqueueOptions = {}): number {
    const kind = this.kinds.get(kindName);
    if (!kind) throw new Error(`unknown job kind ${JSON.stringify(kindName)}`);
    const now = this.ctx.clock.now();
    const id = this.repo.enqueue(
      {
        kind: kind.name,
        datasetId: opts.datasetId ?? null,
        generation: opts.generation ?? 0,
        payload: opts.payload ?? {},
        priority: kind.priority,
        runAfter: now + (opts.delayMs ?? 0),
        dedupeKey: opts.dedupeKey,
        merge: opts.merge,
      },
      now,
    );
    this.wake();
    return id;
  }

  /** Re-queues jobs a dead process left running, then starts taking jobs. */
  start(): void {
    const now = this.ctx.clock.now();
    for (const id of this.repo.interrupted()) {
      this.repo.requeue(id, now);
      log.info("job re-queued after restart", { job: id });
    }
    this.started = true;
    this.wake();
  }

  /** Stops taking jobs and stops the running ones, which go back to the queue for the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const waits = [...this.running.values()].map((r) => {
      r.controller.abort({ kind: "shutdown" } satisfies StopReason);
      return r.done;
    });
    await Promise.all(waits);
  }

  /** Cancels a queued or running job; a running one is aborted at once (its handler kills its child process). */
  cancel(id: number, message = "cancelled by an administrator"): JobRow {
    const row = this.repo.get(id);
    if (!row) throw notFound(`No job ${id}`);
    if (row.state !== "queued" && row.state !== "running") throw conflict(`Job ${id} is ${row.state}, not queued or running`);
    this.stopJob(row, message);
    return this.repo.get(id)!;
  }

  /** Puts a failed or cancelled job back in the queue, keeping its attempts count. */
  retry(id: number): JobRow {
    const row = this.repo.get(id);
    if (!row) throw notFound(`No job ${id}`);
    if (row.state !== "failed" && row.state !== "cancelled") throw conflict(`Job ${id} is ${row.state}; only failed or cancelled jobs can be retried`);
    if (row.dataset_id !== null) {
      const generation = this.repo.generation(row.dataset_id);
      if (generation === null) throw conflict(`The dataset of job ${id} no longer exists`);
      if (generation > row.generation) throw conflict(`Job ${id} was for an older version of the dataset; a newer job replaces it`);
    }
    this.repo.requeue(id, this.ctx.clock.now());
    this.wake();
    return this.repo.get(id)!;
  }

  /**
   * Revokes the dataset's jobs made for an older generation whose inputs the change touched (`touched`): running
   * ones are aborted at once (their children killed) and marked cancelled; queued ones with a dedupe key stay queued
   * for the caller to refresh, others are cancelled. Jobs whose inputs it did not touch carry on, now counted for the
   * new generation. Returns every revoked row so the caller can queue its replacement for the new generation.
   */
  revokeStale(datasetId: number, generation: number, touched: (row: JobRow) => boolean = () => true): JobRow[] {
    const revoked: JobRow[] = [];
    for (const row of this.repo.stale(datasetId, generation)) {
      if (!touched(row)) {
        this.repo.carryOver(row.id, generation);
        continue;
      }
      revoked.push(row);
      if (row.state === "queued" && row.dedupe_key) continue;
      this.stopJob(row, `superseded: the dataset changed (generation ${generation})`);
    }
    return revoked;
  }

  /** Whether this queue takes jobs: `off` until started (route tests, `mata scan`), `stopping` once a stop began. */
  get state(): "off" | "running" | "stopping" {
    return this.stopping ? "stopping" : this.started ? "running" : "off";
  }

  /** How many jobs this process runs now, and at most. */
  get load(): { running: number; concurrency: number } {
    return { running: this.running.size, concurrency: this.concurrency };
  }

  /** True while a job is in this process's running set (tests and the admin page use it). */
  isRunning(id: number): boolean {
    return this.running.has(id);
  }

  /** Resolves when nothing is running or due (tests use it to wait for the queue to drain). */
  async idle(pollMs = 20): Promise<void> {
    for (;;) {
      const next = this.repo.earliestRunAfter();
      if (this.running.size === 0 && next === null) return;
      await Bun.sleep(pollMs);
    }
  }

  private stopJob(row: JobRow, message: string): void {
    const now = this.ctx.clock.now();
    this.repo.markCancelled(row.id, message, now);
    const running = this.running.get(row.id);
    if (running) running.controller.abort({ kind: "cancel", message } satisfies StopReason);
  }

  private wake(): void {
    if (!this.started || this.stopping) return;
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    if (this.stopping) return;
    while (this.running.size < this.concurrency) {
      const now = this.ctx.clock.now();
      const row = this.repo.claimNext(now, this.kindsAtLimit());
      if (!row) break;
      this.launch(row);
    }
    this.schedule();
  }

  /** The kinds whose `maxRunning` is reached: their queued jobs wait while others are claimed. */
  private kindsAtLimit(): string[] {
    const counts = new Map<string, number>();
    for (const r of this.running.values()) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    return [...counts].filter(([name, n]) => n >= (this.kinds.get(name)?.maxRunning ?? Infinity)).map(([name]) => name);
  }

  /** Sleeps until the earliest delayed job is due (a settle delay), then pumps again. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running.size >= this.concurrency) return;
    const at = this.repo.earliestRunAfter(this.kindsAtLimit());
    if (at === null) return;
    const wait = Math.max(5, at - this.ctx.clock.now());
    this.timer = setTimeout(() => this.pump(), Math.min(wait, 60_000));
  }

  private launch(row: JobRow): void {
    const kind = this.kinds.get(row.kind);
    const controller = new AbortController();
    const now = this.ctx.clock.now();
    if (!kind) {
      this.repo.finish(row.id, "failed", `no handler for job kind ${JSON.stringify(row.kind)} in this version`, now);
      return;
    }
    let lastWrite = 0;
    let lastValue = -1;
    const record: JobRecord = {
      id: row.id,
      kind: row.kind,
      datasetId: row.dataset_id,
      generation: row.generation,
      payload: parsePayload(row.payload),
      attempts: row.attempts,
    };
    const run = async () => {
      try {
        await kind.handler(record, {
          ctx: this.ctx,
          signal: controller.signal,
          progress: (fraction) => {
            const f = Math.min(1, Math.max(0, fraction));
            const t = this.ctx.clock.now();
            // Progress is for people: a write every quarter second or percent is plenty.
            if (f - lastValue < 0.01 && t - lastWrite < 250) return;
            lastValue = f;
            lastWrite = t;
            this.repo.progress(row.id, f);
          },
        });
        if (controller.signal.aborted) throw controller.signal.reason;
        this.repo.finish(row.id, "done", null, this.ctx.clock.now());
      } catch (e) {
        const reason = controller.signal.aborted ? (controller.signal.reason as StopReason) : null;
        if (reason?.kind === "shutdown") {
          this.repo.requeue(row.id, this.ctx.clock.now());
        } else if (reason?.kind === "cancel") {
          // The row was marked cancelled when the stop was asked for.
        } else if (isDiskFull(e)) {
          const message = `waiting for disk space: ${e instanceof Error ? e.message : String(e)}`;
          log.warn("job waits for disk space", { job: row.id, kind: row.kind, dataset: row.dataset_id, retryMs: this.diskFullRetryMs });
          this.repo.requeue(row.id, this.ctx.clock.now() + this.diskFullRetryMs, message.slice(0, 2000));
        } else if (e instanceof RunAgain && row.attempts < RUN_AGAIN_ATTEMPTS) {
          log.info("job runs again", { job: row.id, kind: row.kind, dataset: row.dataset_id, reason: e.message });
          this.repo.requeue(row.id, this.ctx.clock.now() + e.delayMs);
        } else {
          const message = e instanceof Error ? e.message : String(e);
          this.repo.finish(row.id, "failed", message, this.ctx.clock.now());
          log.warn("job failed", { job: row.id, kind: row.kind, dataset: row.dataset_id, error: message });
        }
      } finally {
        this.running.delete(row.id);
        this.wake();
      }
    };
    const entry: Running = { kind: row.kind, controller, done: Promise.resolve() };
    this.running.set(row.id, entry);
    entry.done = run();
  }
}
