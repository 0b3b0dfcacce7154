import { z } from "zod";
import { AppError, badRequest } from "../errors.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html, json, queryText } from "../web/schemas.ts";
import { formText } from "../web/fragment.ts";
import { accessView, pickerNames, reassignOwner, setAccess } from "./access.service.ts";
import { sharingPanel } from "./sharing.panel.tsx";
import { answerPanel } from "../web/plain-form.ts";
import { isHtmx } from "../web/plain-form.ts";

const AccessView = z
  .object({
    id: z.number().int(),
    owner: z.string().nullable(),
    ownerFixed: z.boolean(),
    viewers: z.array(z.string()).meta({ description: 'Accounts, and unix groups as "@name"' }),
    editors: z.array(z.string()),
    role: z.enum(["none", "viewer", "editor", "owner", "admin"]).meta({ description: "What the asking account is to this dataset" }),
    canManage: z.boolean(),
    acl: z.object({ enabled: z.boolean(), appliedAt: z.string().nullable(), entries: z.number().int(), error: z.string().nullable() }),
  })
  .meta({ id: "Access" });

const Names = z.array(z.string().max(200)).max(500, { error: "may hold at most 500 names" });

/** Grants API and the sharing panel; each route's access rule has already checked the caller's level. */
export const accessRoutes = [
  route({
    method: "get",
    path: "/api/v1/datasets/:id/access",
    access: "read",
    group: "access",
    summary: 'Owner, viewers and editors (unix groups as "@name")',
    params: DatasetParams,
    responses: { 200: json(AccessView, "Who may read and edit the dataset") },
    handler: (c, { params }) => c.json(accessView(c.var.ctx, c.var.user, params.id)),
  }),
  route({
    method: "put",
    path: "/api/v1/datasets/:id/access",
    access: "manage",
    group: "access",
    summary: "Set viewers and editors (owner and admins only); also written to the share as POSIX ACLs",
    params: DatasetParams,
    body: z.strictObject({ viewers: Names.optional(), editors: Names.optional() }),
    responses: { 200: json(AccessView, "The grants as now enforced") },
    handler: async (c, { params, body }) => c.json(await setAccess(c.var.ctx, c.var.user, params.id, body)),
  }),
  route({
    method: "put",
    path: "/api/v1/datasets/:id/owner",
    access: "admin",
    group: "access",
    summary: "Reassign the owner (admins only)",
    params: DatasetParams,
    body: z.object({ owner: z.string().max(200) }),
    responses: { 200: json(AccessView, "The dataset's access with its new owner") },
    handler: async (c, { params, body }) => c.json(await reassignOwner(c.var.ctx, c.var.user, params.id, body)),
  }),
  route({
    method: "get",
    path: "/api/v1/access/people",
    access: "signed-in",
    group: "access",
    summary: "Account and group names for the sharing picker",
    query: z.object({ q: queryText(200) }),
    responses: { 200: json(z.object({ users: z.array(z.string()), groups: z.array(z.string()) }), "Names, groups as @name") },
    handler: async (c) => c.json(await pickerNames(c.var.ctx)),
  }),
  route({
    method: "get",
    path: "/datasets/:id/sharing",
    access: "signed-in",
    summary: "The sharing panel",
    params: DatasetParams,
    responses: { 200: html("The sharing panel") },
    handler: async (c, { params }) => c.html(await sharingPanel(c, params.id)),
  }),
  route({
    method: "post",
    path: "/datasets/:id/sharing",
    access: "manage",
    summary: "Share with a person or group, or take access away",
    params: DatasetParams,
    bodyType: "form",
    body: z.object({
      op: z.enum(["add", "remove"], { error: "must be add or remove" }),
      name: formText(200),
      role: z.enum(["viewer", "editor"], { error: "must be viewer or editor" }).optional(),
    }),
    responses: {
      200: html("The sharing panel, with the refusal when a name is unknown"),
      303: { description: "Without JavaScript: done, back to the dataset page" },
      400: html("Without JavaScript: the dataset page, its sharing panel with the refusal"),
    },
    handler: async (c, { params: { id }, body: f }) => {
      const name = (f.name ?? "").trim();
      if (!name) throw badRequest("name is required");
      const current = accessView(c.var.ctx, c.var.user, id);
      let viewers = current.viewers.filter((n) => n !== name);
      let editors = current.editors.filter((n) => n !== name);
      if (f.op === "add") {
        if (f.role === "editor") editors = [...editors, name];
        else viewers = [...viewers, name];
      }
      const notice = f.op === "add" ? `Shared with ${name}` : `${name} no longer has access`;
      try {
        const view = await setAccess(c.var.ctx, c.var.user, id, { viewers, editors });
        return answerPanel(c, id, "sharing", await sharingPanel(c, id, { view, notice }), 200, `${notice}.`);
      } catch (e) {
        // A bad name is shown inside the panel (htmx swaps only 2xx answers by default; a whole page says 400).
        if (e instanceof AppError && e.status === 400)
          return answerPanel(c, id, "sharing", await sharingPanel(c, id, { view: current, error: e.message }), isHtmx(c) ? 200 : 400);
        throw e;
      }
    },
  }),
];
