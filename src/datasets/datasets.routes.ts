import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { badRequest } from "../errors.ts";
import { enumParam, idParam, intParam } from "../web/params.ts";
import { sendFile } from "../web/send-file.ts";
import { parseTagFilter } from "../search/tag-filter.ts";
import { datasetDetail, listDatasets, listFiles, resolveDatasetFile } from "./datasets.service.ts";
import { DATASET_SORTS } from "./datasets.repo.ts";



/** The dataset JSON API: list, detail, files and file content. */
export const datasetsRoutes = new Hono<AppEnv>()
  .get("/api/v1/datasets", (c) => {
    const q = c.req.query("q");
    if (q && q.length > 1000) throw badRequest("q is longer than 1000 characters");
    const result = listDatasets(
      c.var.ctx,
      { q: q || undefined, tags: c.req.queries("tag")?.map((t) => parseTagFilter(t)), state: enumParam(c.req.query("state"), "state", ["present", "missing"] as const), owner: c.req.query("owner") || undefined, path: c.req.query("path") || undefined },
      enumParam(c.req.query("sort"), "sort", DATASET_SORTS) ?? "path",
      c.req.query("order") === "desc",
      intParam(c.req.query("limit"), "limit", 50, 1, 1000),
      intParam(c.req.query("offset"), "offset", 0, 0, 1_000_000_000),
    );
    return c.json(result);
  })
  .get("/api/v1/datasets/:id", (c) => c.json(datasetDetail(c.var.ctx, idParam(c.req.param("id")))))
  .get("/api/v1/datasets/:id/files", (c) =>
    c.json(listFiles(c.var.ctx, idParam(c.req.param("id")), intParam(c.req.query("limit"), "limit", 1000, 1, 10_000), intParam(c.req.query("offset"), "offset", 0, 0, 1_000_000_000))),
  )
  .get("/api/v1/datasets/:id/files/*", (c) => {
    const id = idParam(c.req.param("id"));
    const prefix = `/api/v1/datasets/${c.req.param("id")}/files/`;
    const raw = new URL(c.req.url).pathname.slice(prefix.length);
    let rel: string;
    try {
      rel = raw.split("/").map(decodeURIComponent).join("/");
    } catch {
      throw badRequest("The file path is not valid percent-encoding");
    }
    const file = resolveDatasetFile(c.var.ctx, id, rel);
    return sendFile(file.abs, c.req.raw, { downloadName: c.req.query("download") !== undefined ? file.name : undefined });
  });
