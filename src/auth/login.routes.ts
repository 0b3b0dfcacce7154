import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { AppError } from "../errors.ts";
import { LoginPage } from "../../templates/auth/login.tsx";
import { authRuntime } from "./auth.runtime.ts";
import { signIn } from "./login.service.ts";
import { clientAddress, readSessionCookie, safeNext, writeSessionCookie } from "./request.ts";
import { createSession, endSession, findSession } from "./session.service.ts";

/** The sign-in page and form post; mounted before `authenticate`, so they are open to everyone. */
export const loginRoutes = new Hono<AppEnv>()
  .get("/login", (c) => {
    const next = safeNext(c.req.query("next"));
    const cookie = readSessionCookie(c);
    if (cookie && findSession(c.var.ctx, cookie)) return c.redirect(next, 303);
    return c.html(LoginPage({ next, kerberos: authRuntime(c.var.ctx).negotiator !== null }));
  })
  .post("/login", async (c) => {
    // Login CSRF: a browser always sends Origin on a cross-site form post; it must be this site.
    const origin = c.req.header("Origin");
    if (origin && origin !== "null" && new URL(origin).host !== new URL(c.req.url).host) {
      throw new AppError(403, "Sign-in from another site is refused", { code: "csrf" });
    }
    const form = await c.req.parseBody();
    const name = typeof form.name === "string" ? form.name : "";
    const password = typeof form.password === "string" ? form.password : "";
    const next = safeNext(typeof form.next === "string" ? form.next : "/");
    const kerberos = authRuntime(c.var.ctx).negotiator !== null;
    try {
      const principal = await signIn(c.var.ctx, name, password, clientAddress(c));
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
  });
