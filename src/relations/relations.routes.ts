import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { badRequest } from "../errors.ts";
import { jsonBody } from "../pages/body.ts";
import { idParam } from "../web/params.ts";
import type { RelativeRow } from "./relations.repo.ts";
import { getRelatives, parseParentIds, pickDatasets, setParents } from "./relations.service.ts";

const brief = (d: RelativeRow) => ({ id: d.id, title: d.title || d.path, path: d.path, state: d.state });
const briefAll = (r: ReturnType<typeof getRelatives>) => ({ parents: r.parents.map(brief), children: r.children.map(brief), siblings: r.siblings.map(brief) });

/** Relations JSON API: set parents (acyclic), read relatives, and the picker's prefix match. */
export const relationsRoutes = new Hono<AppEnv>()
  .get("/api/v1/datasets/:id/relatives", (c) => c.json(briefAll(getRelatives(c.var.ctx.db, idParam(c.req.param("id"))))))
  .put("/api/v1/datasets/:id/parents", async (c) => {
    const id = idParam(c.req.param("id"));
    const body = await jsonBody(c);
    return c.json(briefAll(setParents(c.var.ctx, c.var.user.name, id, parseParentIds(body.parents))));
  })
  .get("/api/v1/relations/candidates", (c) => {
    const q = c.req.query("q") ?? "";
    if (q.length > 200) throw badRequest("q is at most 200 characters");
    return c.json({ items: pickDatasets(c.var.ctx.db, q).map(brief) });
  });
