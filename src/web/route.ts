// One declaration per route: method, path, access rule, input and response schemas, summary and handler.
// The router, the access check, request validation and the OpenAPI document are all derived from these.
import type { Context, Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import type { AppEnv } from "../context.ts";
import { AppError, badRequest, tooLarge } from "../errors.ts";
import type { Rule } from "./access-levels.ts";

/** The HTTP methods routes use. */
export type Method = "get" | "post" | "put" | "patch" | "delete";

/** One documented answer: JSON with a schema, or another media type (HTML, an image, a file). */
export interface ResponseSpec {
  description: string;
  /** The JSON body's schema (also checked against real answers when MATA_CHECK_RESPONSES=1). */
  json?: z.ZodType;
  /** A non-JSON media type, e.g. "text/html" or "application/octet-stream". */
  type?: string;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives besides the context: its validated inputs, typed by the declaration. */
export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

/** A route as its feature declares it. */
export interface RouteSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined> {
  method: Method;
  /** Hono syntax: `/api/v1/datasets/:id`, `/tags/:hash{[0-9a-f]{64}}`, a trailing `/*`. */
  path: string;
  access: Rule;
  summary: string;
  description?: string;
  /** The OpenAPI tag (group) it is listed under. */
  group?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** How the body arrives: JSON (the API, default) or an HTML form post (the pages). */
  bodyType?: "json" | "form";
  responses: Record<number, ResponseSpec>;
  handler: (c: Context<AppEnv>, input: RouteInput<P, Q, B>) => Response | Promise<Response>;
}

/** A declared route with its inputs erased, as the router, the access check and the document see it. */
export type Route = RouteSpec<AnyObject | undefined, AnyObject | undefined, z.ZodType | undefined>;

/** Declares a route; the types of `handler`'s inputs follow from the schemas. */
export function route<P extends AnyObject | undefined = undefined, Q extends AnyObject | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  spec: RouteSpec<P, Q, B>,
): Route {
  return spec as unknown as Route;
}

// A whole tag tree at the limits (2,000 tags of 4 KB values) fits well inside this.
const MAX_BODY = 16 * 1024 * 1024;

/** Refuses an oversized body (413) before anything reads it; mounted ahead of `authenticate`, which may read a form's CSRF field. */
export const limitBody: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: MAX_BODY,
  onError: () => {
    throw tooLarge(`The request body is over the limit of ${MAX_BODY.toLocaleString("en-US")} bytes`);
  },
});

/** Zod's first issue as one line naming the failing field: `limit must be from 1 to 1000`. */
function describeIssues(target: string, error: z.core.$ZodError): string {
  const first = error.issues[0];
  if (!first) return `Invalid ${target}`;
  const where =
    first.path.length > 0
      ? first.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i > 0 ? `.${String(p)}` : String(p))).join("")
      : target === "body"
        ? "The request body"
        : target;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  return `${where} ${first.message}${more}`;
}

const refuse = (target: string) => (result: { success: boolean; error?: z.core.$ZodError }) => {
  if (!result.success)
    throw badRequest(describeIssues(target, result.error!), { issues: result.error!.issues.map((i) => ({ path: i.path.map(String), message: i.message })) });
};

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** A JSON body must say so (without this a form post would validate as an empty object and do nothing) and parse. */
const jsonOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
  if (type === "" && (c.req.header("Content-Length") ?? "0") === "0" && !c.req.header("Transfer-Encoding")) return next();
  if (!JSON_TYPE.test(type)) throw new AppError(415, `Send the request body as JSON with Content-Type: application/json (got ${type || "no Content-Type"})`);
  // Parsed here for a clear message; Hono keeps the result for the validator.
  try {
    await c.req.json();
  } catch (e) {
    throw badRequest(`The request body must be JSON: ${(e as Error).message}`);
  }
  return next();
};

/** Turns a route's declared access rule into the check that enforces it (the access feature's `requireAccess`). */
export type Guard = (rule: Rule) => MiddlewareHandler<AppEnv>;

/** The middleware chain of one route: access first (401/403/404 before anything is read), then each input. */
function chain(r: Route, guard: Guard): MiddlewareHandler<AppEnv>[] {
  const out: MiddlewareHandler<AppEnv>[] = [guard(r.access)];
  if (r.params) out.push(zValidator("param", r.params, refuse("path")) as unknown as MiddlewareHandler<AppEnv>);
  if (r.query) out.push(zValidator("query", r.query, refuse("query")) as unknown as MiddlewareHandler<AppEnv>);
  if (r.body) {
    if (r.bodyType === "form") out.push(zValidator("form", r.body, refuse("form")) as unknown as MiddlewareHandler<AppEnv>);
    else out.push(jsonOnly, zValidator("json", r.body, refuse("body")) as unknown as MiddlewareHandler<AppEnv>);
  }
  return out;
}

/**
 * With MATA_CHECK_RESPONSES=1 (the test suite sets it) every JSON answer is checked against its declared
 * schema, so the OpenAPI document cannot drift from what the handlers really send.
 */
const CHECK_RESPONSES = process.env.MATA_CHECK_RESPONSES === "1";

async function checkResponse(r: Route, res: Response): Promise<Response> {
  const schema = r.responses[res.status]?.json;
  if (!schema || !(res.headers.get("Content-Type") ?? "").startsWith("application/json")) return res;
  const result = schema.safeParse(await res.clone().json());
  if (!result.success)
    throw new Error(`${routeKey(r)} answered ${res.status} with JSON its declaration does not allow: ${describeIssues("response", result.error)}`);
  return res;
}

/** Registers declared routes on an app: each gets its access check (from `guard`), validators and handler. */
export function mountRoutes(app: Hono<AppEnv>, routes: readonly Route[], guard: Guard): void {
  for (const r of routes) {
    const valid = (c: Context<AppEnv>, target: "param" | "query" | "json" | "form") => (c.req as unknown as { valid(t: string): unknown }).valid(target);
    const run = (c: Context<AppEnv>) =>
      r.handler(c, {
        params: r.params ? valid(c, "param") : undefined,
        query: r.query ? valid(c, "query") : undefined,
        body: r.body ? valid(c, r.bodyType === "form" ? "form" : "json") : undefined,
      } as RouteInput<unknown, unknown, unknown> as never);
    const handler = CHECK_RESPONSES ? async (c: Context<AppEnv>) => checkResponse(r, await run(c)) : run;
    app.on(r.method.toUpperCase(), [r.path], ...chain(r, guard), handler);
  }
}

/**
 * Remembers which declared route answers each request, for its metrics label: the first mounted route that matches,
 * as the router picks it. Mounted ahead of sign-in, so a refused request is counted under its route too.
 */
export function markRoutes(app: Hono<AppEnv>, routes: readonly Route[]): void {
  for (const r of routes) {
    app.on(r.method.toUpperCase(), [r.path], async (c, next) => {
      if (!c.get("route")) c.set("route", r);
      await next();
    });
  }
}

/** The `METHOD path` key of a route, as Hono lists it in `app.routes`. */
export function routeKey(r: { method: string; path: string }): string {
  return `${r.method.toUpperCase()} ${r.path}`;
}
