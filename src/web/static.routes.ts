import { Hono } from "hono";
import { ASSETS } from "./assets.ts";
import { VERSION } from "../version.ts";

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
};

/** Serves the embedded assets; the ETag is the version, since assets change only with the binary. */
export const staticRoutes = new Hono().get("/static/*", (c) => {
  const rel = c.req.path.slice("/static/".length);
  const file = ASSETS[rel];
  if (!file) return c.json({ error: { code: "not_found", message: `No static asset ${rel}` } }, 404);
  const etag = `"${VERSION}-${rel.length}"`;
  if (c.req.header("If-None-Match") === etag) return c.body(null, 304);
  const ext = rel.slice(rel.lastIndexOf(".") + 1);
  return new Response(Bun.file(file), {
    headers: { "Content-Type": TYPES[ext] ?? "application/octet-stream", ETag: etag, "Cache-Control": "public, max-age=3600" },
  });
});
