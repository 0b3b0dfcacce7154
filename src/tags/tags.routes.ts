import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { badRequest } from "../errors.ts";
import { jsonBody, versionField } from "../pages/body.ts";
import { idParam, intParam } from "../web/params.ts";
import { didYouMean, MAX_SUGGESTIONS, suggest } from "./dictionary.service.ts";
import { parseTagTree } from "./tag-validate.ts";
import { importFromParents, readTags, replaceTags } from "./tags.service.ts";

/** The tag JSON API: the whole tree, import from parents, and the ranked dictionary. */
export const tagsRoutes = new Hono<AppEnv>()
  .get("/api/v1/datasets/:id/tags", (c) => c.json(readTags(c.var.ctx, idParam(c.req.param("id")))))
  .put("/api/v1/datasets/:id/tags", async (c) => {
    const id = idParam(c.req.param("id"));
    const body = await jsonBody(c);
    const tags = parseTagTree(body.tags);
    return c.json(replaceTags(c.var.ctx, c.var.user.name, id, tags, versionField(body.version)));
  })
  .post("/api/v1/datasets/:id/tags/import-from-parents", async (c) => {
    const id = idParam(c.req.param("id"));
    const body = c.req.header("Content-Type")?.includes("json") ? await jsonBody(c) : {};
    const r = importFromParents(c.var.ctx, c.var.user.name, id, versionField(body.version));
    return c.json({ tags: r.tags, tagsVersion: r.tagsVersion, imported: r.report.imported, skipped: r.report.skipped });
  })
  .get("/api/v1/tags/suggest", (c) => {
    const prefix = c.req.query("prefix") ?? "";
    const key = c.req.query("key");
    if (prefix.length > 200 || (key?.length ?? 0) > 200) throw badRequest("prefix and key are at most 200 characters");
    const limit = intParam(c.req.query("limit"), "limit", 10, 1, MAX_SUGGESTIONS);
    const items = suggest(c.var.ctx.db, prefix, key, limit);
    const body: Record<string, unknown> = { kind: key === undefined ? "keys" : "values", items };
    if (key === undefined && prefix.trim() !== "") body.didYouMean = didYouMean(c.var.ctx.db, prefix)?.term ?? null;
    return c.json(body);
  });
