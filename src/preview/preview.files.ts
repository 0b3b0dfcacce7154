import { MESH_FILE, MESH_THUMB } from "./tiler.child.ts";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../context.ts";
import { notFound } from "../errors.ts";
import { locateChunk, ORIENTATIONS, readRange, type Orientation, type ScaleInfo } from "./layout.ts";
import type { CachedTile } from "./tile.cache.ts";
import { SECURITY_HEADERS } from "../web/security-headers.ts";
import { listPreviews, previewSummary, previewVersion, previewView, servedDir, type PreviewSummary, type PreviewView } from "./preview.service.ts";

/** A tile's URL after `/api/v1/datasets/{id}/previews/`: `{n}/tiles/{scale}/{chunk}`. */
export const TILE_PATH = /^(\d{1,6})\/tiles\/(\d{1,2})\/([\d_-]{11,64})$/;

// Tiles are named by content: a changed volume gets a new content key, so a tile URL's bytes never change
// while the preview row points at it; browsers may keep them for a year and revalidate with the ETag.
export const TILE_CACHE = "private, max-age=31536000, immutable";

/** What a tile URL resolves to: a file on disk with its kind, or a JSON body. */
export type PreviewTarget =
  | { kind: "info" | "thumbnail"; file: string; coarse?: boolean }
  | { kind: "tile" | "mesh"; file: string; contentType: string; coarse?: boolean }
  | { kind: "json"; body: PreviewView };

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
  const dir = servedDir(ctx, row);
  let target: PreviewTarget | null = null;
  if (parts.length === 2 && parts[1] === "thumbnail" && row.kind !== "mesh") target = { kind: "thumbnail", file: path.join(dir, "thumb.jpg") };
  else if (parts.length === 2 && parts[1] === "thumbnail") target = { kind: "mesh", file: path.join(dir, MESH_THUMB), contentType: "image/png" };
  else if (parts.length === 2 && parts[1] === MESH_FILE && row.kind === "mesh")
    target = { kind: "mesh", file: path.join(dir, MESH_FILE), contentType: "model/gltf-binary" };
  else if (parts.length === 3 && parts[1] === "tiles" && parts[2] === "info") target = { kind: "info", file: path.join(dir, "info") };
  else if (parts[1] === "tiles" && ORIENTATIONS.includes(parts[2] as Orientation)) {
    // One orientation's sharded volume as Neuroglancer reads it: its info, and its shard files by byte range.
    if (parts.length === 4 && parts[3] === "info") target = { kind: "info", file: path.join(dir, parts[2]!, "info") };
    else if (parts.length === 5 && /^\d{1,2}$/.test(parts[3]!) && /^[0-9a-f]{1,16}\.shard$/.test(parts[4]!))
      target = { kind: "tile", file: path.join(dir, parts[2]!, parts[3]!, parts[4]!), contentType: "application/octet-stream" };
  }
  if (!target || !existsSync(target.file)) throw notFound(`No ${rest} in preview ${n} of dataset ${datasetId}`);
  return { ...target, coarse: row.coarse === 1 };
}

/**
 * Answers a tile request with no file-system call but one read once its shard's index is cached, and none at all for
 * a tile served recently: the chunk name is mapped to its orientation, grid cell and byte range in a shard file, and
 * the validators come from the content key (tiles of a key never change), so a revalidation is a 304 from memory.
 * The answer's headers (the security headers among them, as every answer has) are built once per tile and kept with it.
 */
export function serveTile(ctx: AppContext, datasetId: number, n: number, scaleKey: string, chunk: string, req: Request): Response {
  const store = ctx.services.preview;
  const row = store.row(datasetId, n);
  if (!row) throw notFound(`Dataset ${datasetId} has no preview ${n}`);
  if (row.state !== "ready") throw notFound(`Preview ${n} of dataset ${datasetId} is ${row.state}, not ready`);
  const dir = servedDir(ctx, row);
  const key = `${dir}/${scaleKey}/${chunk}`;
  const tile = store.tiles.get(key) ?? readTile(ctx, dir, scaleKey, chunk, key);
  if (!tile) throw notFound(`No tile ${scaleKey}/${chunk} in preview ${n} of dataset ${datasetId}`);
  // The key fixes the version and coarseness; only a row written again (its updated_at) changes the headers.
  if (tile.answer?.updatedAt !== row.updated_at) {
    const etag = `"${previewVersion(row)}/${scaleKey}/${chunk}"`;
    const headers = new Headers({
      ...SECURITY_HEADERS,
      ETag: etag,
      "Last-Modified": new Date(Math.floor(row.updated_at / 1000) * 1000).toUTCString(),
      // Coarse tiles are replaced under the same URL when the full build lands: kept only until then.
      "Cache-Control": row.coarse ? "private, no-cache" : TILE_CACHE,
      "Content-Type": tile.contentType,
    });
    tile.answer = { updatedAt: row.updated_at, etag, headers };
  }
  const { etag, headers } = tile.answer;
  const inm = req.headers.get("If-None-Match");
  const ims = req.headers.get("If-Modified-Since");
  if ((inm !== null && inm === etag) || (inm === null && ims !== null && Date.parse(ims) >= row.updated_at - (row.updated_at % 1000)))
    return new Response(null, { status: 304, headers });
  return new Response(tile.bytes, { headers });
}

/** A tile of the preview in `dir` read from its shard (and kept in the tile cache), or null when the grid has no such chunk. */
function readTile(ctx: AppContext, dir: string, scaleKey: string, chunk: string, key: string): CachedTile | null {
  const store = ctx.services.preview;
  const built = store.built(dir, () => ({
    scales: (JSON.parse(readFileSync(path.join(dir, "info"), "utf8")) as { scales: ScaleInfo[] }).scales,
    // Built before the sharded layout: one file per tile, served as it is until the start-up rebuild replaces it.
    sharded: existsSync(path.join(dir, "xy", "info")),
  }));
  const scale = built.scales[Number(scaleKey)];
  const where = scale && scale.key === scaleKey ? locateChunk(scale, chunk) : null;
  if (!scale || !where) return null;
  const contentType = scale.encoding === "jpeg" ? "image/jpeg" : "application/octet-stream";
  let bytes: Uint8Array<ArrayBuffer>;
  if (built.sharded) {
    const range = store.shards.range(dir, where);
    if (!range) return null;
    bytes = readRange(range.file, range.start, range.end);
  } else {
    const file = path.join(dir, scaleKey, chunk);
    if (!existsSync(file)) return null;
    bytes = new Uint8Array(readFileSync(file));
  }
  const tile = { bytes, contentType };
  store.tiles.set(key, tile);
  return tile;
}
