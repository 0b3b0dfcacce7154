import type { Database } from "bun:sqlite";

/** A jobs row as the queue and the admin API read it. */
export interface JobRow {
  id: number;
  kind: string;
  dataset_id: number | null;
  generation: number;
  payload: string;
  priority: number;
  state: "queued" | "running" | "done" | "failed" | "cancelled";
  progress: number;
  error: string | null;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  run_after: number;
  dedupe_key: string | null;
}

/** What a new job needs; a dedupe key makes a later enqueue replace a still-queued twin. */
export interface NewJob {
  kind: string;
  datasetId: number | null;
  generation: number;
  payload: unknown;
  priority: number;
  runAfter: number;
  dedupeKey?: string;
  /** Folds the queued twin's payload into this one (e.g. unites changed-file lists). */
  merge?: (queuedPayload: unknown) => unknown;
}

/** A job row's stored payload; a damaged one reads as empty rather than failing the queue. */
export function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** Every SQL statement of the job queue, prepared once. */
export function jobsRepo(db: Database) {
  const insert = db.query<{ id: number }, [string, number | null, number, string, number, number, number, string | null]>(
    "INSERT INTO jobs (kind, dataset_id, generation, payload, priority, created_at, run_after, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
  );
  const queuedTwin = db.query<JobRow, [string]>("SELECT * FROM jobs WHERE dedupe_key = ? AND state = 'queued' ORDER BY id DESC LIMIT 1");
  const refreshTwin = db.query<unknown, [number, string, number, number]>("UPDATE jobs SET generation = ?, payload = ?, run_after = ? WHERE id = ?");
  // ?2: the kinds not to take now (a JSON array), those at their most jobs running at once.
  const nextDue = db.query<JobRow, [number, string]>(
    "SELECT * FROM jobs WHERE state = 'queued' AND run_after <= ?1 AND kind NOT IN (SELECT value FROM json_each(?2)) ORDER BY priority DESC, id LIMIT 1",
  );
  const earliestWait = db.query<{ at: number | null }, [string]>(
    "SELECT MIN(run_after) AS at FROM jobs WHERE state = 'queued' AND kind NOT IN (SELECT value FROM json_each(?1))",
  );
  const claim = db.query<unknown, [number, number]>(
    "UPDATE jobs SET state = 'running', started_at = ?, attempts = attempts + 1, progress = 0, error = NULL WHERE id = ? AND state = 'queued'",
  );
  const setProgress = db.query<unknown, [number, number]>("UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'");
  const finish = db.query<unknown, [string, string | null, number, number]>(
    "UPDATE jobs SET state = ?, error = ?, finished_at = ?, progress = CASE WHEN ?1 = 'done' THEN 1 ELSE progress END WHERE id = ? AND state = 'running'",
  );
  const byId = db.query<JobRow, [number]>("SELECT * FROM jobs WHERE id = ?");
  const cancelQueued = db.query<unknown, [string, number, number]>(
    "UPDATE jobs SET state = 'cancelled', error = ?, finished_at = ? WHERE id = ? AND state = 'queued'",
  );
  const markCancelled = db.query<unknown, [string, number, number]>(
    "UPDATE jobs SET state = 'cancelled', error = ?, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')",
  );
  const lastRun = db.query<{ started_at: number; finished_at: number | null; payload: string }, [string]>(
    "SELECT started_at, finished_at, payload FROM jobs WHERE dedupe_key = ? AND started_at IS NOT NULL ORDER BY started_at DESC LIMIT 1",
  );
  const setGeneration = db.query<unknown, [number, number]>("UPDATE jobs SET generation = max(generation, ?) WHERE id = ?");
  const staleOfDataset = db.query<JobRow, [number, number]>("SELECT * FROM jobs WHERE dataset_id = ? AND generation < ? AND state IN ('queued', 'running')");
  const requeue = db.query<unknown, [string | null, number, number]>(
    "UPDATE jobs SET state = 'queued', progress = 0, error = ?, started_at = NULL, finished_at = NULL, run_after = ? WHERE id = ?",
  );
  const interrupted = db.query<{ id: number }, []>("SELECT id FROM jobs WHERE state = 'running'");
  const list = db.query<JobRow, [string | null, string | null, number | null, number]>(
    "SELECT * FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR dataset_id = ?3) ORDER BY id DESC LIMIT ?4",
  );
  const activeOfDataset = db.query<JobRow, [number, string]>(
    "SELECT * FROM jobs WHERE dataset_id = ? AND kind = ? AND state IN ('queued', 'running') ORDER BY id DESC",
  );
  const lastOfDataset = db.query<JobRow, [number, string]>("SELECT * FROM jobs WHERE dataset_id = ? AND kind = ? ORDER BY id DESC LIMIT 1");
  const datasetLocation = db.query<{ path: string; uid: string; state: string }, [number]>("SELECT path, uid, state FROM datasets WHERE id = ?");
  const byKindAndState = db.query<{ kind: string; state: JobRow["state"]; n: number }, []>(
    "SELECT kind, state, count(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state",
  );
  // Through the queue index (state first): the history of done jobs is never read, failed ones only in the index.
  const live = db.query<{ state: "queued" | "running" | "failed"; n: number }, []>(
    "SELECT state, count(*) AS n FROM jobs WHERE state IN ('queued', 'running', 'failed') GROUP BY state",
  );
  const queuedTimes = db.query<{ oldest: number | null; due: number | null }, []>(
    "SELECT MIN(created_at) AS oldest, MIN(run_after) AS due FROM jobs WHERE state = 'queued'",
  );
  const datasetGeneration = db.query<{ generation: number }, [number]>("SELECT generation FROM datasets WHERE id = ?");

  return {
    /** Queues a job, or refreshes the queued twin with the same dedupe key (newer generation, later start). */
    enqueue(job: NewJob, now: number): number {
      return db
        .transaction(() => {
          if (job.dedupeKey) {
            const twin = queuedTwin.get(job.dedupeKey);
            if (twin) {
              const payload = job.merge ? job.merge(parsePayload(twin.payload)) : job.payload;
              refreshTwin.run(Math.max(job.generation, twin.generation), JSON.stringify(payload ?? {}), job.runAfter, twin.id);
              return twin.id;
            }
          }
          const row = insert.get(
            job.kind,
            job.datasetId,
            job.generation,
            JSON.stringify(job.payload ?? {}),
            job.priority,
            now,
            job.runAfter,
            job.dedupeKey ?? null,
          );
          return row!.id;
        })
        .immediate();
    },
    /** Takes the highest-priority due job and marks it running, atomically so two loops never share one. */
    claimNext(now: number, skipKinds: readonly string[] = []): JobRow | null {
      return db
        .transaction(() => {
          const row = nextDue.get(now, JSON.stringify(skipKinds));
          if (!row) return null;
          claim.run(now, row.id);
          return byId.get(row.id);
        })
        .immediate();
    },
    /** When the earliest waiting job becomes due, so the loop can sleep until then. */
    earliestRunAfter(skipKinds: readonly string[] = []): number | null {
      return earliestWait.get(JSON.stringify(skipKinds))?.at ?? null;
    },
    progress(id: number, fraction: number): void {
      setProgress.run(fraction, id);
    },
    finish(id: number, state: "done" | "failed" | "cancelled", error: string | null, now: number): void {
      finish.run(state, error, now, id);
    },
    get(id: number): JobRow | null {
      return byId.get(id);
    },
    cancelQueued(id: number, reason: string, now: number): boolean {
      return cancelQueued.run(reason, now, id).changes > 0;
    },
    markCancelled(id: number, reason: string, now: number): boolean {
      return markCancelled.run(reason, now, id).changes > 0;
    },
    /** Jobs of a dataset queued for an older generation than the given one, still queued or running. */
    /** When the latest run of a deduplicated job started and (unless still running) finished, and its payload. */
    lastRun: (dedupeKey: string) => lastRun.get(dedupeKey) ?? undefined,
    /** Carries a job over to a newer generation of its dataset (a change that did not touch its inputs). */
    carryOver: (id: number, generation: number) => void setGeneration.run(generation, id),
    stale(datasetId: number, generation: number): JobRow[] {
      return staleOfDataset.all(datasetId, generation);
    },
    requeue(id: number, runAfter: number, note: string | null = null): void {
      requeue.run(note, runAfter, id);
    },
    /** Jobs left "running" by a process that died: the new process starts them again. */
    interrupted(): number[] {
      return interrupted.all().map((r) => r.id);
    },
    list(filter: { state?: string; kind?: string; datasetId?: number; limit: number }): JobRow[] {
      return list.all(filter.state ?? null, filter.kind ?? null, filter.datasetId ?? null, filter.limit);
    },
    active(datasetId: number, kind: string): JobRow[] {
      return activeOfDataset.all(datasetId, kind);
    },
    last(datasetId: number, kind: string): JobRow | null {
      return lastOfDataset.get(datasetId, kind);
    },
    /** Where a dataset is, for jobs that run in its folder. */
    datasetLocation(datasetId: number): { path: string; uid: string; present: boolean } | null {
      const row = datasetLocation.get(datasetId);
      return row ? { path: row.path, uid: row.uid, present: row.state === "present" } : null;
    },
    /** Every job counted by kind and state (a scrape of `/metrics`). */
    countsByKindAndState: () => byKindAndState.all(),
    /** Queued, running and failed jobs counted, with the creation time of the oldest queued one and when the first is due. */
    liveCounts(): { queued: number; running: number; failed: number; oldestQueuedAt: number | null; firstDueAt: number | null } {
      const counts = { queued: 0, running: 0, failed: 0 };
      for (const r of live.all()) counts[r.state] = r.n;
      const times = counts.queued > 0 ? queuedTimes.get() : null;
      return { ...counts, oldestQueuedAt: times?.oldest ?? null, firstDueAt: times?.due ?? null };
    },
    /** The dataset's current generation, or null when the dataset row is gone. */
    generation(datasetId: number): number | null {
      return datasetGeneration.get(datasetId)?.generation ?? null;
    },
  };
}

/** The queue's statements bound to one database. */
export type JobsRepo = ReturnType<typeof jobsRepo>;
