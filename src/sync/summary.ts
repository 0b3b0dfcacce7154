/** What one reconcile did, as `mata scan --json` prints it. */
export interface SyncSummary {
  datasets: { added: number; removed: number; renamed: number; copied: number; restored: number; present: number };
  files: { added: number; removed: number; modified: number; renamed: number; copied: number; present: number };
  /** Problems that did not stop the scan (an unreadable folder, a sidecar that could not be written...). */
  errors: string[];
  /** Dataset paths holding files still being written, to look at again (watcher runs only). */
  retry: string[];
  ms: number;
}

/** An all-zero summary to count into. */
export function emptySummary(): SyncSummary {
  return {
    datasets: { added: 0, removed: 0, renamed: 0, copied: 0, restored: 0, present: 0 },
    files: { added: 0, removed: 0, modified: 0, renamed: 0, copied: 0, present: 0 },
    errors: [],
    retry: [],
    ms: 0,
  };
}
