import { Hono, type Context } from "hono";
import type { AppEnv } from "../context.ts";
import { AppError, badRequest } from "../errors.ts";
import { AccountPage } from "../../templates/auth/account.tsx";
import { changeOwnPassword } from "./account.service.ts";
import { authRuntime } from "./auth.runtime.ts";
import { clearSessionCookie, clientAddress, readSessionCookie, requestAuth, writeSessionCookie } from "./request.ts";
import { endSession } from "./session.service.ts";
import { createToken, listTokens, revokeToken } from "./token.service.ts";
import { jsonBody } from "../pages/body.ts";
import { idParam } from "../web/params.ts";

type Extra = { newToken?: { label: string; secret: string }; message?: string; error?: string; csrf?: string };

function page(c: Context<AppEnv>, extra: Extra = {}, status: 200 | 400 | 401 | 429 = 200) {
  const user = c.var.user;
  const tokens = listTokens(c.var.ctx, user.name).map((t) => ({ id: t.id, label: t.label, prefix: t.prefix, createdAt: t.created_at, lastUsedAt: t.last_used_at }));
  const csrf = extra.csrf ?? requestAuth(c)?.csrf ?? "";
  return c.html(AccountPage({ user, csrf, backend: authRuntime(c.var.ctx).backend.kind, tokens, ...extra }), status);
}

const field = (form: Record<string, unknown>, name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");

/** The signed-in user's own account page: API tokens, password, sign-out (mounted after `authenticate`). */
export const accountRoutes = new Hono<AppEnv>()
  .get("/account", (c) => page(c))
  .post("/account/tokens", async (c) => {
    const form = await c.req.parseBody();
    const label = field(form, "label");
    const t = createToken(c.var.ctx, c.var.user.name, label);
    return page(c, { newToken: { label: label.trim(), secret: t.secret } });
  })
  .post("/account/tokens/:id/revoke", (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id < 1) throw badRequest(`"${c.req.param("id")}" is not a token id`);
    revokeToken(c.var.ctx, c.var.user.name, id);
    return c.redirect("/account", 303);
  })
  .post("/account/password", async (c) => {
    const form = await c.req.parseBody();
    try {
      const session = await changeOwnPassword(c.var.ctx, c.var.user, field(form, "current"), field(form, "password"), field(form, "confirm"), clientAddress(c));
      if (requestAuth(c)?.method === "session") writeSessionCookie(c, session.cookieValue);
      return page(c, { message: "Password changed", csrf: session.csrf });
    } catch (e) {
      if (e instanceof AppError && (e.status === 400 || e.status === 401 || e.status === 429)) {
        return page(c, { error: e.status === 401 ? "The current password is wrong" : e.message }, e.status);
      }
      throw e;
    }
  })
  // API tokens for scripts (`mata token create`): the secret is shown once, in this answer.
  .get("/api/v1/tokens", (c) => c.json({ items: listTokens(c.var.ctx, c.var.user.name).map((t) => ({ id: t.id, label: t.label, prefix: t.prefix, createdAt: t.created_at, lastUsedAt: t.last_used_at })) }))
  .post("/api/v1/tokens", async (c) => {
    const body = await jsonBody(c);
    const label = typeof body.label === "string" ? body.label : "";
    const t = createToken(c.var.ctx, c.var.user.name, label);
    return c.json({ id: t.id, label: label.trim(), secret: t.secret }, 201);
  })
  .delete("/api/v1/tokens/:id", (c) => {
    revokeToken(c.var.ctx, c.var.user.name, idParam(c.req.param("id")));
    return c.body(null, 204);
  })
  .post("/logout", (c) => {
    const cookie = readSessionCookie(c);
    if (cookie) endSession(c.var.ctx, cookie);
    clearSessionCookie(c);
    return c.redirect("/login", 303);
  });
