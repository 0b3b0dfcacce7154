import { z } from "zod";
import { VERSION } from "../version.ts";
import { route } from "./route.ts";
import { json } from "./schemas.ts";

/** Liveness for monitoring and load balancers: open to everyone. */
export const healthRoutes = [
  route({
    method: "get",
    path: "/api/v1/health",
    access: "public",
    group: "meta",
    summary: "Liveness and version",
    responses: { 200: json(z.object({ ok: z.boolean(), version: z.string() }), "The server is up") },
    handler: (c) => c.json({ ok: true, version: VERSION }),
  }),
];
