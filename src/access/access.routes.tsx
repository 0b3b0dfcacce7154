import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { AppError, badRequest } from "../errors.ts";
import { idParam } from "../web/params.ts";
import { SharingPanel } from "../../templates/access/sharing.tsx";
import { accessView, pickerNames, reassignOwner, setAccess } from "./access.service.ts";

async function jsonBody(c: { req: { json(): Promise<unknown> } }): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw badRequest("The request body must be JSON");
  }
}

/** Grants API and the sharing panel; the enforcement point has already checked the caller's level. */
export const accessRoutes = new Hono<AppEnv>()
  .get("/api/v1/datasets/:id/access", (c) => c.json(accessView(c.var.ctx, c.var.user, idParam(c.req.param("id")))))
  .put("/api/v1/datasets/:id/access", async (c) => c.json(await setAccess(c.var.ctx, c.var.user, idParam(c.req.param("id")), await jsonBody(c))))
  .put("/api/v1/datasets/:id/owner", async (c) => c.json(await reassignOwner(c.var.ctx, c.var.user, idParam(c.req.param("id")), await jsonBody(c))))
  .get("/api/v1/access/people", async (c) => c.json(await pickerNames(c.var.ctx)))
  .get("/datasets/:id/sharing", async (c) => {
    const view = accessView(c.var.ctx, c.var.user, idParam(c.req.param("id")));
    return c.html(<SharingPanel view={view} people={view.canManage ? await pickerNames(c.var.ctx) : undefined} />);
  })
  .post("/datasets/:id/sharing", async (c) => {
    const id = idParam(c.req.param("id"));
    const form = await c.req.parseBody();
    const op = String(form.op ?? "");
    const name = String(form.name ?? "").trim();
    const role = String(form.role ?? "viewer");
    const current = accessView(c.var.ctx, c.var.user, id);
    let viewers = current.viewers.filter((n) => n !== name);
    let editors = current.editors.filter((n) => n !== name);
    let notice: string;
    if (op === "add") {
      if (role === "editor") editors = [...editors, name];
      else if (role === "viewer") viewers = [...viewers, name];
      else throw badRequest("role must be viewer or editor");
      notice = `Shared with ${name}`;
    } else if (op === "remove") {
      notice = `${name} no longer has access`;
    } else throw badRequest("op must be add or remove");
    try {
      const view = await setAccess(c.var.ctx, c.var.user, id, { viewers, editors });
      return c.html(<SharingPanel view={view} people={await pickerNames(c.var.ctx)} notice={notice} />);
    } catch (e) {
      // A bad name is shown inside the panel (htmx swaps only 2xx answers by default).
      if (e instanceof AppError && e.status === 400) return c.html(<SharingPanel view={current} people={await pickerNames(c.var.ctx)} error={e.message} />);
      throw e;
    }
  });
