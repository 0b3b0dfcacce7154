import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { idParam, intParam } from "../web/params.ts";
import { GRAPH_MAX, GRAPH_STEP, relationGraph } from "./graph.service.ts";
import { GraphPage } from "../../templates/graph/graph.tsx";
import { notFound } from "../errors.ts";

/** The relation network: JSON for the drawing, and a full-size page of it. */
export const graphRoutes = new Hono<AppEnv>()
  .get("/api/v1/datasets/:id/graph", (c) =>
    c.json(
      relationGraph(c.var.ctx, idParam(c.req.param("id")), {
        limit: intParam(c.req.query("limit"), "limit", GRAPH_STEP, 1, GRAPH_MAX),
        tags: c.req.query("tags") === "1",
      }),
    ),
  )
  .get("/datasets/:id/graph", (c) => {
    const id = idParam(c.req.param("id"));
    const g = relationGraph(c.var.ctx, id, { limit: 1, tags: false });
    const self = g.nodes[0];
    if (!self || self.kind !== "dataset") throw notFound(`No dataset ${id}`);
    return c.html(GraphPage({ datasetId: id, title: self.label, user: c.var.user }));
  });

