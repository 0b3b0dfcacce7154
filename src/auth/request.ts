// Per-request facts of the auth feature (cookie name and flags, client address, CSRF token of the request).
import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { isHttps } from "../web/https.ts";
import type { AppEnv } from "../context.ts";
import { SESSION_MAX_MS } from "./session.service.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "mata_session";

/** How the current request was authenticated, and its CSRF token when it has a session. */
export interface RequestAuth {
  method: "session" | "basic" | "token" | "negotiate";
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

/** The client's IP address (for per-address throttling), or "local" for in-process test requests. */
export function clientAddress(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? "local";
  } catch {
    return "local";
  }
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
