import type { Database } from "bun:sqlite";
import { metadataChanged, type AppContext } from "../context.ts";
import { conflict, notFound } from "../errors.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { tagChange } from "./tag-diff.ts";
import { relationsRepo } from "../relations/relations.repo.ts";
import { checkLimits } from "./tag-validate.ts";
import { applyOp, countTags, type TagOp } from "./tag-tree.ts";
import type { TagNode } from "./tag.types.ts";
import { tagsRepo } from "./tags.repo.ts";

/** The tag tree of a dataset in the user's order (the lead's detail JSON and the pages read it). */
export function getTagTree(db: Database, datasetId: number): TagNode[] {
  return tagsRepo(db).tree(datasetId);
}

/** A tag tree and the version it was read at: the editor sends the version back with its next change. */
export interface VersionedTags {
  tags: TagNode[];
  tagsVersion: number;
}

/** The tree and its version, or 404. */
export function readTags(ctx: AppContext, datasetId: number): VersionedTags {
  const repo = tagsRepo(ctx.db);
  const tagsVersion = repo.tagsVersion(datasetId);
  if (tagsVersion === undefined) throw notFound(`No dataset with id ${datasetId}`);
  return { tags: repo.tree(datasetId), tagsVersion };
}

function staleTags(current: VersionedTags, expected: number) {
  return conflict(
    `Someone else changed these tags since you loaded them (you had version ${expected}, now ${current.tagsVersion}). ` +
      `Your change was not applied and theirs was kept; here are the current tags: reload and apply yours again.`,
    { current },
  );
}

/**
 * Runs one change of a dataset's tree atomically: read, check the version, compute, check limits, replace,
 * bump tags_version, log the event; then mirror to the sidecar. Two editors racing: one wins, one gets 409.
 */
function changeTags<T>(
  ctx: AppContext,
  actor: string,
  datasetId: number,
  expectedVersion: number | undefined,
  compute: (current: TagNode[]) => { tags: TagNode[]; event: string; detail: Record<string, unknown>; result: T; unchanged?: boolean },
): VersionedTags & { result: T } {
  const repo = tagsRepo(ctx.db);
  const out = ctx.db
    .transaction(() => {
      const current = readTags(ctx, datasetId);
      if (expectedVersion !== undefined && expectedVersion !== current.tagsVersion) throw staleTags(current, expectedVersion);
      const next = compute(current.tags);
      if (next.unchanged) return { tags: current.tags, tagsVersion: current.tagsVersion, result: next.result, unchanged: true };
      checkLimits(next.tags);
      const now = ctx.clock.now();
      const tagsVersion = repo.replace(datasetId, next.tags, now);
      eventsRepo(ctx.db).record(now, next.event, datasetId, { ...next.detail, tagsVersion, tags: countTags(next.tags) }, actor);
      const change = tagChange(current.tags, next.tags);
      recordAudit(ctx, {
        action: "tags.edit",
        actor,
        datasetId,
        before: change.before,
        after: change.after,
        detail: { how: next.event.slice("tags.".length), tagsVersion, ...(change.reordered ? { reordered: true } : {}) },
      });
      return { tags: next.tags, tagsVersion, result: next.result, unchanged: false };
    })
    .immediate();
  if (!out.unchanged) metadataChanged(ctx, datasetId);
  return { tags: out.tags, tagsVersion: out.tagsVersion, result: out.result };
}

/** Replaces the whole ordered tree (`PUT .../tags`); the tree must already be parsed by `parseTagTree`. */
export function replaceTags(ctx: AppContext, actor: string, datasetId: number, tags: TagNode[], expectedVersion?: number): VersionedTags {
  const { tags: t, tagsVersion } = changeTags(ctx, actor, datasetId, expectedVersion, () => ({ tags, event: "tags.replaced", detail: {}, result: null }));
  return { tags: t, tagsVersion };
}

/**
 * Changes a dataset's tags on Mata's own behalf (metadata extractors and plug-ins, src/extract/): `compute` runs inside
 * the change's transaction, so whatever it reads or records beside the tree is of the same moment as the tree.
 */
export function changeTagsBy(
  ctx: AppContext,
  actor: string,
  datasetId: number,
  event: string,
  compute: (current: TagNode[]) => { tags: TagNode[]; unchanged: boolean; detail: Record<string, unknown> },
): VersionedTags {
  const { tags, tagsVersion } = changeTags(ctx, actor, datasetId, undefined, (current) => ({ ...compute(current), event, result: null }));
  return { tags, tagsVersion };
}

/** Applies editor operations (add, edit, delete subtree, reorder, nest, move) as one change, at the version the editor showed. */
export function applyTagOps(ctx: AppContext, actor: string, datasetId: number, ops: TagOp[], expectedVersion: number): VersionedTags {
  const { tags, tagsVersion } = changeTags(ctx, actor, datasetId, expectedVersion, (current) => ({
    tags: ops.reduce(applyOp, current),
    event: "tags.edited",
    detail: { ops: ops.map((o) => o.op), keys: ops.flatMap((o) => ("key" in o ? [o.key] : [])) },
    result: null,
  }));
  return { tags, tagsVersion };
}

/** What an import from parents brought in and what it left alone. */
export interface ImportReport {
  imported: { key: string; value: string; children: number; from: { id: number; title: string } }[];
  skipped: { key: string; from: { id: number; title: string } }[];
  parents: number;
}

const fold = (k: string) => k.trim().toLowerCase();

function subtreeSize(n: TagNode): number {
  return 1 + countTags(n.children);
}

/**
 * Copies every top-level tag of every parent whose key this dataset does not have yet, with its children:
 * keys already set are never overwritten and no key is added twice (compared case-insensitively).
 */
export function importFromParents(ctx: AppContext, actor: string, datasetId: number, expectedVersion?: number): VersionedTags & { report: ImportReport } {
  const { tags, tagsVersion, result } = changeTags(ctx, actor, datasetId, expectedVersion, (current) => {
    // Read inside the transaction, so the parents and their tags are those of one moment.
    const parents = relationsRepo(ctx.db).parents(datasetId);
    const have = new Set(current.map((t) => fold(t.key)));
    const report: ImportReport = { imported: [], skipped: [], parents: parents.length };
    const added: TagNode[] = [];
    for (const p of parents) {
      const from = { id: p.id, title: p.title || p.path };
      for (const t of tagsRepo(ctx.db).tree(p.id)) {
        if (have.has(fold(t.key))) {
          report.skipped.push({ key: t.key, from });
          continue;
        }
        have.add(fold(t.key));
        added.push(t);
        report.imported.push({ key: t.key, value: t.value, children: subtreeSize(t) - 1, from });
      }
    }
    return {
      tags: [...current, ...added],
      unchanged: added.length === 0,
      event: "tags.imported",
      detail: { imported: report.imported.map((i) => i.key), parents: parents.map((p) => p.id) },
      result: report,
    };
  });
  return { tags, tagsVersion, report: result };
}
