import { existsSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../context.ts";
import { notFound } from "../errors.ts";
import { previewRepo } from "./preview.repo.ts";
import { listPreviews, previewDir, previewSummary, previewView, type PreviewSummary, type PreviewView } from "./preview.service.ts";

/** What a tile URL resolves to: a file on disk with its kind, or a JSON body. */
export type PreviewTarget =
  | { kind: "info" | "thumbnail"; file: string }
  | { kind: "tile"; file: string; contentType: string }
  | { kind: "json"; body: PreviewView };

const CHUNK = /^\d{1,9}-\d{1,9}_\d{1,9}-\d{1,9}_\d{1,9}-\d{1,9}$/;

/** The dataset's preview status for the dataset page and API: the summary and each preview. */
export function previewStatus(ctx: AppContext, datasetId: number): { title: string; preview: PreviewSummary; previews: PreviewView[] } {
  const ds = previewRepo(ctx.db).dataset(datasetId);
  if (!ds) throw notFound(`No dataset with id ${datasetId}`);
  return { title: ds.title || ds.path, preview: previewSummary(ctx.db, datasetId, ctx.clock.now()), previews: listPreviews(ctx.db, datasetId) };
}

/**
 * Resolves `{n}`, `{n}/thumbnail`, `{n}/tiles/info` and `{n}/tiles/{scale}/{chunk}` of a dataset's previews to
 * a file inside that preview's folder; anything else, or a preview not ready, is a 404.
 */
export function previewFile(ctx: AppContext, datasetId: number, rest: string): PreviewTarget {
  const parts = rest.split("/");
  const n = parts[0] ?? "";
  if (!/^\d{1,6}$/.test(n)) throw notFound(`No preview ${JSON.stringify(n)}`);
  const row = previewRepo(ctx.db).get(datasetId, Number(n));
  if (!row) throw notFound(`Dataset ${datasetId} has no preview ${n}`);
  if (parts.length === 1) return { kind: "json", body: previewView(row) };
  if (row.state !== "ready") throw notFound(`Preview ${n} of dataset ${datasetId} is ${row.state}, not ready`);
  const dir = previewDir(ctx, row.content_key);
  let target: PreviewTarget | null = null;
  if (parts.length === 2 && parts[1] === "thumbnail") target = { kind: "thumbnail", file: path.join(dir, "thumb.jpg") };
  else if (parts.length === 3 && parts[1] === "tiles" && parts[2] === "info") target = { kind: "info", file: path.join(dir, "info") };
  else if (parts.length === 4 && parts[1] === "tiles" && /^\d{1,2}$/.test(parts[2]!) && CHUNK.test(parts[3]!)) {
    target = { kind: "tile", file: path.join(dir, parts[2]!, parts[3]!), contentType: "image/jpeg" };
  }
  if (!target || !existsSync(target.file)) throw notFound(`No ${rest} in preview ${n} of dataset ${datasetId}`);
  return target;
}
