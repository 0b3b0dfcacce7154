// The dataset page as a whole, and the answer to its panels' form posts with or without JavaScript.
import type { Context } from "hono";
import type { AppEnv } from "../context.ts";
import { atLeast } from "../access/access.cache.ts";
import { datasetRole } from "../access/access.middleware.ts";
import { sharingPanel } from "../access/sharing.panel.tsx";
import { pageProps } from "../web/page-props.ts";
import type { Flash } from "../web/plain-form.ts";
import { DatasetPage, type DatasetPageProps } from "../../templates/datasets/page.tsx";
import type { FileCursor } from "./datasets.service.ts";
import { datasetPage } from "./list-page.service.ts";
import { fixityView } from "../fixity/fixity.service.ts";
import { extractionView } from "../extract/extract.service.ts";

const FILES_PER_PAGE = 100;

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
      fixity={atLeast(role, "viewer") ? fixityView(c.var.ctx, id) : null}
      extraction={atLeast(role, "viewer") ? extractionView(c.var.ctx, id) : null}
      canSeeHistory={atLeast(role, "owner")}
      open={o.open}
      panels={o.panels}
      flash={o.flash}
      sharingNoScript={o.panels?.sharing ? undefined : await sharingPanel(c, id, { suggest: false })}
      {...pageProps(c)}
    />,
    o.status ?? 200,
  );
}
