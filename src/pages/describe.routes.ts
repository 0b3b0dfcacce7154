import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { idParam } from "../web/params.ts";
import { jsonBody } from "./body.ts";
import { describeDataset } from "./describe.service.ts";

/** `PATCH /api/v1/datasets/{id}`: title and description, refused with 409 when based on an outdated version. */
export const describeRoutes = new Hono<AppEnv>().patch("/api/v1/datasets/:id", async (c) => {
  const id = idParam(c.req.param("id"));
  const body = await jsonBody(c);
  return c.json(describeDataset(c.var.ctx, c.var.user.name, id, { title: body.title, description: body.description, version: body.version }));
});
