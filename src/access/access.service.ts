import type { AppContext, DatasetSeen, Principal } from "../context.ts";
import { AppError, badRequest, notFound } from "../errors.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { log } from "../log.ts";
import { atLeast, datasetAccess, invalidateAccess, roleOf, type DatasetAccess, type Role } from "./access.cache.ts";
import { accessRepo, type GrantRow } from "./access.repo.ts";
import { aclIdle, applyDatasetAcls, applyToPaths, repairDrift } from "./acl.service.ts";
import { groupIds, listPeople, UNIX_NAME, userIds } from "./unix.ts";

/** Who may see and edit a dataset, as the API and the sharing panel show it. */
export interface AccessView {
  id: number;
  owner: string | null;
  ownerFixed: boolean;
  /** Users by name, groups as "@name". */
  viewers: string[];
  editors: string[];
  /** What the asking user is to this dataset. */
  role: Role;
  canManage: boolean;
  acl: { enabled: boolean; appliedAt: string | null; entries: number; error: string | null };
}

const MAX_NAMES = 500;

/** The cached access of a dataset or a 404 naming the id. */
export function requireAccess(ctx: AppContext, id: number): DatasetAccess {
  const a = datasetAccess(ctx, id);
  if (!a) throw notFound(`No dataset with id ${id}`);
  return a;
}

/** The view of a dataset's grants for one user. */
export function accessView(ctx: AppContext, user: Principal, id: number): AccessView {
  const a = requireAccess(ctx, id);
  const role = roleOf(a, user);
  const names = (want: "viewer" | "editor") => [
    ...[...a.users]
      .filter(([, r]) => r === want)
      .map(([n]) => n)
      .sort(),
    ...[...a.groups]
      .filter(([, r]) => r === want)
      .map(([n]) => `@${n}`)
      .sort(),
  ];
  const state = accessRepo(ctx.db).aclState(id);
  return {
    id,
    owner: a.owner,
    ownerFixed: a.ownerFixed,
    viewers: names("viewer"),
    editors: names("editor"),
    role,
    canManage: atLeast(role, "owner"),
    acl: {
      enabled: ctx.config.acls,
      appliedAt: state?.applied_at ? new Date(state.applied_at).toISOString() : null,
      entries: state?.entries ?? 0,
      error: state?.error ?? null,
    },
  };
}

function nameList(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw badRequest(`${field} must be a list of names`);
  if (v.length > MAX_NAMES) throw badRequest(`${field} has more than ${MAX_NAMES} names`);
  return v.map((n, i) => {
    if (typeof n !== "string") throw badRequest(`${field}[${i}] must be a string`);
    const name = n.trim();
    const bare = name.startsWith("@") ? name.slice(1) : name;
    if (!UNIX_NAME.test(bare)) throw badRequest(`${field}[${i}] ${JSON.stringify(n.slice(0, 40))} is not a valid user name (or @group)`);
    return name;
  });
}

/** Parses `{ viewers: [name], editors: [name] }` (groups as "@name") into grant rows, naming every problem. */
export async function parseGrants(ctx: AppContext, owner: string | null, body: unknown): Promise<GrantRow[]> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("Expected a JSON object { viewers: [name], editors: [name] }");
  const o = body as Record<string, unknown>;
  const unknownKeys = Object.keys(o).filter((k) => k !== "viewers" && k !== "editors");
  if (unknownKeys.length) throw badRequest(`Unknown field ${unknownKeys.join(", ")}; expected viewers and editors`);
  const viewers = nameList(o.viewers, "viewers");
  const editors = nameList(o.editors, "editors");
  const both = viewers.filter((n) => editors.includes(n));
  if (both.length) throw badRequest(`${both.join(", ")} cannot be both viewer and editor`);
  const all = [...viewers, ...editors];
  const dup = all.filter((n, i) => all.indexOf(n) !== i);
  if (dup.length) throw badRequest(`${[...new Set(dup)].join(", ")} is listed twice`);
  if (owner && all.includes(owner)) throw badRequest(`${owner} owns this dataset and needs no grant`);
  const users = all.filter((n) => !n.startsWith("@"));
  const groups = all.filter((n) => n.startsWith("@")).map((n) => n.slice(1));
  const repo = accessRepo(ctx.db);
  const [uids, gids] = await Promise.all([userIds(users.filter((u) => !repo.accountExists(u))), groupIds(groups)]);
  const unknownUsers = users.filter((u) => !repo.accountExists(u) && !uids.has(u));
  if (unknownUsers.length) throw badRequest(`Unknown user ${unknownUsers.join(", ")}`);
  const unknownGroups = groups.filter((g) => !gids.has(g));
  if (unknownGroups.length) throw badRequest(`Unknown group ${unknownGroups.map((g) => `@${g}`).join(", ")}`);
  const row = (n: string, role: GrantRow["role"]): GrantRow => ({ principal: n.startsWith("@") ? `group:${n.slice(1)}` : `user:${n}`, role });
  return [...viewers.map((n) => row(n, "viewer")), ...editors.map((n) => row(n, "editor"))];
}

