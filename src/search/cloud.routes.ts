import { z } from "zod";
import { route } from "../web/route.ts";
import { html, json, queryEnum, queryInt, queryText } from "../web/schemas.ts";
import { Tag } from "../tags/tags.schemas.ts";
import { resolveTag, tagCloud, tagPage } from "./cloud.service.ts";
import { CloudPage, TagChoicePage, TagPage } from "../../templates/search/cloud.tsx";

const HASH = "[0-9a-f]{64}";
const HashParams = z.object({
  hash: z
    .string()
    .regex(new RegExp(`^${HASH}$`))
    .meta({ description: "The order-insensitive hash of a tag subtree (from the cloud or a tag page)" }),
});

const Cloud = z.object({
  mode: z.enum(["pairs", "keys"]),
  prefix: z.string(),
  total: z.number().int(),
  max: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  items: z.array(
    z.object({
      key: z.string(),
      value: z.string().optional(),
      count: z.number().int(),
      weight: z.number(),
      size: z.number().meta({ description: "Font size in em (Zipf-scaled)" }),
    }),
  ),
});

const Carriers = z.object({
  hash: z.string(),
  tag: Tag,
  total: z.number().int(),
  alphabetical: z.boolean(),
  items: z.array(z.object({ id: z.number().int(), title: z.string(), path: z.string(), owner: z.string().nullable(), state: z.enum(["present", "missing"]) })),
});

const CloudQuery = z.object({
  mode: queryEnum(["pairs", "keys"]),
  prefix: queryText(200, "Only tags whose key starts with this"),
  offset: queryInt(0, 100_000_000, 0),
});

/** The tag cloud and tag pages, as pages and as JSON. */
export const cloudRoutes = [
  route({
    method: "get",
    path: "/api/v1/tags/cloud",
    access: "signed-in",
    group: "tags",
    summary: "Every distinct tag (key=value pairs, or keys) with counts and Zipf weights, alphabetically",
    query: CloudQuery.extend({ limit: queryInt(1, 100_000, 5000) }),
    responses: { 200: json(Cloud, "A page of the cloud") },
    handler: (c, { query: q }) => c.json(tagCloud(c.var.ctx, { mode: q.mode ?? "pairs", prefix: q.prefix ?? "", limit: q.limit, offset: q.offset })),
  }),
  route({
    method: "get",
    path: `/api/v1/tags/:hash{${HASH}}`,
    access: "signed-in",
    group: "tags",
    summary: "Every dataset carrying an equal tag subtree (children order ignored)",
    params: HashParams,
    query: z.object({ limit: queryInt(1, 1000, 100), offset: queryInt(0, 100_000_000, 0) }),
    responses: { 200: json(Carriers, "The tag and a page of its datasets") },
    handler: (c, { params, query }) => c.json(tagPage(c.var.ctx, params.hash, query.limit, query.offset)),
  }),
  route({
    method: "get",
    path: "/tags",
    access: "signed-in",
    summary: "The tag cloud page",
    query: CloudQuery,
    responses: { 200: html() },
    handler: (c, { query: q }) =>
      c.html(CloudPage({ cloud: tagCloud(c.var.ctx, { mode: q.mode ?? "pairs", prefix: q.prefix ?? "", limit: 2000, offset: q.offset }), user: c.var.user })),
  }),
  route({
    method: "get",
    path: "/tags/by",
    access: "signed-in",
    summary: "A cloud entry: its tag page, or the variants it stands for",
    query: z.object({
      key: z.string({ error: "is required: /tags/by?key=KEY[&value=VALUE]" }).min(1, { error: "is required: /tags/by?key=KEY[&value=VALUE]" }).max(200),
      value: z.string().max(4096).optional(),
    }),
    responses: { 200: html(), 302: { description: "On to the one tag page" } },
    handler: (c, { query }) => {
      const target = resolveTag(c.var.ctx, query.key, query.value);
      if (target.kind === "hash") return c.redirect(`/tags/${target.hash}`, 302);
      return c.html(TagChoicePage({ target, user: c.var.user }));
    },
  }),
  route({
    method: "get",
    path: `/tags/:hash{${HASH}}`,
    access: "signed-in",
    summary: "A tag page: the datasets carrying an equal tag subtree",
    params: HashParams,
    query: z.object({ offset: queryInt(0, 100_000_000, 0) }),
    responses: { 200: html() },
    handler: (c, { params, query }) => {
      const limit = 100;
      return c.html(TagPage({ ...tagPage(c.var.ctx, params.hash, limit, query.offset), limit, offset: query.offset, user: c.var.user }));
    },
  }),
];
