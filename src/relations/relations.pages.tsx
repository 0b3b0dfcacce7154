import { z } from "zod";
import { badRequest } from "../errors.ts";
import { attempt, formText, fragmentStatus } from "../web/fragment.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html, Id } from "../web/schemas.ts";
import { RelationsPanel } from "../../templates/datasets/relations.tsx";
import { getRelatives, setParents } from "./relations.service.ts";

const PANEL = { 200: html("The relations panel"), 400: html("The panel with the refusal"), 409: html("The panel: the parent would make a cycle") };

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
      return attempt(
        () => {
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
          return c.html(<RelationsPanel datasetId={id} relatives={r} notice={added ? `Added parent “${added.title || added.path}”.` : undefined} focus />);
        },
        (e) => c.html(<RelationsPanel datasetId={id} relatives={relatives()} error={e.message} focus />, fragmentStatus(e)),
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
    responses: { 200: html("The relations panel") },
    handler: (c, { params: { id }, body }) => {
      const current = getRelatives(c.var.ctx.db, id).parents.map((p) => p.id);
      const r = setParents(
        c.var.ctx,
        c.var.user.name,
        id,
        current.filter((p) => p !== body.parent),
      );
      return c.html(<RelationsPanel datasetId={id} relatives={r} notice="Parent removed." focus />);
    },
  }),
];
