import { z } from "zod";
import { notFound } from "../errors.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html, json, queryFlag, queryInt } from "../web/schemas.ts";
import { GRAPH_MAX, GRAPH_STEP, relationGraph } from "./graph.service.ts";
import { GraphPage } from "../../templates/graph/graph.tsx";

const Node = z.union([
  z.object({
    id: z.string(),
    kind: z.literal("dataset"),
    datasetId: z.number().int(),
    label: z.string(),
    path: z.string(),
    state: z.enum(["present", "missing"]),
    role: z.enum(["self", "ancestor", "descendant", "relative"]),
  }),
  z.object({ id: z.string(), kind: z.literal("tag"), hash: z.string(), key: z.string(), value: z.string(), label: z.string(), datasets: z.number().int() }),
]);
const Graph = z.object({
  id: z.number().int(),
  nodes: z.array(Node),
  edges: z.array(z.object({ from: z.string(), to: z.string(), kind: z.enum(["derived", "tag"]) })),
  limit: z.number().int(),
  more: z.boolean().meta({ description: "A bigger limit would show more datasets" }),
  tags: z.object({ shown: z.boolean(), truncated: z.boolean() }),
});

/** The relation network: JSON for the drawing, and a full-size page of it. */
export const graphRoutes = [
  route({
    method: "get",
    path: "/api/v1/datasets/:id/graph",
    access: "signed-in",
    group: "relations",
    summary: "The relation network around a dataset, bounded: ancestors and descendants first, then other relatives",
    params: DatasetParams,
    query: z.object({
      limit: queryInt(1, GRAPH_MAX, GRAPH_STEP, "At most this many datasets"),
      tags: queryFlag("1: overlay the tag subtrees the datasets share"),
    }),
    responses: { 200: json(Graph, "Nodes and edges") },
    handler: (c, { params, query }) => c.json(relationGraph(c.var.ctx, params.id, { limit: query.limit, tags: query.tags })),
  }),
  route({
    method: "get",
    path: "/datasets/:id/graph",
    access: "signed-in",
    summary: "The relation network page",
    params: DatasetParams,
    responses: { 200: html() },
    handler: (c, { params: { id } }) => {
      const g = relationGraph(c.var.ctx, id, { limit: 1, tags: false });
      const self = g.nodes[0];
      if (!self || self.kind !== "dataset") throw notFound(`No dataset ${id}`);
      return c.html(GraphPage({ datasetId: id, title: self.label, user: c.var.user }));
    },
  }),
];
