// Per-instance cache (one per context, built with its services) of who may do what on each dataset: a permission check on a hot route (tiles)
// costs a Map lookup instead of a SQLite read transaction (~6 us). Every grant or owner change made
// through Mata invalidates the entry at once; sync hooks invalidate it too, and a short lifetime
// bounds how long an owner change written by another process can go unnoticed.
import type { AppContext, Principal } from "../context.ts";
import { accessRepo } from "./access.repo.ts";

/** What a principal is to a dataset, weakest first. */
export type Role = "none" | "viewer" | "editor" | "owner" | "admin";

/** The grants and owner of one dataset, as the enforcement point needs them. */
export interface DatasetAccess {
  id: number;
  /** The dataset's lasting identity (kept in `.mata/identity.json`), which the root helper checks a folder against. */
  uid: string;
  path: string;
  owner: string | null;
  ownerFixed: boolean;
  state: "present" | "missing";
  users: Map<string, "viewer" | "editor">;
  groups: Map<string, "viewer" | "editor">;
  expires: number;
}

const TTL_MS = 5000;

/** The cached access of each dataset id, one per context, so two instances in a process never share grants. */
export type AccessCache = Map<number, DatasetAccess>;

/** An empty cache for a new context. */
export function newAccessCache(): AccessCache {
  return new Map();
}

function cacheOf(ctx: AppContext): AccessCache {
  return ctx.services.accessCache;
}

/** The owner and grants of a dataset (cached), or undefined when there is no such dataset. */
export function datasetAccess(ctx: AppContext, id: number): DatasetAccess | undefined {
  const cache = cacheOf(ctx);
  const now = ctx.clock.now();
  const hit = cache.get(id);
  if (hit && hit.expires > now) return hit;
  const repo = accessRepo(ctx.db);
  const d = repo.dataset(id);
  if (!d) {
    cache.delete(id);
    return undefined;
  }
  const entry: DatasetAccess = {
    id,
    uid: d.uid,
    path: d.path,
    owner: d.owner,
    ownerFixed: d.owner_fixed === 1,
    state: d.state,
    users: new Map(),
    groups: new Map(),
    expires: now + TTL_MS,
  };
  for (const g of repo.grants(id)) {
    if (g.principal.startsWith("user:")) entry.users.set(g.principal.slice(5), g.role);
    else if (g.principal.startsWith("group:")) entry.groups.set(g.principal.slice(6), g.role);
  }
  if (cache.size > 100_000) cache.clear();
  cache.set(id, entry);
  return entry;
}

/** Forgets one dataset's cached access (or all of them), after a grant, owner or folder change. */
export function invalidateAccess(ctx: AppContext, id?: number): void {
  if (id === undefined) cacheOf(ctx).clear();
  else cacheOf(ctx).delete(id);
}

const RANK: Record<Role, number> = { none: 0, viewer: 1, editor: 2, owner: 3, admin: 4 };

/** The strongest role a principal holds on a dataset: admin, owner, a user grant or any of its groups' grants. */
export function roleOf(access: DatasetAccess, user: Principal): Role {
  if (user.isAdmin) return "admin";
  if (access.owner !== null && access.owner === user.name) return "owner";
  let role: Role = access.users.get(user.name) ?? "none";
  if (access.groups.size > 0 && role !== "editor") {
    for (const g of user.groups) {
      const r = access.groups.get(g);
      if (r && RANK[r] > RANK[role]) role = r;
    }
  }
  return role;
}

/** Whether `role` is at least `needed`. */
export function atLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
