import path from "node:path";
import { z } from "zod";
import { notFound } from "../errors.ts";
import { pageProps } from "../web/page-props.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html, json } from "../web/schemas.ts";
import { sendFile } from "../web/send-file.ts";
import { PreviewPanel, PreviewProgress, shownVersions } from "../../templates/preview/viewer.tsx";
import { ViewerPage } from "../../templates/preview/page.tsx";
import { previewFile, previewStatus, serveTile, TILE_CACHE, TILE_PATH } from "./preview.files.ts";
import { PreviewStatus } from "./preview.schemas.ts";

const INFO_CACHE = "private, no-cache";

const afterPreviews = (p: string) => p.slice(p.indexOf("/previews/") + "/previews/".length);

/** Preview status, tiles and the viewer: every URL names its dataset, whose read permission the route demands. */
export const previewRoutes = [
  route({
    method: "get",
    path: "/api/v1/datasets/:id/previews",
    access: "read",
    group: "previews",
    summary: "The dataset's previews: kind, state, size, spacing, window, tile and thumbnail URLs",
    params: DatasetParams,
    responses: { 200: json(PreviewStatus, "The previews and their summary") },
    handler: (c, { params }) => {
      const { preview, previews } = previewStatus(c.var.ctx, params.id);
      return c.json({ preview, previews });
    },
  }),
  route({
    method: "get",
    path: "/api/v1/datasets/:id/previews/*",
    access: "read",
    group: "previews",
    summary: "Preview files: N/tiles/info (Neuroglancer precomputed), N/tiles/SCALE/X_Y_Z (XY, XZ, YZ tiles), N/thumbnail, N/mesh.glb",
    params: DatasetParams,
    responses: { 200: { description: "The file: JSON, a JPEG or raw tile, or a GLB", type: "application/octet-stream" }, 304: { description: "Not modified" } },
    handler: (c, { params: { id } }) => {
      const rest = afterPreviews(c.req.path);
      const tile = TILE_PATH.exec(rest);
      if (tile) return serveTile(c.var.ctx, id, Number(tile[1]), tile[2]!, tile[3]!, c.req.raw);
      const target = previewFile(c.var.ctx, id, rest);
      if (target.kind === "json") return c.json(target.body);
      const type = target.kind === "info" ? "application/json" : target.kind === "tile" || target.kind === "mesh" ? target.contentType : "image/jpeg";
      // The info, and anything of a coarse build (replaced under the same URL when the full build lands), is revalidated.
      return sendFile(target.file, c.req.raw, { contentType: type, cacheControl: target.kind === "info" || target.coarse ? INFO_CACHE : TILE_CACHE });
    },
  }),
  route({
    method: "get",
    path: "/datasets/:id/viewer",
    access: "read",
    summary: "The full-page viewer",
    params: DatasetParams,
    responses: { 200: html() },
    handler: (c, { params: { id } }) => {
      const status = previewStatus(c.var.ctx, id);
      return c.html(<ViewerPage datasetId={id} title={status.title} summary={status.preview} previews={status.previews} {...pageProps(c)} />);
    },
  }),
  route({
    method: "get",
    path: "/datasets/:id/previews/*",
    access: "read",
    summary: "The viewer panel of the dataset page (…/previews/panel)",
    params: DatasetParams,
    responses: { 200: html("The viewer panel fragment") },
    handler: (c, { params: { id } }) => {
      const rest = afterPreviews(c.req.path);
      if (rest !== "panel") throw notFound(`Nothing at ${path.posix.join("/datasets", String(id), "previews", rest)}`);
      const status = previewStatus(c.var.ctx, id);
      const busy = status.preview.state === "queued" || status.preview.state === "running";
      // The progress line's poll: the line alone while the same previews are shown, else the whole panel in its place.
      if (c.req.query("status") !== undefined && busy && c.req.query("shown") === shownVersions(status.previews))
        return c.html(<PreviewProgress datasetId={id} summary={status.preview} previews={status.previews} />);
      if (c.req.query("status") !== undefined) {
        c.header("HX-Retarget", "#preview");
        c.header("HX-Reswap", "outerHTML");
      }
      return c.html(<PreviewPanel datasetId={id} summary={status.preview} previews={status.previews} />);
    },
  }),
];
