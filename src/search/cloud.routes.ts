import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { badRequest } from "../errors.ts";
import { enumParam, intParam } from "../web/params.ts";
import { resolveTag, tagCloud, tagPage } from "./cloud.service.ts";
import { CloudPage, TagChoicePage, TagPage } from "../../templates/search/cloud.tsx";

const HASH = "[0-9a-f]{64}";

function prefixParam(v: string | undefined): string {
  const p = v ?? "";
  if (p.length > 200) throw badRequest("prefix is longer than 200 characters");
  return p;
}

/** The tag cloud and tag pages, as pages and as JSON. */
export const cloudRoutes = new Hono<AppEnv>()
  .get("/api/v1/tags/cloud", (c) =>
    c.json(
      tagCloud(c.var.ctx, {
        mode: enumParam(c.req.query("mode"), "mode", ["pairs", "keys"] as const) ?? "pairs",
        prefix: prefixParam(c.req.query("prefix")),
        limit: intParam(c.req.query("limit"), "limit", 5000, 1, 100_000),
        offset: intParam(c.req.query("offset"), "offset", 0, 0, 100_000_000),
      }),
    ),
  )
  .get(`/api/v1/tags/:hash{${HASH}}`, (c) =>
    c.json(tagPage(c.var.ctx, c.req.param("hash"), intParam(c.req.query("limit"), "limit", 100, 1, 1000), intParam(c.req.query("offset"), "offset", 0, 0, 100_000_000))),
  )
  .get("/tags", (c) => {
    const cloud = tagCloud(c.var.ctx, {
      mode: enumParam(c.req.query("mode"), "mode", ["pairs", "keys"] as const) ?? "pairs",
      prefix: prefixParam(c.req.query("prefix")),
      limit: 2000,
      offset: intParam(c.req.query("offset"), "offset", 0, 0, 100_000_000),
    });
    return c.html(CloudPage({ cloud, user: c.var.user }));
  })
  .get("/tags/by", (c) => {
    const key = c.req.query("key");
    if (!key) throw badRequest("key is required: /tags/by?key=KEY[&value=VALUE]");
    const target = resolveTag(c.var.ctx, key, c.req.query("value"));
    if (target.kind === "hash") return c.redirect(`/tags/${target.hash}`, 302);
    return c.html(TagChoicePage({ target, user: c.var.user }));
  })
  .get(`/tags/:hash{${HASH}}`, (c) => {
    const limit = 100;
    const offset = intParam(c.req.query("offset"), "offset", 0, 0, 100_000_000);
    const page = tagPage(c.var.ctx, c.req.param("hash"), limit, offset);
    return c.html(TagPage({ ...page, limit, offset, user: c.var.user }));
  });
