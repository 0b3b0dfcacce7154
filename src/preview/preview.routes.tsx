import { Hono } from "hono";
import path from "node:path";
import type { AppEnv } from "../context.ts";
import { badRequest, notFound } from "../errors.ts";
import { sendFile } from "../web/send-file.ts";
import { PreviewPanel } from "../../templates/preview/viewer.tsx";
import { ViewerPage } from "../../templates/preview/page.tsx";
import { pageProps } from "../auth/page-props.ts";
import { previewFile, previewStatus, serveTile } from "./preview.files.ts";

const TILE_PATH = /^(\d{1,6})\/tiles\/(\d{1,2})\/([\d_-]{11,64})$/;

// Tiles are named by content: a changed volume gets a new content key, so a tile URL's bytes never change
// while the preview row points at it; browsers may keep them for a year and revalidate with the ETag.
const TILE_CACHE = "private, max-age=31536000, immutable";
const INFO_CACHE = "private, no-cache";

function datasetId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`Dataset id must be a number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/**
 * Preview status, tiles and the viewer panel. Every URL sits under /api/v1/datasets/:id/previews or
 * /datasets/:id/previews so the access enforcement point checks read permission on the dataset first.
 */
export const previewRoutes = new Hono<AppEnv>()
  .get("/api/v1/datasets/:id/previews", (c) => {
    const { preview, previews } = previewStatus(c.var.ctx, datasetId(c.req.param("id")));
    return c.json({ preview, previews });
  })
  .get("/api/v1/datasets/:id/previews/*", (c) => {
    const id = datasetId(c.req.param("id"));
    const rest = c.req.path.slice(c.req.path.indexOf("/previews/") + "/previews/".length);
    const tile = TILE_PATH.exec(rest);
    if (tile) return serveTile(c.var.ctx, id, Number(tile[1]), tile[2]!, tile[3]!, c.req.raw, TILE_CACHE);
    const target = previewFile(c.var.ctx, id, rest);
    if (target.kind === "json") return c.json(target.body);
    const type = target.kind === "info" ? "application/json" : target.kind === "tile" || target.kind === "mesh" ? target.contentType : "image/jpeg";
    return sendFile(target.file, c.req.raw, { contentType: type, cacheControl: target.kind === "info" ? INFO_CACHE : TILE_CACHE });
  })
  .get("/datasets/:id/viewer", (c) => {
    const id = datasetId(c.req.param("id"));
    const status = previewStatus(c.var.ctx, id);
    return c.html(<ViewerPage datasetId={id} title={status.title} summary={status.preview} previews={status.previews} {...pageProps(c)} />);
  })
  .get("/datasets/:id/previews/*", (c) => {
    const id = datasetId(c.req.param("id"));
    const rest = c.req.path.slice(c.req.path.indexOf("/previews/") + "/previews/".length);
    if (rest !== "panel") throw notFound(`Nothing at ${path.posix.join("/datasets", String(id), "previews", rest)}`);
    const status = previewStatus(c.var.ctx, id);
    return c.html(<PreviewPanel datasetId={id} summary={status.preview} previews={status.previews} />);
  });
