import { z } from "zod";
import { badRequest } from "../errors.ts";
import { attempt, formText, fragmentStatus } from "../web/fragment.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html, Id } from "../web/schemas.ts";
import { RelationsPanel } from "../../templates/datasets/relations.tsx";
import { getRelatives, namedDataset, setParents } from "./relations.service.ts";
import type { Context } from "hono";
import type { AppEnv } from "../context.ts";
import { pageProps } from "../web/page-props.ts";
import { answerPanel, isHtmx } from "../web/plain-form.ts";

const PANEL = {
  200: html("The relations panel"),
  303: { description: "Without JavaScript: done, back to the dataset page" },
  400: html("The panel with the refusal"),
  409: html("The panel: the parent would make a cycle"),
};

/**
 * Without JavaScript there is no pick list, so the typed text must name one dataset: its exact path, or the only one
 * whose path or title starts with it.
 */
function parentNamed(c: Context<AppEnv>, id: number, q: string): number {
  const found = namedDataset(c.var.ctx.db, q, id);
  if (typeof found === "number") return found;
  if (found.length === 0) throw badRequest(`No other dataset's title or path starts with “${q}”`);
  throw badRequest(`Several datasets match “${q}” (${found.slice(0, 5).join(", ")}${found.length > 5 ? ", …" : ""}): type more of one path`);
}

/** The parents picker's htmx fragments on the dataset page. */
export const relationsPages = [
  route({
    method: "post",
    path: "/datasets/:id/parents/add",
    access: "edit",
    summary: "Add a parent picked from the list",
    params: DatasetParams,
    bodyType: "form",
    body: z.object({ parent: formText(20), q: formText(200) }),
    responses: PANEL,
    handler: (c, { params: { id }, body: f }) => {
      const relatives = () => getRelatives(c.var.ctx.db, id);
      const csrf = pageProps(c).csrf;
      return attempt(
        () => {
          if (!f.parent && f.q && !isHtmx(c)) f.parent = String(parentNamed(c, id, f.q));
          if (!f.parent)
            throw badRequest(
              f.q ? `Pick a dataset from the list that appears as you type “${f.q}”` : "Type a title or path, then pick a dataset from the list",
            );
          const parsed = Id.safeParse(f.parent);
          if (!parsed.success) throw badRequest("parent must be a dataset id");
          const parent = parsed.data;
          const current = relatives().parents.map((p) => p.id);
          const r = setParents(c.var.ctx, c.var.user.name, id, current.includes(parent) ? current : [...current, parent]);
          const added = r.parents.find((p) => p.id === parent);
          const notice = added ? `Added parent “${added.title || added.path}”.` : undefined;
          return answerPanel(c, id, "relations", <RelationsPanel datasetId={id} relatives={r} notice={notice} focus csrf={csrf} />, 200, notice ?? "");
        },
        (e) =>
          answerPanel(c, id, "relations", <RelationsPanel datasetId={id} relatives={relatives()} error={e.message} focus csrf={csrf} />, fragmentStatus(e)),
      );
    },
  }),
  route({
    method: "post",
    path: "/datasets/:id/parents/remove",
    access: "edit",
    summary: "Remove a parent",
    params: DatasetParams,
    bodyType: "form",
    body: z.object({ parent: Id }),
    responses: { 200: html("The relations panel"), 303: { description: "Without JavaScript: done, back to the dataset page" } },
    handler: (c, { params: { id }, body }) => {
      const current = getRelatives(c.var.ctx.db, id).parents.map((p) => p.id);
      const r = setParents(
        c.var.ctx,
        c.var.user.name,
        id,
        current.filter((p) => p !== body.parent),
      );
      return answerPanel(
        c,
        id,
        "relations",
        <RelationsPanel datasetId={id} relatives={r} notice="Parent removed." focus csrf={pageProps(c).csrf} />,
        200,
        "Parent removed.",
      );
    },
  }),
];
