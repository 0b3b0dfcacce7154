import { route } from "./route.ts";
import { ASSETS } from "./assets.ts";
import { VERSION } from "../version.ts";
import { notFound } from "../errors.ts";

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
};

/** Serves the embedded assets; the ETag is the version, since assets change only with the binary. */
export const staticRoutes = [
  route({
    method: "get",
    path: "/static/*",
    access: "public",
    summary: "Embedded scripts, styles and vendor files",
    responses: {
      200: { description: "The asset", type: "application/octet-stream" },
      304: { description: "Not modified" },
      404: { description: "No such asset" },
    },
    handler: (c) => {
      const rel = c.req.path.slice("/static/".length);
      // An own property only: `__proto__` or `constructor` is no asset.
      const file = Object.hasOwn(ASSETS, rel) ? ASSETS[rel] : undefined;
      if (!file) throw notFound(`No static asset ${rel}`);
      const etag = `"${VERSION}-${Bun.hash(rel).toString(36)}"`;
      if (c.req.header("If-None-Match") === etag) return c.body(null, 304);
      const ext = rel.slice(rel.lastIndexOf(".") + 1);
      return new Response(Bun.file(file), {
        headers: { "Content-Type": TYPES[ext] ?? "application/octet-stream", ETag: etag, "Cache-Control": "public, max-age=3600" },
      });
    },
  }),
];
