// The dataset page as a whole, and the answer to its panels' form posts with or without JavaScript.
import type { Context } from "hono";
import type { AppEnv } from "../context.ts";
import { atLeast } from "../access/access.cache.ts";
import { datasetRole } from "../access/access.middleware.ts";
import { sharingPanel } from "../access/sharing.panel.tsx";
import { pageProps } from "../web/page-props.ts";
import { isHtmx, seeOther, type Flash } from "../web/plain-form.ts";
import { DatasetPage, type DatasetPageProps } from "../../templates/datasets/page.tsx";
import type { FileCursor } from "./datasets.service.ts";
import { datasetPage } from "./list-page.service.ts";

const FILES_PER_PAGE = 100;

/** A panel of the dataset page, and the id its form posts return to. */
export type PanelSlot = "describe" | "tags" | "relations" | "sharing";
const ANCHOR: Record<PanelSlot, string> = { describe: "describe", tags: "tags-panel", relations: "relations-panel", sharing: "sharing" };

/** What to show besides the defaults: a page of files, an open editor, a panel in place of its default, a message. */
export interface PageOptions {
  files?: FileCursor;
  open?: DatasetPageProps["open"];
  panels?: DatasetPageProps["panels"];
  flash?: Flash;
  status?: 200 | 400 | 409 | 413;
}

/** Renders the whole dataset page for this account. */
export async function renderDatasetPage(c: Context<AppEnv>, id: number, o: PageOptions = {}): Promise<Response> {
  const role = datasetRole(c, id);
  const data = datasetPage(c.var.ctx, id, o.files ?? { after: null }, FILES_PER_PAGE);
  return c.html(
    <DatasetPage
      {...data}
      canEdit={atLeast(role, "editor")}
      canRead={atLeast(role, "viewer")}
      open={o.open}
      panels={o.panels}
      flash={o.flash}
      sharingNoScript={o.panels?.sharing ? undefined : await sharingPanel(c, id, { suggest: false })}
      {...pageProps(c)}
    />,
    o.status ?? 200,
  );
}

/**
 * Answers a form post of one of the page's panels. htmx gets the panel, as it always has. A plain form post (no
 * JavaScript) is sent back to the page (303) once the change is `done`, with that said there; when the panel has
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
  return renderDatasetPage(c, id, { panels: { [slot]: panel }, status });
}
