import type { Context } from "hono";
import type { AppEnv } from "../context.ts";
import { pageProps } from "../web/page-props.ts";
import { SharingPanel } from "../../templates/access/sharing.tsx";
import { accessView, pickerNames, type AccessView } from "./access.service.ts";

/**
 * The sharing panel of a dataset as this account may see it (the access feature alone decides what it shows).
 * `suggest: false` leaves out the list of names to pick from, which asks the system (getent) for every account.
 */
export async function sharingPanel(c: Context<AppEnv>, id: number, extra: { view?: AccessView; error?: string; notice?: string; suggest?: boolean } = {}) {
  const view = extra.view ?? accessView(c.var.ctx, c.var.user, id);
  return (
    <SharingPanel
      view={view}
      people={view.canManage && extra.suggest !== false ? await pickerNames(c.var.ctx) : undefined}
      error={extra.error}
      notice={extra.notice}
      csrf={pageProps(c).csrf}
    />
  );
}
