import { route } from "../web/route.ts";
import { renderMetrics } from "./metrics.service.ts";
import { EXPOSITION_TYPE } from "./prometheus.ts";

/** `/metrics` for Prometheus: admins, or a scraper bearing config `metrics_token` (no account needed). */
export const metricsRoutes = [
  route({
    method: "get",
    path: "/metrics",
    access: { level: "admin", token: (ctx) => ctx.config.metricsToken },
    summary: "Prometheus metrics (text exposition format 0.0.4)",
    responses: { 200: { description: "Counters, gauges and histograms of this server", type: "text/plain" } },
    handler: (c) => {
      c.header("Cache-Control", "no-store");
      return c.body(renderMetrics(c.var.ctx), 200, { "Content-Type": EXPOSITION_TYPE });
    },
  }),
];
