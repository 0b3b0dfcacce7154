// The built-in metadata extraction as a job kind: a file-type rule with `action = "extract"` queues it when files it
// reads change (config DEFAULT_RULES has one), and it rewrites the dataset's `Scan` and `Image` subtrees.
import { isVolumeInput } from "../preview/readers/index.ts";
import type { JobKind } from "../jobs/job.types.ts";
import { extractDataset } from "./extract.service.ts";
import { extractRepo } from "./extract.repo.ts";
import { log } from "../log.ts";

/** The job kind (and rule action) of the built-in extractors. */
export const EXTRACT_JOB = "extract";
/** Above previews (10), below rule commands (20): tags are cheap and people search by them while tiles are built. */
const EXTRACT_PRIORITY = 15;

/** Whether a changed file concerns the extractors: whatever the readers read, and SkyScan logs. */
export function isExtractInput(rel: string): boolean {
  return isVolumeInput(rel) || (/\.log$/i.test(rel) && !rel.startsWith(".mata/") && !rel.includes("/.mata/"));
}

/** The extraction job kind, registered with the other features' kinds (src/services.ts). */
export function extractJob(): JobKind {
  return {
    name: EXTRACT_JOB,
    priority: EXTRACT_PRIORITY,
    inputs: (file) => isExtractInput(file),
    async handler(job, run) {
      if (job.datasetId === null) throw new Error("an extract job needs a dataset");
      await extractDataset(run.ctx, job.datasetId, run.signal);
    },
    // Datasets the extractors have not seen at their current generation (all of them after an upgrade, those changed
    // while stopped) are queued once the queue starts, when a rule runs extraction at all.
    start(ctx, queue, settleMs) {
      if (!ctx.config.rules.some((r) => r.action === EXTRACT_JOB)) return;
      const behind = extractRepo(ctx.db).behind();
      for (const d of behind) queue.enqueue(EXTRACT_JOB, { datasetId: d.id, generation: d.generation, delayMs: settleMs, dedupeKey: `${EXTRACT_JOB}:${d.id}` });
      if (behind.length > 0) log.info("metadata extraction queued for datasets not seen yet", { datasets: behind.length });
    },
  };
}