/** Grants as the API names them: `{ viewers: ["ana", "@lab"], editors: [...] }`. */
function grantLists(rows: GrantRow[]): { viewers: string[]; editors: string[] } {
  const name = (g: GrantRow) => (g.principal.startsWith("group:") ? `@${g.principal.slice(6)}` : g.principal.replace(/^user:/, ""));
  return { viewers: rows.filter((g) => g.role === "viewer").map(name), editors: rows.filter((g) => g.role === "editor").map(name) };
}

/** Writes new grants, then (when ACLs are on) the share's ACLs, so the answer means "enforced everywhere". */
export async function setAccess(ctx: AppContext, actor: Principal, id: number, body: unknown): Promise<AccessView> {
  const a = requireAccess(ctx, id);
  const rows = await parseGrants(ctx, a.owner, body);
  ctx.db.transaction(() => {
    const repo = accessRepo(ctx.db);
    const before = grantLists(repo.grants(id));
    repo.replaceGrants(id, rows);
    eventsRepo(ctx.db).record(ctx.clock.now(), "access.changed", id, { grants: rows }, actor.name);
    recordAudit(ctx, { action: "access.grants", actor: actor.name, datasetId: id, before, after: grantLists(rows) });
  })();
  invalidateAccess(ctx, id);
  await syncShare(ctx, id);
  return accessView(ctx, actor, id);
}

/** An admin hands a dataset to another account; the sync engine then keeps that owner. */
export async function reassignOwner(ctx: AppContext, actor: Principal, id: number, body: unknown): Promise<AccessView> {
  requireAccess(ctx, id);
  const owner = (body as { owner?: unknown } | null)?.owner;
  if (typeof owner !== "string" || !UNIX_NAME.test(owner)) throw badRequest("Expected { owner: NAME } with a valid user name");
  const repo = accessRepo(ctx.db);
  if (!repo.accountExists(owner) && !(await userIds([owner])).has(owner)) throw badRequest(`Unknown user ${owner}`);
  ctx.db.transaction(() => {
    const before = { owner: datasetAccess(ctx, id)?.owner ?? null, ...grantLists(repo.grants(id)) };
    repo.reassignOwner(id, owner, ctx.clock.now());
    // The new owner needs no grant of their own.
    repo.replaceGrants(
      id,
      repo.grants(id).filter((g) => g.principal !== `user:${owner}`),
    );
    eventsRepo(ctx.db).record(ctx.clock.now(), "access.owner", id, { owner }, actor.name);
    recordAudit(ctx, { action: "access.owner", actor: actor.name, datasetId: id, before, after: { owner, ...grantLists(repo.grants(id)) } });
  })();
  invalidateAccess(ctx, id);
  await syncShare(ctx, id);
  return accessView(ctx, actor, id);
}

async function syncShare(ctx: AppContext, id: number): Promise<void> {
  if (!ctx.config.acls) return;
  try {
    await applyDatasetAcls(ctx, id);
  } catch (e) {
    log.error("writing ACLs failed", { dataset: id, error: (e as Error).message });
    throw new AppError(500, `The grants were saved but writing them to the share failed: ${(e as Error).message}`, { cause: e });
  }
}

/** Names the sharing panel's picker offers: accounts Mata knows plus ordinary unix users and groups. */
export async function pickerNames(ctx: AppContext): Promise<{ users: string[]; groups: string[] }> {
  const people = await listPeople();
  const users = [...new Set([...accessRepo(ctx.db).accountNames(), ...people.users])].sort();
  return { users, groups: people.groups.map((g) => `@${g}`) };
}

/**
 * Attaches access to the sync engine's hooks: cached permissions are dropped when a folder changes
 * (its owner may have), and with ACLs on, new files get the dataset's ACLs and the reconcile repairs
 * drift. Returns the function that detaches and waits for ACL work in flight.
 */
export function startAccess(ctx: AppContext): () => Promise<void> {
  const report = (what: string, id: number) => (e: unknown) => log.error(what, { dataset: id, error: (e as Error).message });
  const onChange = (ch: { datasetId: number; changed: string[] }) => {
    invalidateAccess(ctx, ch.datasetId);
    if (ctx.config.acls && ch.changed.length) applyToPaths(ctx, ch.datasetId, ch.changed).catch(report("applying ACLs to new files failed", ch.datasetId));
  };
  const onSeen = (s: DatasetSeen) => {
    invalidateAccess(ctx, s.datasetId);
    if (ctx.config.acls) repairDrift(ctx, s.datasetId, s.walk).catch(report("ACL drift check failed", s.datasetId));
  };
  if (ctx.config.acls && !ctx.services.privileged.canWriteAcls)
    log.warn("acls is on but Mata is not running as root: grants are enforced on the web only", { uid: process.getuid?.() });
  ctx.hooks.contentChanged.push(onChange);
  ctx.hooks.datasetSeen.push(onSeen);
  return async () => {
    ctx.hooks.contentChanged.splice(ctx.hooks.contentChanged.indexOf(onChange) >>> 0, 1);
    ctx.hooks.datasetSeen.splice(ctx.hooks.datasetSeen.indexOf(onSeen) >>> 0, 1);
    await aclIdle(ctx);
  };
}
