import type { AppContext } from "../context.ts";
import { changeTagsBy } from "../tags/tags.service.ts";
import type { TagNode } from "../tags/tag.types.ts";
import { storedPath } from "../sync/names.ts";
import { log } from "../log.ts";
import { extractRepo, type FailureRow } from "./extract.repo.ts";
import { extractFiles, IMAGE_KEY, SCAN_KEY } from "./extractors.ts";
import { mergeOwned } from "./owned-tags.ts";

/** Who the audit log and the events name for tags the built-in extractors write. */
export const EXTRACT_ACTOR = "mata:extract";
/** The name a built-in extractors' failure is recorded under (plug-ins use their subtree's name). */
export const EXTRACT_SOURCE = "extract";

/** How many unreadable files a recorded failure names before it says "and N more". */
const PROBLEMS_SHOWN = 3;

/**
 * Writes sources' subtrees (each `{ key: source, children }`, null when it found nothing) into a dataset's tags
 * through the tags service (one versioned change, its event, audit entry and sidecar mirror), keeping every key a
 * person set or edited; the ownership record changes in the same transaction.
 */
export function writeOwnedTags(ctx: AppContext, actor: string, datasetId: number, subtrees: { source: string; tree: TagNode | null }[]): boolean {
  const repo = extractRepo(ctx.db);
  let changedAny = false;
  changeTagsBy(ctx, actor, datasetId, "tags.extracted", (current) => {
    let tags = current;
    const sources: string[] = [];
    for (const { source, tree } of subtrees) {
      const merged = mergeOwned(tags, tree, repo.owned(datasetId, source));
      for (const op of merged.ops) {
        if ("forget" in op) repo.disown(datasetId, op.keyPath);
        else repo.own(datasetId, source, op.keyPath, op.value);
      }
      if (merged.changed) sources.push(source);
      tags = merged.tags;
    }
    changedAny = sources.length > 0;
    return { tags, unchanged: !changedAny, detail: { sources } };
  });
  return changedAny;
}

/**
 * Runs the built-in extractors over a dataset's files and writes `Scan` and `Image`, records which identifying DICOM
 * attributes its files carry (names only), and records or clears the extractors' failure on the dataset.
 */
export async function extractDataset(ctx: AppContext, datasetId: number, signal: AbortSignal): Promise<void> {
  const repo = extractRepo(ctx.db);
  const ds = repo.dataset(datasetId);
  if (!ds || ds.state !== "present") return;
  // In stored form (names that are not UTF-8 escaped): the readers open it by its exact bytes, beneath the root.
  const got = await extractFiles(`${storedPath(ctx.config.root)}/${ds.path}`, repo.files(datasetId), signal);
  signal.throwIfAborted();
  writeOwnedTags(ctx, EXTRACT_ACTOR, datasetId, [
    { source: SCAN_KEY, tree: got.scan },
    { source: IMAGE_KEY, tree: got.image },
  ]);
  ctx.db.transaction(() => {
    repo.ran(datasetId, ds.generation, ctx.clock.now());
    repo.setIdentifiers(datasetId, got.identifiers);
    if (got.problems.length === 0) repo.succeed(datasetId, EXTRACT_SOURCE);
    else {
      const more = got.problems.length > PROBLEMS_SHOWN ? `; and ${got.problems.length - PROBLEMS_SHOWN} more` : "";
      repo.fail(datasetId, EXTRACT_SOURCE, `${got.problems.slice(0, PROBLEMS_SHOWN).join("; ")}${more}`, ctx.clock.now());
    }
  })();
  if (got.problems.length > 0) log.info("metadata extraction skipped unreadable files", { datasetId, files: got.problems.length });
}

/** What a dataset's page and detail JSON say about extraction, for those who may read the dataset. */
export interface ExtractionView {
  /** Identifying attributes (PS3.15 keywords) its DICOM files carry; empty when none. */
  identifiers: string[];
  /** Extractors and plug-ins whose last run on it failed. */
  failures: FailureRow[];
}

/** The detail JSON's `privacy` and `extraction` members, each present only when there is something to say. */
export function extractionDetail(ctx: AppContext, datasetId: number) {
  const v = extractionView(ctx, datasetId);
  return {
    ...(v.identifiers.length > 0 ? { privacy: { identifiers: v.identifiers } } : {}),
    ...(v.failures.length > 0 ? { extraction: { failures: v.failures.map((f) => ({ ...f, at: new Date(f.at).toISOString() })) } } : {}),
  };
}

/** The privacy flag and the extraction failures of a dataset. */
export function extractionView(ctx: AppContext, datasetId: number): ExtractionView {
  const repo = extractRepo(ctx.db);
  return { identifiers: repo.identifiers(datasetId).map((i) => i.attribute), failures: repo.failures(datasetId) };
}
