import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context.ts";
import { AppError } from "../errors.ts";
import { formText } from "../web/fragment.ts";
import { route } from "../web/route.ts";
import { html, Id, json } from "../web/schemas.ts";
import { AccountPage } from "../../templates/auth/account.tsx";
import { changeOwnPassword } from "./account.service.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { authRuntime } from "./auth.runtime.ts";
import { clearSessionCookie, readSessionCookie, requestAuth, writeSessionCookie } from "./request.ts";
import { clientAddress } from "../web/request-info.ts";
import { endSession } from "./session.service.ts";
import { createToken, listTokens, revokeToken } from "./token.service.ts";

type Extra = { newToken?: { label: string; secret: string }; message?: string; error?: string; csrf?: string };

const tokenViews = (c: Context<AppEnv>) =>
  listTokens(c.var.ctx, c.var.user.name).map((t) => ({ id: t.id, label: t.label, prefix: t.prefix, createdAt: t.created_at, lastUsedAt: t.last_used_at }));

function page(c: Context<AppEnv>, extra: Extra = {}, status: 200 | 400 | 401 | 429 = 200) {
  const csrf = extra.csrf ?? requestAuth(c)?.csrf ?? "";
  return c.html(AccountPage({ user: c.var.user, csrf, backend: authRuntime(c.var.ctx).backend.kind, tokens: tokenViews(c), ...extra }), status);
}

const TokenView = z.object({
  id: z.number().int(),
  label: z.string(),
  prefix: z.string().meta({ description: "The first characters of the secret, to tell tokens apart" }),
  createdAt: z.number().meta({ description: "ms since the epoch" }),
  lastUsedAt: z.number().nullable(),
});
const TokenParams = z.object({ id: Id.meta({ description: "Token id" }) });

/** The signed-in user's own account: the page, API tokens (page and API), password, sign-out. */
export const accountRoutes = [
  route({
    method: "get",
    path: "/account",
    access: "signed-in",
    summary: "The account page: API tokens, password, sign-out",
    responses: { 200: html() },
    handler: (c) => page(c),
  }),
  route({
    method: "post",
    path: "/account/tokens",
    access: "signed-in",
    summary: "Create an API token; the page shows its secret once",
    bodyType: "form",
    body: z.object({ label: formText(200) }),
    responses: { 200: html("The account page with the new secret") },
    handler: (c, { body }) => {
      const label = body.label ?? "";
      const t = createToken(c.var.ctx, c.var.user.name, label);
      return page(c, { newToken: { label: label.trim(), secret: t.secret } });
    },
  }),
  route({
    method: "post",
    path: "/account/tokens/:id/revoke",
    access: "signed-in",
    summary: "Revoke one of one's own tokens",
    params: TokenParams,
    responses: { 303: { description: "Back to the account page" } },
    handler: (c, { params }) => {
      revokeToken(c.var.ctx, c.var.user.name, params.id);
      return c.redirect("/account", 303);
    },
  }),
  route({
    method: "post",
    path: "/account/password",
    access: "signed-in",
    summary: "Change one's own password (ends the account's other sessions)",
    bodyType: "form",
    body: z.object({ current: formText(4096), password: formText(4096), confirm: formText(4096) }),
    responses: {
      200: html("The account page, saying so"),
      400: html("The page with the refusal"),
      401: html("The page: the current password is wrong"),
      429: html("The page: too many attempts"),
    },
    handler: async (c, { body: f }) => {
      try {
        const session = await changeOwnPassword(c.var.ctx, c.var.user, f.current ?? "", f.password ?? "", f.confirm ?? "", clientAddress(c));
        if (requestAuth(c)?.method === "session") writeSessionCookie(c, session.cookieValue);
        return page(c, { message: "Password changed", csrf: session.csrf });
      } catch (e) {
        if (e instanceof AppError && (e.status === 400 || e.status === 401 || e.status === 429)) {
          return page(c, { error: e.status === 401 ? "The current password is wrong" : e.message }, e.status);
        }
        throw e;
      }
    },
  }),
  route({
    method: "get",
    path: "/api/v1/tokens",
    access: "signed-in",
    group: "tokens",
    summary: "The signed-in account's API tokens (labels and prefixes, never secrets)",
    responses: { 200: json(z.object({ items: z.array(TokenView) }), "The account's live tokens") },
    handler: (c) => c.json({ items: tokenViews(c) }),
  }),
  route({
    method: "post",
    path: "/api/v1/tokens",
    access: "signed-in",
    group: "tokens",
    summary: "Create an API token for scripts; the secret is in this answer only",
    body: z.object({ label: z.string().max(200).meta({ description: "What the token is for, 1 to 100 characters" }) }),
    responses: {
      201: json(
        z.object({ id: z.number().int(), label: z.string(), secret: z.string().meta({ description: "Send as `Authorization: Bearer SECRET`" }) }),
        "The new token",
      ),
    },
    handler: (c, { body }) => {
      const t = createToken(c.var.ctx, c.var.user.name, body.label);
      return c.json({ id: t.id, label: body.label.trim(), secret: t.secret }, 201);
    },
  }),
  route({
    method: "delete",
    path: "/api/v1/tokens/:id",
    access: "signed-in",
    group: "tokens",
    summary: "Revoke one of the signed-in account's tokens",
    params: TokenParams,
    responses: { 204: { description: "Revoked" } },
    handler: (c, { params }) => {
      revokeToken(c.var.ctx, c.var.user.name, params.id);
      return c.body(null, 204);
    },
  }),
  route({
    method: "post",
    path: "/logout",
    access: "signed-in",
    summary: "Sign out: ends this session",
    responses: { 303: { description: "Signed out: on to the sign-in page" } },
    handler: (c) => {
      const cookie = readSessionCookie(c);
      if (cookie) endSession(c.var.ctx, cookie);
      recordAudit(c.var.ctx, { action: "signout", actor: c.var.user.name, address: clientAddress(c) });
      clearSessionCookie(c);
      return c.redirect("/login", 303);
    },
  }),
];
