// Headers every answer carries (pages, fragments, JSON, files, static assets, errors), so a page that a bug
// lets show foreign markup still runs none of it, and no other site can frame Mata or sniff its files.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";
import { SCRIPT_SRC } from "../../templates/layout.tsx";

/**
 * The pages' policy: scripts only from our own files, the import map by its hash and WebAssembly (SCRIPT_SRC;
 * never inline script or eval); styles from our files plus style attributes, which templates use (graph height,
 * tag cloud sizes) and htmx's indicator style needs; images also as data: and blob: (thumbnails drawn by the
 * viewers); no plugins, no <base>, no framing, forms post only here.
 */
export const PAGE_POLICY = [
  "default-src 'self'",
  `script-src ${SCRIPT_SRC}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

/** The policy and the fixed headers, the same on every answer (a fast path spreads them into its answer's headers). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": PAGE_POLICY,
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
};

function setSecurityHeaders(h: Headers): void {
  for (const k in SECURITY_HEADERS) h.set(k, SECURITY_HEADERS[k]!);
}

/** Sets the policy and the fixed headers on whatever the app answers, error pages included (mounted first). */
export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  try {
    setSecurityHeaders(c.res.headers);
  } catch {
    // A response with immutable headers (one passed through from fetch) gets a copy that can be changed.
    const res = new Response(c.res.body, c.res);
    setSecurityHeaders(res.headers);
    c.res = res;
  }
};
