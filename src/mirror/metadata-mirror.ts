import { lstatSync } from "node:fs";
import type { AppContext, DatasetSeen } from "../context.ts";
import { log } from "../log.ts";
import { describeRepo } from "../datasets/describe.repo.ts";
import { relationsRepo } from "../relations/relations.repo.ts";
import { fsPath } from "../sync/names.ts";
import { hasSidecarFile, writeMetadataMirror } from "../sync/sidecar.ts";
import { tagsRepo } from "../tags/tags.repo.ts";

/**
 * Copies a dataset's committed metadata into its `.mata/metadata.json`, so `mata rebuild` can recover it
 * from the share. Runs after the database commit: the database is the truth, so a failed mirror write
 * (folder gone, disk full) is logged and repaired by the next edit rather than undoing the user's change.
 */
export function mirrorMetadata(ctx: AppContext, datasetId: number): boolean {
  const d = describeRepo(ctx.db).get(datasetId);
  if (!d || d.state !== "present") return false;
  const mirror = {
    title: d.title,
    description: d.description,
    tags: tagsRepo(ctx.db).tree(datasetId),
    parents: relationsRepo(ctx.db)
      .parents(datasetId)
      .map((p) => p.uid),
    updatedAt: ctx.clock.now(),
  };
  // The exact bytes of a folder name that is not UTF-8 (src/sync/names.ts).
  const abs = fsPath(ctx.config.root, d.path);
  // Never re-create a folder that vanished since the last scan (writing `.mata/` would): the scan decides what it means.
  if (!isFolder(abs)) {
    log.warn("metadata mirror skipped: the dataset folder is not there", { datasetId, path: d.path });
    return false;
  }
  try {
    writeMetadataMirror(abs, mirror);
    return true;
  } catch (err) {
    log.warn("could not write the metadata mirror", { datasetId, path: d.path, error: String(err) });
    return false;
  }
}

function isFolder(p: string | Buffer): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Keeps every dataset's mirror in step: after each metadata change, and when a scan finds one gone. */
export function attachMetadataMirror(ctx: AppContext): void {
  ctx.hooks.metadataChanged.push((datasetId) => mirrorMetadata(ctx, datasetId));
  ctx.hooks.datasetSeen.push(restoreLostMirrors(ctx));
}

/** A reconcile listener that writes the mirror of a dataset whose `.mata/metadata.json` is gone (a user deleted `.mata/`). */
function restoreLostMirrors(ctx: AppContext): (seen: DatasetSeen) => void {
  return ({ datasetId, path: rel }) => {
    if (!hasSidecarFile(fsPath(ctx.config.root, rel), "metadata.json")) mirrorMetadata(ctx, datasetId);
  };
}
