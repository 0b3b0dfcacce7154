import { z } from "zod";
import { route } from "../web/route.ts";
import { DatasetParams, ErrorBody, json, queryInt, queryText } from "../web/schemas.ts";
import { didYouMean, MAX_SUGGESTIONS, suggest } from "./dictionary.service.ts";
import { parseTagTree } from "./tag-validate.ts";
import { importFromParents, readTags, replaceTags } from "./tags.service.ts";
import { Tag, TagsBody, VersionedTags } from "./tags.schemas.ts";

const Imported = z.object({
  tags: z.array(Tag),
  tagsVersion: z.number().int(),
  imported: z.array(z.object({ key: z.string(), value: z.string(), children: z.number().int(), from: z.object({ id: z.number().int(), title: z.string() }) })),
  skipped: z.array(z.object({ key: z.string(), from: z.object({ id: z.number().int(), title: z.string() }) })),
});

const Suggestions = z.object({
  kind: z.enum(["keys", "values"]),
  items: z.array(z.object({ term: z.string(), datasets: z.number().int(), match: z.enum(["prefix", "typo"]) })),
  didYouMean: z.string().nullable().optional().meta({ description: "For keys: a common key one typo away from the prefix, if any" }),
});

/** The tag JSON API: the whole tree, import from parents, and the ranked dictionary. */
export const tagsRoutes = [
  route({
    method: "get",
    path: "/api/v1/datasets/:id/tags",
    access: "signed-in",
    group: "tags",
    summary: "The ordered tag tree and its version",
    params: DatasetParams,
    responses: { 200: json(VersionedTags, "The tag tree") },
    handler: (c, { params }) => c.json(readTags(c.var.ctx, params.id)),
  }),
  route({
    method: "put",
    path: "/api/v1/datasets/:id/tags",
    access: "edit",
    group: "tags",
    summary: "Replace the whole ordered tag tree; 409 when based on an outdated version",
    description: "Keys and values are trimmed; limits: 2,000 tags, 8 levels, 200-character keys, 4,096-character values.",
    params: DatasetParams,
    body: TagsBody,
    responses: {
      200: json(VersionedTags, "The tree as saved"),
      409: json(ErrorBody, "Someone else changed the tags since `version`; the current tree is in error.details.current"),
    },
    handler: (c, { params, body }) => c.json(replaceTags(c.var.ctx, c.var.user.name, params.id, parseTagTree(body.tags), body.version)),
  }),
  route({
    method: "post",
    path: "/api/v1/datasets/:id/tags/import-from-parents",
    access: "edit",
    group: "tags",
    summary: "Copy the parents' tags whose keys this dataset lacks (set keys are never overwritten)",
    params: DatasetParams,
    body: z.object({ version: z.number().int().min(1).optional() }),
    responses: { 200: json(Imported, "The tree after the import, and what was imported or skipped"), 409: json(ErrorBody, "The tags changed since `version`") },
    handler: (c, { params, body }) => {
      const r = importFromParents(c.var.ctx, c.var.user.name, params.id, body.version);
      return c.json({ tags: r.tags, tagsVersion: r.tagsVersion, imported: r.report.imported, skipped: r.report.skipped });
    },
  }),
  route({
    method: "get",
    path: "/api/v1/tags/suggest",
    access: "signed-in",
    group: "tags",
    summary: "Ranked key suggestions (or value suggestions for a key), most used first, forgiving one typo",
    query: z.object({
      prefix: queryText(200, "What was typed so far"),
      key: z.string().max(200, { error: "is longer than 200 characters" }).optional().meta({ description: "Suggest values of this key instead of keys" }),
      limit: queryInt(1, MAX_SUGGESTIONS, 10),
    }),
    responses: { 200: json(Suggestions, "Suggestions") },
    handler: (c, { query }) => {
      const prefix = query.prefix ?? "";
      const items = suggest(c.var.ctx.db, prefix, query.key, query.limit);
      const body: z.infer<typeof Suggestions> = { kind: query.key === undefined ? "keys" : "values", items };
      if (query.key === undefined && prefix.trim() !== "") body.didYouMean = didYouMean(c.var.ctx.db, prefix)?.term ?? null;
      return c.json(body);
    },
  }),
];
