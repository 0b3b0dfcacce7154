import { MESH_FILE, MESH_THUMB } from "./tiler.child.ts";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../context.ts";
import { notFound } from "../errors.ts";
import { TILE, type ScaleInfo } from "./pyramid.ts";
import { listPreviews, previewDir, previewSummary, previewView, type PreviewSummary, type PreviewView } from "./preview.service.ts";

/** What a tile URL resolves to: a file on disk with its kind, or a JSON body. */
export type PreviewTarget =
  { kind: "info" | "thumbnail"; file: string } | { kind: "tile" | "mesh"; file: string; contentType: string } | { kind: "json"; body: PreviewView };

const CHUNK = /^\d{1,9}-\d{1,9}_\d{1,9}-\d{1,9}_\d{1,9}-\d{1,9}$/;

/** The dataset's preview status for the dataset page and API: the summary and each preview. */
export function previewStatus(ctx: AppContext, datasetId: number): { title: string; preview: PreviewSummary; previews: PreviewView[] } {
  const ds = ctx.services.preview.repo.dataset(datasetId);
  if (!ds) throw notFound(`No dataset with id ${datasetId}`);
  return { title: ds.title || ds.path, preview: previewSummary(ctx, datasetId), previews: listPreviews(ctx, datasetId) };
}

/**
 * Resolves `{n}`, `{n}/thumbnail`, `{n}/tiles/info` and `{n}/tiles/{scale}/{chunk}` of a dataset's previews to
 * a file inside that preview's folder; anything else, or a preview not ready, is a 404.
 */
export function previewFile(ctx: AppContext, datasetId: number, rest: string): PreviewTarget {
  const parts = rest.split("/");
  const n = parts[0] ?? "";
  if (!/^\d{1,6}$/.test(n)) throw notFound(`No preview ${JSON.stringify(n)}`);
  const row = ctx.services.preview.repo.get(datasetId, Number(n));
  if (!row) throw notFound(`Dataset ${datasetId} has no preview ${n}`);
  if (parts.length === 1) return { kind: "json", body: previewView(row) };
  if (row.state !== "ready") throw notFound(`Preview ${n} of dataset ${datasetId} is ${row.state}, not ready`);
  const dir = previewDir(ctx, row.content_key);
  let target: PreviewTarget | null = null;
  if (parts.length === 2 && parts[1] === "thumbnail" && row.kind !== "mesh") target = { kind: "thumbnail", file: path.join(dir, "thumb.jpg") };
  else if (parts.length === 2 && parts[1] === "thumbnail") target = { kind: "mesh", file: path.join(dir, MESH_THUMB), contentType: "image/png" };
  else if (parts.length === 2 && parts[1] === MESH_FILE && row.kind === "mesh")
    target = { kind: "mesh", file: path.join(dir, MESH_FILE), contentType: "model/gltf-binary" };
  else if (parts.length === 3 && parts[1] === "tiles" && parts[2] === "info") target = { kind: "info", file: path.join(dir, "info") };
  else if (parts.length === 4 && parts[1] === "tiles" && /^\d{1,2}$/.test(parts[2]!) && CHUNK.test(parts[3]!)) {
    target = { kind: "tile", file: path.join(dir, parts[2]!, parts[3]!), contentType: "image/jpeg" };
  }
  if (!target || !existsSync(target.file)) throw notFound(`No ${rest} in preview ${n} of dataset ${datasetId}`);
  return target;
}

/** True when a chunk name is one of the scale's XY, XZ or YZ chunks (so the file exists in a complete build). */
export function isChunk(scale: ScaleInfo, chunk: string): boolean {
  const m = CHUNK_PARTS.exec(chunk);
  if (!m) return false;
  const [x0, x1, y0, y1, z0, z1] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const [w, h, d] = scale.size;
  const grid = (a: number, b: number, size: number) => a % TILE === 0 && a < size && b === Math.min(a + TILE, size);
  const one = (a: number, b: number, size: number) => a < size && b === a + 1;
  return scale.chunk_sizes.some(
    ([cx, cy, cz]) =>
      (cx === 1 ? one(x0, x1, w) : grid(x0, x1, w)) && (cy === 1 ? one(y0, y1, h) : grid(y0, y1, h)) && (cz === 1 ? one(z0, z1, d) : grid(z0, z1, d)),
  );
}

const CHUNK_PARTS = /^(\d{1,9})-(\d{1,9})_(\d{1,9})-(\d{1,9})_(\d{1,9})-(\d{1,9})$/;

/**
 * Answers a tile request with no file-system call but the send itself: the chunk name is checked against the
 * scale's grid, and the validators come from the content key (tiles of a key never change), so a revalidation
 * is a 304 straight from memory.
 */
export function serveTile(ctx: AppContext, datasetId: number, n: number, scaleKey: string, chunk: string, req: Request, cacheControl: string): Response {
  const row = ctx.services.preview.row(datasetId, n);
  if (!row) throw notFound(`Dataset ${datasetId} has no preview ${n}`);
  if (row.state !== "ready") throw notFound(`Preview ${n} of dataset ${datasetId} is ${row.state}, not ready`);
  const dir = previewDir(ctx, row.content_key);
  const scales = ctx.services.preview.scales(
    row.content_key,
    () => (JSON.parse(readFileSync(path.join(dir, "info"), "utf8")) as { scales: ScaleInfo[] }).scales,
  );
  const scale = scales[Number(scaleKey)];
  if (!scale || scale.key !== scaleKey || !isChunk(scale, chunk)) throw notFound(`No tile ${scaleKey}/${chunk} in preview ${n} of dataset ${datasetId}`);
  const etag = `"${row.content_key}/${scaleKey}/${chunk}"`;
  const lastModified = new Date(Math.floor(row.updated_at / 1000) * 1000).toUTCString();
  const headers = {
    ETag: etag,
    "Last-Modified": lastModified,
    "Cache-Control": cacheControl,
    "Content-Type": scale.encoding === "jpeg" ? "image/jpeg" : "application/octet-stream",
    "X-Content-Type-Options": "nosniff",
  };
  const inm = req.headers.get("If-None-Match");
  const ims = req.headers.get("If-Modified-Since");
  if ((inm !== null && inm === etag) || (inm === null && ims !== null && Date.parse(ims) >= row.updated_at - (row.updated_at % 1000)))
    return new Response(null, { status: 304, headers });
  return new Response(Bun.file(path.join(dir, scaleKey, chunk)), { headers });
}
