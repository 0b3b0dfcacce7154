import path from "node:path";
import type { AppContext, DatasetSeen } from "../context.ts";
import { datasetsRepo } from "../datasets/datasets.repo.ts";
import { log } from "../log.ts";
import { describeDataset } from "../datasets/describe.service.ts";
import { setParents } from "../relations/relations.service.ts";
import { getTagTree, replaceTags } from "../tags/tags.service.ts";
import { DEMO_METADATA } from "./demo.metadata.ts";

const ACTOR = "mata-demo";

/**
 * Describes each demo dataset the first time the scanner sees it: title, description, tags, and parents
 * once they are present. Anything a person has already written is left alone, so restarts change nothing.
 */
export function demoMetadataListener(ctx: AppContext): (seen: DatasetSeen) => void {
  return (seen) => {
    const meta = DEMO_METADATA[path.basename(seen.path)];
    if (!meta) return;
    const repo = datasetsRepo(ctx.db);
    const d = repo.get(seen.datasetId);
    if (!d) return;
    try {
      if (!d.title && !d.description) describeDataset(ctx, ACTOR, d.id, { title: meta.title, description: meta.description });
      if (d.tags_version === 1 && getTagTree(ctx.db, d.id).length === 0) replaceTags(ctx, ACTOR, d.id, meta.tags);
      if (meta.parents.length && repo.parentIds(d.id).length === 0) {
        const parents = meta.parents.map((p) => repo.byPath(path.posix.join(path.posix.dirname(seen.path), p))?.id);
        if (parents.every((p) => p !== undefined)) setParents(ctx, ACTOR, d.id, parents as number[]);
      }
    } catch (e) {
      log.warn("demo metadata not applied", { dataset: seen.path, error: String(e) });
    }
  };
}
