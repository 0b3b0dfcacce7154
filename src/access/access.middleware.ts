// The enforcement point: every declared route gets `requireAccess(rule)` first in its chain, so a request
// is answered 401/403/404 before its input is read or its handler runs.
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";
import { AppError, forbidden, notFound } from "../errors.ts";
import { atLeast, datasetAccess, roleOf, type Role } from "./access.cache.ts";
import { DATASET_LEVELS, levelOf, tokenOf, type Rule } from "../web/access-levels.ts";
import { requestAuth } from "../auth/request.ts";

const NEEDED_ROLE: Record<"read" | "edit" | "manage", Role> = { read: "viewer", edit: "editor", manage: "owner" };

const REFUSAL: Record<"read" | "edit" | "manage", string> = {
  read: "Only the owner and people it is shared with may open this dataset's content",
  edit: "Only the owner and editors may change this dataset",
  manage: "Only the owner and admins may change who has access",
};

function datasetIdOf(c: Context<AppEnv>, rule: Rule): number | undefined {
  const param = typeof rule === "object" && rule.datasetParam ? rule.datasetParam : "id";
  const raw = c.req.param(param);
  if (raw === undefined) return undefined;
  if (typeof rule === "object" && rule.resolve) return rule.resolve(c.var.ctx, raw);
  return /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/** The check a route's declared rule demands. */
export function requireAccess(rule: Rule): MiddlewareHandler<AppEnv> {
  const level = levelOf(rule);
  if (level === "public") return (_c, next) => next();
  const hasToken = tokenOf(rule) !== undefined;
  return async (c, next) => {
    // The route's shared secret opens this route only; its gate is mounted on no other.
    if (requestAuth(c)?.method === "route-token") {
      if (hasToken) return next();
      throw forbidden();
    }
    const user = c.var.user;
    if (!user) throw new AppError(401, "Sign in first");
    if (user.isAdmin || level === "signed-in") return next();
    if (level === "admin") throw forbidden("Only an admin may do that");
    if (!DATASET_LEVELS.has(level)) throw forbidden();
    const id = datasetIdOf(c, rule);
    const access = id === undefined ? undefined : datasetAccess(c.var.ctx, id);
    if (!access) throw notFound(id === undefined ? "No such dataset" : `No dataset with id ${id}`);
    const needed = level as "read" | "edit" | "manage";
    if (!atLeast(roleOf(access, user), NEEDED_ROLE[needed])) throw forbidden(REFUSAL[needed]);
    return next();
  };
}

/** The caller's role on a dataset, for pages that show or hide controls (the same cache the check uses). */
export function datasetRole(c: Context<AppEnv>, id: number): Role {
  const access = datasetAccess(c.var.ctx, id);
  if (!access || !c.var.user) return "none";
  return roleOf(access, c.var.user);
}
