// How the sync engine stands, kept per instance for /api/v1/health and /metrics: the watcher's state and the outcome
// of the last reconcile.

/** The watcher's state; `off` in a process that runs none (`mata scan`, in-process tests). */
export type WatcherState = { state: "off" } | { state: "starting" | "running" | "stopped"; since: number } | { state: "failed"; since: number; reason: string };

/** The last reconcile's outcome; its error stays in the log (it may name paths). */
export interface ReconcileOutcome {
  at: number;
  ms: number;
  full: boolean;
  ok: boolean;
}

/** The sync engine's state of one instance (`ctx.services.sync`). */
export class SyncStatus {
  watcher: WatcherState = { state: "off" };
  lastReconcile: ReconcileOutcome | null = null;
  lastFullReconcile: ReconcileOutcome | null = null;

  reconciled(outcome: ReconcileOutcome): void {
    this.lastReconcile = outcome;
    if (outcome.full) this.lastFullReconcile = outcome;
  }
}

/**
 * Whether a watcher error means it no longer sees everything: the kernel's inotify watch or open-file limits. Other
 * errors (a folder removed while being added) are passing, and the periodic reconcile covers what they missed.
 */
export function watcherBroken(error: unknown): string | null {
  const code = String((error as { code?: unknown })?.code ?? "");
  const text = String((error as Error)?.message ?? error);
  if (code === "ENOSPC" || /ENOSPC|file watchers/i.test(text)) return "the inotify watch limit is reached (raise fs.inotify.max_user_watches)";
  if (code === "EMFILE" || code === "ENFILE" || /EMFILE|ENFILE|too many open files/i.test(text))
    return "too many open files (raise LimitNOFILE or fs.inotify.max_user_instances)";
  return null;
}
