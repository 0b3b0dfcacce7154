// Forms that work without JavaScript: htmx posts get a fragment back, a plain HTML form post gets a redirect (303)
// back to its page, with a one-time message carried there in a short-lived cookie.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../context.ts";
import { isHttps } from "../auth/request.ts";

const FLASH_COOKIE = "mata_flash";

/** A one-time message for the page a plain form post is sent back to. */
export interface Flash {
  kind: "notice" | "error";
  text: string;
}

/** Whether htmx sent the request (it sets HX-Request); otherwise it is a plain form post or link from a page without JavaScript. */
export function isHtmx(c: Context<AppEnv>): boolean {
  return c.req.header("HX-Request") === "true";
}

/**
 * Answers a plain form post with 303 See Other to `to` (a path of this site, maybe with `?query` and `#fragment`),
 * leaving `flash` for that page. A cookie rather than the URL carries it, so no link from elsewhere can make a page
 * say something; it is scoped to the page's path and lives a minute.
 */
export function seeOther(c: Context<AppEnv>, to: string, flash?: Flash): Response {
  if (flash) {
    setCookie(c, FLASH_COOKIE, `${flash.kind === "error" ? "e" : "n"}:${flash.text.slice(0, 600)}`, {
      path: flashPath(to),
      httpOnly: true,
      sameSite: "Lax",
      secure: isHttps(c),
      maxAge: 60,
    });
  }
  return c.redirect(to, 303);
}

/** The message a redirect left for this page, if any; read once (the answer clears it). */
export function takeFlash(c: Context<AppEnv>): Flash | undefined {
  const raw = getCookie(c, FLASH_COOKIE);
  if (raw === undefined) return undefined;
  deleteCookie(c, FLASH_COOKIE, { path: c.req.path, httpOnly: true, sameSite: "Lax", secure: isHttps(c) });
  const kind = raw.startsWith("e:") ? "error" : raw.startsWith("n:") ? "notice" : undefined;
  return kind ? { kind, text: raw.slice(2) } : undefined;
}

const flashPath = (to: string) => to.replace(/[?#].*$/, "") || "/";
