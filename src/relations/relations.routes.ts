import { z } from "zod";
import { MAX_PARENTS } from "./relation-limits.ts";
import { route } from "../web/route.ts";
import { DatasetParams, ErrorBody, Id, json, queryText } from "../web/schemas.ts";
import type { RelativeRow } from "./relations.repo.ts";
import { getRelatives, pickDatasets, setParents } from "./relations.service.ts";

const brief = (d: RelativeRow) => ({ id: d.id, title: d.title || d.path, path: d.path, state: d.state });
const briefAll = (r: ReturnType<typeof getRelatives>) => ({ parents: r.parents.map(brief), children: r.children.map(brief), siblings: r.siblings.map(brief) });

const Brief = z.object({ id: z.number().int(), title: z.string(), path: z.string(), state: z.enum(["present", "missing"]) }).meta({ id: "DatasetBrief" });
const Relatives = z.object({
  parents: z.array(Brief),
  children: z.array(Brief),
  siblings: z.array(Brief).meta({ description: "Other children of any of its parents" }),
});

/** Relations JSON API: set parents (acyclic), read relatives, and the picker's prefix match. */
export const relationsRoutes = [
  route({
    method: "get",
    path: "/api/v1/datasets/:id/relatives",
    access: "signed-in",
    group: "relations",
    summary: "Parents, children and siblings",
    params: DatasetParams,
    responses: { 200: json(Relatives, "The dataset's direct relatives") },
    handler: (c, { params }) => c.json(briefAll(getRelatives(c.var.ctx.db, params.id))),
  }),
  route({
    method: "put",
    path: "/api/v1/datasets/:id/parents",
    access: "edit",
    group: "relations",
    summary: "Set the datasets this one was derived from; 409 on a cycle, naming it",
    params: DatasetParams,
    body: z.object({ parents: z.array(Id, { error: "must be a list of dataset ids" }).max(MAX_PARENTS, { error: `may name at most ${MAX_PARENTS} parents` }) }),
    responses: { 200: json(Relatives, "The relatives after the change"), 409: json(ErrorBody, "A parent would make the relation graph cyclic") },
    handler: (c, { params, body }) => c.json(briefAll(setParents(c.var.ctx, c.var.user.name, params.id, [...new Set(body.parents)]))),
  }),
  route({
    method: "get",
    path: "/api/v1/relations/candidates",
    access: "signed-in",
    group: "relations",
    summary: "Datasets matching a title or path prefix, for the parent picker",
    query: z.object({ q: queryText(200, "Start of a title or path") }),
    responses: { 200: json(z.object({ items: z.array(Brief) }), "Matching datasets") },
    handler: (c, { query }) => c.json({ items: pickDatasets(c.var.ctx.db, query.q ?? "").map(brief) }),
  }),
];
