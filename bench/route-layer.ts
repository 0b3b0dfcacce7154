// The cost of the route declaration layer itself (access check, zod validation of path and query, typed inputs),
// in microseconds per request: the same handler mounted bare on Hono with hand-written parsing, and declared.
//
//   bun bench/route-layer.ts [--requests 50000]
import { Hono } from "hono";
import { parseArgs } from "node:util";
import { z } from "zod";
import type { AppEnv } from "../src/context.ts";
import { requireAccess } from "../src/access/access.middleware.ts";
import { mountRoutes, route } from "../src/web/route.ts";
import { DatasetParams, json, queryEnum, queryInt } from "../src/web/schemas.ts";

const { values } = parseArgs({ options: { requests: { type: "string", default: "50000" } } });
const N = Number(values.requests);
const user = { name: "alice", isAdmin: false, groups: [] };
const answer = (id: number, limit: number, sort: string | undefined) => ({ id, limit, sort: sort ?? "path" });

const bare = new Hono<AppEnv>();
bare.use("*", async (c, next) => {
  c.set("user", user);
  await next();
});
bare.get("/api/v1/datasets/:id/files", (c) => {
  const raw = c.req.param("id");
  if (!/^\d{1,15}$/.test(raw)) return c.json({ error: "id" }, 400);
  const l = c.req.query("limit");
  const limit = l === undefined ? 1000 : Number(l);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return c.json({ error: "limit" }, 400);
  const sort = c.req.query("sort");
  if (sort !== undefined && !["path", "size"].includes(sort)) return c.json({ error: "sort" }, 400);
  return c.json(answer(Number(raw), limit, sort));
});

const declared = new Hono<AppEnv>();
declared.use("*", async (c, next) => {
  c.set("user", user);
  await next();
});
mountRoutes(
  declared,
  [
    route({
      method: "get",
      path: "/api/v1/datasets/:id/files",
      access: "signed-in",
      summary: "bench",
      params: DatasetParams,
      query: z.object({ limit: queryInt(1, 10_000, 1000), sort: queryEnum(["path", "size"]) }),
      responses: { 200: json(z.object({ id: z.number(), limit: z.number(), sort: z.string() }), "x") },
      handler: (c, { params, query }) => c.json(answer(params.id, query.limit, query.sort)),
    }),
  ],
  requireAccess,
);

async function perRequest(app: Hono<AppEnv>): Promise<number> {
  const url = "http://x/api/v1/datasets/42/files?limit=100&sort=size";
  for (let i = 0; i < 2000; i++) await (await app.request(url)).arrayBuffer();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await (await app.request(url)).arrayBuffer();
  return ((performance.now() - t0) * 1000) / N;
}

const rounds: [number, number][] = [];
for (let r = 0; r < 3; r++) rounds.push([await perRequest(bare), await perRequest(declared)]);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
const b = med(rounds.map((x) => x[0]));
const d = med(rounds.map((x) => x[1]));
console.log(
  `bare Hono with hand-written parsing: ${b.toFixed(1)} µs/request; declared route: ${d.toFixed(1)} µs/request; the layer costs ${(d - b).toFixed(1)} µs`,
);
