// Forms that work without JavaScript: htmx posts get a fragment back, a plain HTML form post gets a redirect (303)
// back to its page, with a one-time message carried there in a short-lived cookie.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../context.ts";
import type { DatasetPageProps } from "../../templates/datasets/page.tsx";
import { isHttps } from "./https.ts";

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

/** A panel of the dataset page, and the id its form posts return to. */
export type PanelSlot = "describe" | "tags" | "relations" | "sharing";
const ANCHOR: Record<PanelSlot, string> = { describe: "describe", tags: "tags-panel", relations: "relations-panel", sharing: "sharing" };

/** Renders a dataset's whole page for the caller; the datasets feature provides it (services.datasetPage). */
export type DatasetPageRenderer = (
  c: Context<AppEnv>,
  id: number,
  o: { panels?: DatasetPageProps["panels"]; status?: 200 | 400 | 409 | 413 },
) => Promise<Response>;

/**
 * Answers a form post of one of the dataset page's panels. htmx gets the panel, as it always has. A plain form post
 * (no JavaScript) is sent back to the page (303) once the change is `done`, with that said there; when the panel has
 * something to say first (a refusal, a did-you-mean question) it gets the whole page with that panel in place.
 */
export function answerPanel(
  c: Context<AppEnv>,
  id: number,
  slot: PanelSlot,
  panel: string | Promise<string>,
  status: 200 | 400 | 409 | 413 = 200,
  done?: string,
): Response | Promise<Response> {
  if (isHtmx(c)) return c.html(panel, status);
  if (done !== undefined && status === 200) return seeOther(c, `/datasets/${id}#${ANCHOR[slot]}`, { kind: "notice", text: done });
  return c.var.ctx.services.datasetPage(c, id, { panels: { [slot]: panel }, status });
}
