import { z } from "zod";
import { badRequest } from "../errors.ts";
import { route } from "../web/route.ts";
import { DatasetParams, ErrorBody, json, queryEnum, queryInt, queryList, queryText } from "../web/schemas.ts";
import { sendFile } from "../web/send-file.ts";
import { parseTagFilter } from "../search/tag-filter.ts";
import { MAX_TAG_FILTERS } from "../search/search.params.ts";
import { datasetDetail, listDatasets, listFiles, resolveDatasetFile } from "./datasets.service.ts";
import { DATASET_SORTS } from "./datasets.repo.ts";
import { describeDataset } from "./describe.service.ts";
import { auditDownload } from "../audit/audit.service.ts";
import { clientAddress } from "../web/request-info.ts";
import { DatasetDetail, DatasetList, Described, FileList } from "./datasets.schemas.ts";
import { atLeast } from "../access/access.cache.ts";
import { datasetRole } from "../access/access.middleware.ts";

/** The dataset JSON API: list, detail, title and description, files and file content. */
export const datasetsRoutes = [
  route({
    method: "get",
    path: "/api/v1/datasets",
    access: "signed-in",
    group: "datasets",
    summary: "List datasets, filtered and sorted, a page at a time",
    query: z.object({
      q: queryText(1000, "Substring of path or title (case-insensitive)"),
      tag: queryList(z.string().max(1000), MAX_TAG_FILTERS, "A tag filter, KEY=VALUE or KEY: (any value); repeat for all of several"),
      owner: queryText(200, "Owner's account name"),
      path: queryText(4096, "The dataset folder, relative to the root, exactly"),
      state: queryEnum(["present", "missing"]),
      sort: queryEnum(DATASET_SORTS),
      order: queryEnum(["asc", "desc"]),
      limit: queryInt(1, 1000, 50),
      offset: queryInt(0, 1_000_000_000, 0),
    }),
    responses: { 200: json(DatasetList, "A page of datasets and how many match in all") },
    handler: (c, { query: q }) =>
      c.json(
        listDatasets(
          c.var.ctx,
          { q: q.q, tags: q.tag.map((t) => parseTagFilter(t)), state: q.state, owner: q.owner, path: q.path },
          q.sort ?? "path",
          q.order === "desc",
          q.limit,
          q.offset,
        ),
      ),
  }),
  route({
    method: "get",
    path: "/api/v1/datasets/:id",
    access: "signed-in",
    group: "datasets",
    summary: "One dataset with parents, children, tags, file totals and preview state",
    params: DatasetParams,
    responses: { 200: json(DatasetDetail, "The dataset") },
    handler: (c, { params }) => c.json(datasetDetail(c.var.ctx, params.id, { reader: atLeast(datasetRole(c, params.id), "viewer") })),
  }),
  route({
    method: "patch",
    path: "/api/v1/datasets/:id",
    access: "edit",
    group: "datasets",
    summary: "Edit title and description; 409 when based on an outdated version",
    params: DatasetParams,
    body: z.object({ title: z.string().optional(), description: z.string().optional(), version: z.number().int().min(1).optional() }),
    responses: {
      200: json(Described, "The text as saved, and its new version"),
      409: json(ErrorBody, "Someone else edited it since `version`; the current values are in error.details.current"),
    },
    handler: (c, { params, body }) => c.json(describeDataset(c.var.ctx, c.var.user.name, params.id, body)),
  }),
  route({
    method: "get",
    path: "/api/v1/datasets/:id/files",
    access: "signed-in",
    group: "files",
    summary: "File listing: paths, sizes, times (every signed-in account)",
    description: "In path order. Page with `after` (the `next` of the page before: a page deep in 300,000 files costs what the first does) or with `offset`.",
    params: DatasetParams,
    query: z.object({
      limit: queryInt(1, 10_000, 1000),
      offset: queryInt(0, 1_000_000_000, 0),
      after: z.string().max(8192).optional().meta({ description: "List the files after this path (a cursor: the previous page's `next`)" }),
    }),
    responses: { 200: json(FileList, "A page of the dataset's files") },
    handler: (c, { params, query: q }) => {
      if (q.after !== undefined && q.offset !== 0) throw badRequest("Give after or offset, not both");
      return c.json(listFiles(c.var.ctx, params.id, q.limit, q.after !== undefined ? { after: q.after } : { offset: q.offset }));
    },
  }),
  route({
    method: "get",
    path: "/api/v1/datasets/:id/files/*",
    access: "read",
    group: "files",
    summary: "File content, with HTTP Range and validators (read permission)",
    params: DatasetParams,
    query: z.object({ download: z.string().optional().meta({ description: "Present: answer as an attachment with the file's name" }) }),
    responses: {
      200: { description: "The file", type: "application/octet-stream" },
      206: { description: "The requested range", type: "application/octet-stream" },
      304: { description: "Not modified" },
      416: { description: "The range is outside the file" },
    },
    handler: (c, { params, query }) => {
      const prefix = `/api/v1/datasets/${c.req.param("id")}/files/`;
      const raw = new URL(c.req.url).pathname.slice(prefix.length);
      let rel: string;
      try {
        rel = raw.split("/").map(decodeURIComponent).join("/");
      } catch {
        throw badRequest("The file path is not valid percent-encoding");
      }
      const file = resolveDatasetFile(c.var.ctx, params.id, rel);
      const res = sendFile(file, c.req.raw, { downloadName: query.download !== undefined ? file.name : undefined });
      if (c.req.method === "GET" && (res.status === 200 || res.status === 206)) {
        auditDownload(c.var.ctx, c.var.user, params.id, rel, clientAddress(c), res.status === 206 ? c.req.header("Range") : undefined);
      }
      return res;
    },
  }),
];
