import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, Principal } from "../context.ts";
import { AppError } from "../errors.ts";
import { auditSignIn } from "../audit/audit.service.ts";
import { LoginPage } from "../../templates/auth/login.tsx";
import { authRuntime } from "./auth.runtime.ts";
import { signIn } from "./login.service.ts";
import { sameSecret } from "./password.ts";
import { clientAddress, isMachineRequest } from "../web/request-info.ts";
import { crossSiteRefusal, readSessionCookie, requestAuth, safeNext, setRequestAuth, writeSessionCookie, type RequestAuth } from "./request.ts";
import { createSession, findSession } from "./session.service.ts";
import { principalForToken } from "./token.service.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The single seam where every request gets its signed-in account (routes mounted before it, health,
 * static assets and the login page, stay open). Accepts, in order: HTTP Basic against the configured
 * backend, an API token (Bearer), a Kerberos ticket (Negotiate), or the session cookie. A browser attaches the
 * cookie, cached Basic credentials and Kerberos tickets to a cross-site form post by itself, so a state-changing
 * request with any of these ambient credentials is refused when it comes from another site (before the
 * credential is even checked), and a cookie-authenticated one must also carry the session's CSRF token. Only a
 * Bearer token, which no browser sends by itself, is exempt.
 */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  // A route's own shared secret was accepted by its gate (src/auth/route-token.ts): there is no account to find.
  if (requestAuth(c)?.method === "route-token") return next();
  const ctx = c.var.ctx;
  const header = c.req.header("Authorization") ?? "";
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const credential = space < 0 ? "" : header.slice(space + 1).trim();

  const ambient = scheme === "basic" || scheme === "negotiate" || (scheme === "" && readSessionCookie(c) !== undefined);
  if (ambient && !SAFE_METHODS.has(c.req.method)) {
    const why = crossSiteRefusal(c);
    if (why) throw new AppError(403, `Refused: this request changes data and ${why}, not from this site`, { code: "csrf" });
  }

  if (scheme === "basic") {
    const decoded = Buffer.from(credential, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 1) return challenge(c, "Malformed Basic credentials");
    let principal: Principal;
    try {
      principal = await signIn(ctx, decoded.slice(0, colon), decoded.slice(colon + 1), clientAddress(c), "basic");
    } catch (e) {
      if (e instanceof AppError && e.status === 401) return challenge(c, e.message);
      throw e;
    }
    return proceed(c, next, principal, { method: "basic", csrf: null });
  }

  if (scheme === "bearer") {
    const principal = principalForToken(ctx, credential);
    if (!principal) return challenge(c, "Unknown or revoked API token");
    return proceed(c, next, principal, { method: "token", csrf: null });
  }

  if (scheme === "negotiate") {
    const negotiator = authRuntime(ctx).negotiator;
    if (!negotiator) return challenge(c, "Kerberos sign-in is not configured here");
    const r = negotiator.accept(credential);
    if (!r.ok) {
      auditSignIn(ctx, "signin.failed", "", "negotiate", clientAddress(c), r.error);
      return challenge(c, `Kerberos ticket refused: ${r.error}`);
    }
    const principal = r.localName ? authRuntime(ctx).backend.lookup(r.localName) : null;
    if (!principal) {
      auditSignIn(ctx, "signin.failed", r.principal, "negotiate", clientAddress(c), "no account here");
      return challenge(c, `Kerberos principal ${r.principal} has no account here`);
    }
    auditSignIn(ctx, "signin", principal.name, "negotiate", clientAddress(c));
    // A browser gets a session, so it does not repeat the Kerberos exchange on every request.
    const session = isMachineRequest(c) ? null : createSession(ctx, principal, "negotiate");
    await proceed(c, next, principal, { method: "negotiate", csrf: session?.csrf ?? null });
    if (session) writeSessionCookie(c, session.cookieValue);
    if (r.outToken) c.header("WWW-Authenticate", `Negotiate ${r.outToken}`);
    return;
  }

  if (scheme) return challenge(c, `Unsupported authorization scheme ${scheme}`);

  const cookie = readSessionCookie(c);
  const session = cookie ? findSession(ctx, cookie) : null;
  if (!session) return challenge(c, "Sign in first");
  if (!SAFE_METHODS.has(c.req.method)) {
    const sent = c.req.header("X-CSRF-Token") ?? (await formField(c, "_csrf"));
    if (!sent || !sameSecret(sent, session.csrf)) throw new AppError(403, "Missing or wrong CSRF token; reload the page and try again", { code: "csrf" });
  }
  return proceed(c, next, session.principal, { method: "session", csrf: session.csrf });
};

async function proceed(c: Context<AppEnv>, next: () => Promise<void>, principal: Principal, auth: RequestAuth): Promise<void> {
  c.set("user", principal);
  setRequestAuth(c, auth);
  await next();
}

/** A field of a plain form post, read without consuming the body for the handler (hono caches it). */
async function formField(c: Context<AppEnv>, name: string): Promise<string | undefined> {
  const type = c.req.header("Content-Type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) return undefined;
  const body = await c.req.parseBody();
  const v = body[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * The answer without a valid sign-in: 401 JSON for the API (with Basic and, when configured, Negotiate
 * challenges), htmx gets a redirect header, a page gets the login form (as the body of a Negotiate
 * challenge when Kerberos is on, so a browser holding a ticket signs in without it) or a redirect to it.
 */
async function challenge(c: Context<AppEnv>, message: string): Promise<Response> {
  const kerberos = authRuntime(c.var.ctx).negotiator !== null;
  const next = safeNext(c.req.path + new URL(c.req.url).search);
  const loginUrl = `/login?next=${encodeURIComponent(next)}`;
  if (isMachineRequest(c)) {
    const res = c.json({ error: { code: "unauthorized", message } }, 401);
    res.headers.append("WWW-Authenticate", 'Basic realm="Mata", charset="UTF-8"');
    if (kerberos) res.headers.append("WWW-Authenticate", "Negotiate");
    return res;
  }
  if (c.req.header("HX-Request")) {
    c.header("HX-Redirect", loginUrl);
    return c.body(null, 401);
  }
  if (kerberos) {
    c.header("WWW-Authenticate", "Negotiate");
    return c.html(LoginPage({ next, kerberos: true }), 401);
  }
  return c.redirect(loginUrl, 302);
}
