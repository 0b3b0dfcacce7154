// Per-request facts of the auth feature (cookie name and flags, client address, CSRF token of the request).
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { isHttps } from "../web/https.ts";
import type { AppEnv } from "../context.ts";
import { SESSION_MAX_MS } from "./session.service.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "mata_session";

/** How the current request was authenticated, and its CSRF token when it has a session. */
export interface RequestAuth {
  /** `route-token`: a route's own shared secret (config `metrics_token`), which opens that route and nothing else. */
  method: "session" | "basic" | "token" | "negotiate" | "route-token";
  csrf: string | null;
}

/** Remembers how a request was authenticated (the middleware calls it), in the request's own Hono context. */
export function setRequestAuth(c: Context<AppEnv>, auth: RequestAuth): void {
  c.set("auth", auth);
}

/** How the current request was authenticated, or null before/without authentication. */
export function requestAuth(c: Context<AppEnv>): RequestAuth | null {
  return c.get("auth") ?? null;
}

/** The session cookie value, if any. */
export function readSessionCookie(c: Context<AppEnv>): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** Sets the session cookie: HttpOnly (no script can read it), SameSite=Lax, Secure under TLS, expiring with the session. */
export function writeSessionCookie(c: Context<AppEnv>, value: string): void {
  setCookie(c, SESSION_COOKIE, value, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    maxAge: Math.floor(SESSION_MAX_MS / 1000),
  });
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Lax", secure: isHttps(c) });
}

/** A path to return to after sign-in: only same-site absolute paths, never "//host" or "/\\host". */
export function safeNext(next: string | undefined | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\") || /[\0-\x1f]/.test(next)) return "/";
  return next;
}

/** Hosts this request may legitimately come from: its Host (what the browser connected to) and, behind a proxy, X-Forwarded-Host. */
function ownHosts(c: Context<AppEnv>): Set<string> {
  const hosts = new Set<string>([new URL(c.req.url).host.toLowerCase()]);
  const host = c.req.header("Host");
  if (host) hosts.add(host.toLowerCase());
  // A cross-site form or fetch cannot set this header (not CORS-safelisted), so trusting it opens nothing.
  for (const h of (c.req.header("X-Forwarded-Host") ?? "").split(",")) if (h.trim()) hosts.add(h.trim().toLowerCase());
  return hosts;
}

function hostOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.host.toLowerCase() : null;
  } catch {
    return null;
  }
}

/**
 * Why a request looks sent by another site, or null when it does not: a browser marks every cross-site request
 * (Sec-Fetch-Site, Origin on every POST/PUT/PATCH/DELETE, else Referer), while scripts (curl, python requests)
 * send none of these and pass. Checked for every state-changing request that carries an ambient credential
 * (session cookie, Basic, Negotiate), which the browser attaches to a cross-site form post by itself.
 */
export function crossSiteRefusal(c: Context<AppEnv>): string | null {
  const site = c.req.header("Sec-Fetch-Site");
  if (site === "cross-site" || site === "same-site") return `the browser marked it Sec-Fetch-Site: ${site}`;
  const origin = c.req.header("Origin");
  if (origin !== undefined) {
    const host = hostOf(origin);
    return host && ownHosts(c).has(host)
      ? null
      : `it came from ${origin === "null" ? "an opaque origin (Origin: null)" : `the origin ${origin.slice(0, 200)}`}`;
  }
  const referer = c.req.header("Referer");
  if (referer !== undefined) {
    const host = hostOf(referer);
    return host && ownHosts(c).has(host) ? null : `it came from the page ${referer.slice(0, 200)}`;
  }
  return null;
}
