import { z } from "zod";
import { AppError } from "../errors.ts";
import { formText } from "../web/fragment.ts";
import { route } from "../web/route.ts";
import { html } from "../web/schemas.ts";
import { LoginPage } from "../../templates/auth/login.tsx";
import { authRuntime } from "./auth.runtime.ts";
import { signIn } from "./login.service.ts";
import { crossSiteRefusal, readSessionCookie, safeNext, writeSessionCookie } from "./request.ts";
import { clientAddress } from "../web/request-info.ts";
import { createSession, endSession, findSession } from "./session.service.ts";

/** The sign-in page and form post: open to everyone (they are mounted before `authenticate`). */
export const loginRoutes = [
  route({
    method: "get",
    path: "/login",
    access: "public",
    summary: "The sign-in page (a signed-in browser goes on to `next`)",
    query: z.object({ next: z.string().max(2000).optional() }),
    responses: { 200: html(), 303: { description: "Already signed in: on to `next`" } },
    handler: (c, { query }) => {
      const next = safeNext(query.next);
      const cookie = readSessionCookie(c);
      if (cookie && findSession(c.var.ctx, cookie)) return c.redirect(next, 303);
      return c.html(LoginPage({ next, kerberos: authRuntime(c.var.ctx).negotiator !== null }));
    },
  }),
  route({
    method: "post",
    path: "/login",
    access: "public",
    summary: "Sign in with account name and password",
    bodyType: "form",
    body: z.object({ name: formText(200), password: formText(4096), next: formText(2000) }),
    responses: {
      303: { description: "Signed in: a new session cookie, on to `next`" },
      401: html("The form with the refusal"),
      429: html("The form: too many failed attempts"),
    },
    handler: async (c, { body: f }) => {
      // Login CSRF: a browser marks a cross-site form post (Origin, Sec-Fetch-Site); it must be this site.
      if (crossSiteRefusal(c)) throw new AppError(403, "Sign-in from another site is refused", { code: "csrf" });
      const name = f.name ?? "";
      const next = safeNext(f.next ?? "/");
      const kerberos = authRuntime(c.var.ctx).negotiator !== null;
      try {
        const principal = await signIn(c.var.ctx, name, f.password ?? "", clientAddress(c), "form");
        // A new id at every sign-in: whatever session id the browser had (perhaps planted) is dropped.
        const old = readSessionCookie(c);
        if (old) endSession(c.var.ctx, old);
        const session = createSession(c.var.ctx, principal, "password");
        writeSessionCookie(c, session.cookieValue);
        return c.redirect(next, 303);
      } catch (e) {
        if (e instanceof AppError && (e.status === 401 || e.status === 429)) {
          return c.html(LoginPage({ next, error: e.message, name, kerberos }), e.status);
        }
        throw e;
      }
    },
  }),
];
