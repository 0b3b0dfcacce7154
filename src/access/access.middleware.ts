// The one enforcement point: mounted right after `authenticate`, it finds the route Hono matched,
// looks its level up in ROUTE_RULES and answers 401/403/404 before any handler runs.
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../context.ts";
import { AppError, forbidden, notFound } from "../errors.ts";
import { atLeast, datasetAccess, roleOf, type Role } from "./access.cache.ts";
import { levelOf, ROUTE_RULES, type Rule } from "./access.rules.ts";

const NEEDED_ROLE: Record<"read" | "edit" | "manage", Role> = { read: "viewer", edit: "editor", manage: "owner" };

const patterns = new Map<string, RegExp>();

/** A regex for a Hono path (`:name`, `:name{re}`, trailing `*`) capturing the named params. */
function patternOf(honoPath: string): RegExp {
  let re = patterns.get(honoPath);
  if (!re) {
    const src = honoPath
      .split("/")
      .map((seg) => {
        const m = /^:(\w+)(?:\{(.+)\})?(\?)?$/.exec(seg);
        if (m) return `(?<${m[1]}>${m[2] ?? "[^/]+"})`;
        if (seg === "*") return ".*";
        return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/")
      // Hono lets a trailing `/*` match the bare prefix too.
      .replace(/\/\.\*$/, "(?:/.*)?");
    re = new RegExp(`^${src}$`);
    patterns.set(honoPath, re);
  }
  return re;
}

/** The value of a path param of a route pattern in a concrete path, or undefined. */
export function paramFrom(honoPath: string, path: string, name: string): string | undefined {
  return patternOf(honoPath).exec(path)?.groups?.[name];
}

/**
 * The route that answers: the first handler Hono matched (middleware excluded), since handlers run in
 * registration order and the first one responds (handlers never fall through with next()).
 */
function answeringRoute(c: Context<AppEnv>): RouteRule | undefined {
  for (const r of matchedRoutes(c)) {
    if (!isHandler(r)) continue;
    let found = byRoute.get(r);
    if (!found) {
      const key = `${r.method} ${r.path}`;
      found = { key, path: r.path, rule: ROUTE_RULES[key] };
      byRoute.set(r, found);
    }
    return found;
  }
  return undefined;
}

/**
 * Whether a matched route answers requests rather than passing them on: every method-specific route,
 * and an `app.all()` route whose function takes no `next` (middleware is `(c, next)`).
 */
export function isHandler(r: { method: string; handler: (...args: never[]) => unknown }): boolean {
  return r.method !== "ALL" || r.handler.length < 2;
}

type RouteRule = { key: string; path: string; rule: Rule | undefined };
/** Hono's route objects live as long as the app: their rule is looked up once. */
const byRoute = new WeakMap<object, RouteRule>();

function datasetIdOf(c: Context<AppEnv>, routePath: string, rule: Rule): number | undefined {
  const param = typeof rule === "object" && rule.datasetParam ? rule.datasetParam : "id";
  // The raw path: an id must be plain digits, so an encoded one is refused rather than decoded twice.
  const raw = paramFrom(routePath, c.req.path, param);
  if (raw === undefined) return undefined;
  if (typeof rule === "object" && rule.resolve) return rule.resolve(c.var.ctx, raw);
  return /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/** Checks every request against the route table; an unlisted route is refused to all but admins. */
export const enforceAccess: MiddlewareHandler<AppEnv> = async (c, next) => {
  const route = answeringRoute(c);
  if (!route) return next(); // nothing handles it: the 404 handler answers
  if (route.rule === undefined) {
    if (c.var.user?.isAdmin) return next();
    throw forbidden(`No access rule covers ${route.key}; refused until one is added to src/access/access.rules.ts`);
  }
  const level = levelOf(route.rule);
  if (level === "public") return next();
  const user = c.var.user;
  if (!user) throw new AppError(401, "Sign in first");
  if (user.isAdmin || level === "signed-in") return next();
  if (level === "admin") throw forbidden("Only an admin may do that");
  const id = datasetIdOf(c, route.path, route.rule);
  const access = id === undefined ? undefined : datasetAccess(c.var.ctx, id);
  if (!access) throw notFound(id === undefined ? "No such dataset" : `No dataset with id ${id}`);
  if (!atLeast(roleOf(access, user), NEEDED_ROLE[level as "read" | "edit" | "manage"])) {
    throw forbidden(level === "read" ? "Only the owner and people it is shared with may open this dataset's content" : level === "edit" ? "Only the owner and editors may change this dataset" : "Only the owner and admins may change who has access");
  }
  return next();
};

/** The caller's role on a dataset, for pages that show or hide controls (the same cache the check uses). */
export function datasetRole(c: Context<AppEnv>, id: number): Role {
  const access = datasetAccess(c.var.ctx, id);
  if (!access || !c.var.user) return "none";
  return roleOf(access, c.var.user);
}
