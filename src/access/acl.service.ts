// Writes a dataset's grants to its folder tree as POSIX ACLs, so Samba enforces what the web shows:
// owner and editors rwx, viewers r-x, everyone else list-only (o::r-x on folders, o::--- on files),
// with default ACLs so new files inherit. The sidecar `.mata/` belongs to the service (root) and is
// read-only to everyone else; grants are never read from it, so editing it cannot escalate.
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, type Stats } from "node:fs";
import path from "node:path";
import type { AppContext } from "../context.ts";
import { log } from "../log.ts";
import { aclFromMode, decodeAcl, encodeAcl, sameAcl, R, W, X, type Acl } from "./acl.codec.ts";
import { AclFsError, chownEntry, entryIn, entryOfFd, readAclRaw, removeDefaultAclRaw, writeAclRaw, type AclEntry } from "./acl.fs.ts";
import { openBeneath } from "../platform/beneath.ts";
import { bytesToName, nameToBytes } from "../sync/names.ts";
import { datasetAccess, type DatasetAccess } from "./access.cache.ts";
import { accessRepo } from "./access.repo.ts";
import { groupIds, userIds } from "./unix.ts";

const SIDECAR = ".mata";
const SIDECAR_BYTES = Buffer.from(SIDECAR);
const SPEC_VERSION = 1;

/** The ACL a dataset's tree must carry, with names already resolved to ids. */
export interface AclPlan {
  /** Every entry is chowned to this uid (the owner's); null leaves unix owners alone. */
  ownerUid: number | null;
  /** Named users and groups: rwx for the owner and editors, r-x for viewers. */
  users: Map<number, number>;
  groups: Map<number, number>;
  /** Grant names with no unix account or group: they hold on the web only. */
  unresolved: string[];
  /** The account `.mata/` belongs to: the one the server runs as, so it can write its sidecars and nobody else can. */
  sidecarUid: number;
  hash: string;
}

/** What one walk of a tree did. */
export interface AclWalkResult {
  entries: number;
  changed: number;
  maxCtimeMs: number;
}

/** Resolves the owner and grants of a dataset to the uids and gids its ACLs name. */
export async function planFor(access: DatasetAccess, sidecarUid = process.getuid?.() ?? 0): Promise<AclPlan> {
  const userNames = [...access.users.keys(), ...(access.owner ? [access.owner] : [])];
  const [uids, gids] = await Promise.all([userIds(userNames), groupIds([...access.groups.keys()])]);
  const unresolved: string[] = [];
  const ownerUid = access.owner && uids.has(access.owner) ? uids.get(access.owner)! : access.ownerFixed ? 0 : null;
  if (access.owner && !uids.has(access.owner)) unresolved.push(access.owner);
  const users = new Map<number, number>();
  const put = (m: Map<number, number>, id: number, perm: number) => m.set(id, (m.get(id) ?? 0) | perm);
  for (const [name, role] of access.users) {
    const uid = uids.get(name);
    if (uid === undefined) unresolved.push(name);
    else if (uid !== ownerUid) put(users, uid, role === "editor" ? R | W | X : R | X);
  }
  const groups = new Map<number, number>();
  for (const [name, role] of access.groups) {
    const gid = gids.get(name);
    if (gid === undefined) unresolved.push(`@${name}`);
    else put(groups, gid, role === "editor" ? R | W | X : R | X);
  }
  const hash = createHash("sha256")
    .update(
      JSON.stringify({ v: SPEC_VERSION, ownerUid, sidecarUid, users: [...users].sort((a, b) => a[0] - b[0]), groups: [...groups].sort((a, b) => a[0] - b[0]) }),
    )
    .digest("hex");
  return { ownerUid, users, groups, unresolved, sidecarUid, hash };
}

/** The ACLs one entry must have, by kind and by whether it lies inside the sidecar. */
export function expectedAcls(plan: AclPlan, isDir: boolean, inSidecar: boolean, mode: number): { access: Acl; default: Acl | null; uid: number | null } {
  const none = new Map<number, number>();
  if (inSidecar) {
    // Only the service writes the sidecar; everyone may read it (it holds list-level facts only).
    return isDir
      ? { access: { user: 7, group: 5, other: 5, users: none, groups: none }, default: null, uid: plan.sidecarUid }
      : { access: { user: 6, group: 4, other: 4, users: none, groups: none }, default: null, uid: plan.sidecarUid };
  }
  if (isDir) {
    return {
      // The owning group is "everyone else" too: g::--- would lock its members out of listing.
      access: { user: 7, group: R | X, other: R | X, users: plan.users, groups: plan.groups },
      default: { user: 7, group: 0, other: 0, users: plan.users, groups: plan.groups },
      uid: plan.ownerUid,
    };
  }
  // Files keep an executable bit if they had one; nobody else gets write unless granted.
  const x = mode & 0o100 ? X : 0;
  const fileOf = (m: Map<number, number>) => new Map([...m].map(([id, p]) => [id, (p & (R | W)) | (p & R ? x : 0)]));
  return { access: { user: R | W | x, group: 0, other: 0, users: fileOf(plan.users), groups: fileOf(plan.groups) }, default: null, uid: plan.ownerUid };
}

interface Wanted {
  access: Acl;
  accessBytes: Uint8Array;
  default: Acl | null;
  defaultBytes: Uint8Array | null;
  uid: number | null;
}

const wantedCache = new WeakMap<AclPlan, Map<string, Wanted>>();

/** The expected ACLs of an entry kind, encoded once per plan (a big tree has only a handful of kinds). */
function wanted(plan: AclPlan, isDir: boolean, inSidecar: boolean, mode: number): Wanted {
  let m = wantedCache.get(plan);
  if (!m) wantedCache.set(plan, (m = new Map()));
  const key = `${isDir ? "d" : "f"}${inSidecar ? "s" : ""}${!isDir && mode & 0o100 ? "x" : ""}`;
  let w = m.get(key);
  if (!w) {
    const e = expectedAcls(plan, isDir, inSidecar, mode);
    w = { access: e.access, accessBytes: encodeAcl(e.access), default: e.default, defaultBytes: e.default ? encodeAcl(e.default) : null, uid: e.uid };
    m.set(key, w);
  }
  return w;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether an entry's current ACL (raw xattr, or its mode when it has none) means what is wanted. */
function holds(raw: Uint8Array | null, mode: number, want: Acl, wantBytes: Uint8Array): boolean {
  if (raw !== null && sameBytes(raw, wantBytes)) return true;
  return sameAcl(raw === null ? aclFromMode(mode) : decodeAcl(raw), want);
}

/** Brings one entry to its expected owner and ACLs, writing only what differs; true when it wrote. */
export function fixEntry(plan: AclPlan, e: AclEntry, st: Stats, inSidecar: boolean): boolean {
  const isDir = st.isDirectory();
  if (!isDir && !st.isFile()) return false; // symlinks, sockets, devices: never touched
  const want = wanted(plan, isDir, inSidecar, st.mode);
  let changed = false;
  if (want.uid !== null && st.uid !== want.uid) {
    chownEntry(e, want.uid);
    changed = true;
  }
  if (!holds(readAclRaw(e, "access"), st.mode, want.access, want.accessBytes)) {
    writeAclRaw(e, "access", want.accessBytes);
    changed = true;
  }
  if (isDir) {
    const cur = readAclRaw(e, "default");
    if (want.default === null || want.defaultBytes === null) {
      if (cur !== null) {
        removeDefaultAclRaw(e);
        changed = true;
      }
    } else if (cur === null || (!sameBytes(cur, want.defaultBytes) && !sameAcl(decodeAcl(cur), want.default))) {
      writeAclRaw(e, "default", want.defaultBytes);
      changed = true;
    }
  }
  return changed;
}

const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;

/** A dataset folder opened beneath the share root, no symlink at any place (a swapped folder: ELOOP). */
function openDataset(shareRoot: string, datasetRel: string): number {
  return openBeneath(shareRoot, nameToBytes(datasetRel), constants.O_DIRECTORY);
}

/**
 * An entry's path inside a held folder, by its exact bytes: a name that is not UTF-8 (a Latin-1 file from an old
 * scanner PC) read back as text would name nothing, and its file would keep the permissions it came with.
 */
const inHeld = (dirFd: number, name: Buffer) => Buffer.concat([Buffer.from(`/proc/self/fd/${dirFd}/`), name]);

/** A sub-folder of a held folder, never through a symlink (ELOOP or ENOTDIR when it was swapped for one). */
function openChild(dirFd: number, name: Buffer): number {
  return openSync(inHeld(dirFd, name), constants.O_RDONLY | constants.O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/**
 * Walks a dataset tree and fixes every entry `select` picks. Folders are held open and entries reached by name inside
 * them (src/access/acl.fs.ts), one descriptor per level, so nothing is followed through a symlink; yields to the event
 * loop every few hundred entries so requests keep being served during a big apply.
 */
export async function walkTree(plan: AclPlan, shareRoot: string, datasetRel: string, select: (st: Stats) => boolean): Promise<AclWalkResult> {
  const result: AclWalkResult = { entries: 0, changed: 0, maxCtimeMs: 0 };
  const visit = (e: AclEntry, st: Stats, inSidecar: boolean, restat: () => Stats) => {
    result.entries++;
    let ctime = st.ctimeMs;
    try {
      if (select(st) && fixEntry(plan, e, st, inSidecar)) {
        result.changed++;
        ctime = restat().ctimeMs;
      }
    } catch (err) {
      // Removed (or swapped for a symlink) while we walked: nothing left to protect at this name.
      if (!isGone(err)) throw err;
    }
    if (ctime > result.maxCtimeMs) result.maxCtimeMs = ctime;
  };
  const rootFd = openDataset(shareRoot, datasetRel);
  const frames: { fd: number; names: Buffer[]; i: number; inSidecar: boolean; rel: string }[] = [];
  try {
    visit(entryOfFd(rootFd, datasetRel), fstatSync(rootFd), false, () => fstatSync(rootFd));
    frames.push({ fd: rootFd, names: readdirSync(`/proc/self/fd/${rootFd}`, { encoding: "buffer" }), i: 0, inSidecar: false, rel: datasetRel });
    while (frames.length) {
      const f = frames[frames.length - 1]!;
      if (f.i >= f.names.length) {
        frames.pop();
        if (f.fd !== rootFd) closeSync(f.fd);
        continue;
      }
      const name = f.names[f.i++]!;
      const at = inHeld(f.fd, name);
      let st: Stats;
      try {
        st = lstatSync(at);
      } catch {
        continue;
      }
      const sidecar = f.inSidecar || (frames.length === 1 && name.equals(SIDECAR_BYTES));
      const rel = `${f.rel}/${bytesToName(name)}`;
      visit(entryIn(f.fd, name, rel), st, sidecar, () => lstatSync(at));
      if (st.isDirectory()) {
        let fd: number;
        try {
          fd = openChild(f.fd, name);
        } catch (err) {
          if (isGone(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") continue; // removed or swapped meanwhile
          throw err;
        }
        let names: Buffer[];
        try {
          names = readdirSync(`/proc/self/fd/${fd}`, { encoding: "buffer" });
        } catch (err) {
          closeSync(fd);
          throw err;
        }
        frames.push({ fd, names, i: 0, inSidecar: sidecar, rel });
      }
      if (result.entries % 512 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    for (const f of frames) if (f.fd !== rootFd) closeSync(f.fd);
    closeSync(rootFd);
  }
  return result;
}

function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  // A name whose entry vanished or became a symlink (l*xattr on a symlink: EPERM) under a held folder.
  return code === "ENOENT" || code === "ELOOP" || (e instanceof AclFsError && (e.errno === 2 || e.errno === 40 || e.errno === 1));
}

/** The tail of each dataset's chain of ACL work, one per context (built with its services). */
export type AclQueues = Map<number, Promise<unknown>>;

/** Empty ACL queues for a new context. */
export function newAclQueues(): AclQueues {
  return new Map();
}

/** Runs ACL work for one dataset after any already queued for it, so two applies never interleave. */
function serialize<T>(ctx: AppContext, id: number, work: () => Promise<T>): Promise<T> {
  const m = ctx.services.aclQueues;
  const prev = m.get(id) ?? Promise.resolve();
  const next = prev.then(work, work);
  const tail = next.catch(() => undefined);
  m.set(id, tail);
  void tail.then(() => {
    if (m.get(id) === tail) m.delete(id);
  });
  return next;
}

/** Waits until every queued ACL job of a context has finished (used by stop and by tests). */
export async function aclIdle(ctx: AppContext): Promise<void> {
  const m = ctx.services.aclQueues;
  while (m.size) await Promise.all([...m.values()]);
}

/** The error recorded instead of writing, when Mata does not run as root (a development setup). */
export function notRootError(): string {
  return `Mata runs as uid ${process.getuid?.()}, not root: grants hold on the web only until it runs as root (or with a root helper: config user)`;
}

/** Records why nothing was written; a later run as root then rewrites the whole tree (empty spec). */
function skipNotRoot(ctx: AppContext, id: number): void {
  accessRepo(ctx.db).saveAclState({ dataset_id: id, spec_hash: "", max_ctime_ms: 0, applied_at: ctx.clock.now(), entries: 0, error: notRootError() });
}

/** The side that writes owners and ACLs: this process as root, or the root helper of a separated server. */
function privileged(ctx: AppContext) {
  return ctx.services.privileged;
}

function target(access: DatasetAccess): { path: string; uid: string } {
  return { path: access.path, uid: access.uid };
}

function unresolvedError(plan: AclPlan): string | null {
  return plan.unresolved.length ? `no unix account for ${plan.unresolved.join(", ")}: these grants hold on the web only` : null;
}

/** Rewrites the whole tree for the current grants (after a grant or owner change, or a new dataset). */
export function applyDatasetAcls(ctx: AppContext, id: number): Promise<AclWalkResult | null> {
  return serialize(ctx, id, async () => {
    const access = datasetAccess(ctx, id);
    if (!access || access.state !== "present") return null;
    if (!privileged(ctx).canWriteAcls) {
      skipNotRoot(ctx, id);
      return null;
    }
    const plan = await planFor(access, privileged(ctx).serverUid);
    const repo = accessRepo(ctx.db);
    try {
      const r = await privileged(ctx).aclWalk(target(access), plan, -1);
      repo.saveAclState(appliedState(ctx, id, plan, r));
      return r;
    } catch (e) {
      const msg = (e as Error).message;
      repo.saveAclState({ dataset_id: id, spec_hash: "", max_ctime_ms: 0, applied_at: ctx.clock.now(), entries: 0, error: msg });
      throw e;
    }
  });
}

/** What a finished walk records: the spec it applied, the newest ctime it saw, and what could not be resolved. */
function appliedState(ctx: AppContext, id: number, plan: AclPlan, r: { maxCtimeMs: number; entries: number }) {
  return { dataset_id: id, spec_hash: plan.hash, max_ctime_ms: r.maxCtimeMs, applied_at: ctx.clock.now(), entries: r.entries, error: unresolvedError(plan) };
}

/**
 * The reconcile's drift check: entries whose inode changed since the last apply (ctime not older than
 * the newest seen then: timestamps are coarse, so equal counts as changed; or a foreign owner) are compared with what they should carry and fixed; a changed grant spec means a
 * full rewrite. Returns the number of entries repaired.
 */
export function repairDrift(ctx: AppContext, id: number, seen?: SeenWalk): Promise<number> {
  return serialize(ctx, id, async () => {
    const access = datasetAccess(ctx, id);
    if (!access || access.state !== "present") return 0;
    if (!privileged(ctx).canWriteAcls) {
      skipNotRoot(ctx, id);
      return 0;
    }
    const plan = await planFor(access, privileged(ctx).serverUid);
    const repo = accessRepo(ctx.db);
    const state = repo.aclState(id);
    const full = !state || state.spec_hash !== plan.hash;
    if (!full && seen && nothingNewer(ctx, state, plan, seen)) return 0;
    const since = full ? -1 : state.max_ctime_ms;
    const r = await privileged(ctx).aclWalk(target(access), plan, since);
    repo.saveAclState(appliedState(ctx, id, plan, r));
    if (r.changed > 0 && !full) log.warn("acl drift repaired", { dataset: id, path: access.path, entries: r.changed });
    return r.changed;
  });
}

/** What the reconcile's own walk of a dataset saw: enough to tell that no entry changed since the last check. */
export interface SeenWalk {
  maxCtimeMs: number;
  uids: Set<number>;
}

/** A check walks every entry again at least this often, whatever the reconcile saw (timestamps are coarse). */
const RECHECK_MS = 24 * 3600_000;

/**
 * True when the reconcile's walk met no entry changed after the last check (no ctime newer than the newest then) and
 * no foreign owner, so walking the tree again would find nothing: the drift check then costs nothing. An entry
 * changed within the same clock tick as that check is caught by the daily walk.
 */
function nothingNewer(ctx: AppContext, state: { max_ctime_ms: number; applied_at: number }, plan: AclPlan, seen: SeenWalk): boolean {
  if (seen.maxCtimeMs > state.max_ctime_ms || ctx.clock.now() - state.applied_at > RECHECK_MS) return false;
  return plan.ownerUid === null || [...seen.uids].every((u) => u === plan.ownerUid);
}

/**
 * New or changed files (over SMB) and their folders get the dataset's ACLs at once: a default ACL
 * cannot give folders `o::r-x`, so folders made by users need it set here. The recorded state is
 * left alone, so the next reconcile still looks at these entries.
 */
export function applyToPaths(ctx: AppContext, id: number, relPaths: string[]): Promise<number> {
  return serialize(ctx, id, async () => {
    const access = datasetAccess(ctx, id);
    if (!access || access.state !== "present") return 0;
    if (!privileged(ctx).canWriteAcls) {
      skipNotRoot(ctx, id);
      return 0;
    }
    const repo = accessRepo(ctx.db);
    const plan = await planFor(access, privileged(ctx).serverUid);
    if (repo.aclState(id)?.spec_hash !== plan.hash) {
      // Never applied (a new dataset) or the grants moved on: the whole tree, once.
      const r = await privileged(ctx).aclWalk(target(access), plan, -1);
      repo.saveAclState({
        dataset_id: id,
        spec_hash: plan.hash,
        max_ctime_ms: r.maxCtimeMs,
        applied_at: ctx.clock.now(),
        entries: r.entries,
        error: unresolvedError(plan),
      });
      return r.changed;
    }
    return privileged(ctx).aclPaths(target(access), plan, relPaths);
  });
}

/** Fixes the named entries of a dataset and the folders leading to them, each reached inside its held parent. */
export function fixPaths(plan: AclPlan, shareRoot: string, datasetRel: string, relPaths: string[]): number {
  const rootFd = openDataset(shareRoot, datasetRel);
  const held = new Map<string, number>([["", rootFd]]);
  const seen = new Set<string>();
  let changed = 0;
  try {
    for (const rel of relPaths) {
      const parts = rel.split("/").filter((s) => s && s !== "." && s !== "..");
      for (let i = 1; i <= parts.length; i++) {
        const parent = parts.slice(0, i - 1).join("/");
        const sub = parts.slice(0, i).join("/");
        const dirFd = held.get(parent);
        if (dirFd === undefined) break;
        // Stored names (src/sync/names.ts) back to the bytes the kernel knows.
        const raw = nameToBytes(parts[i - 1]!);
        const at = inHeld(dirFd, raw);
        let st: Stats;
        try {
          st = lstatSync(at);
        } catch {
          break; // removed since
        }
        if (st.isSymbolicLink()) break;
        if (!seen.has(sub)) {
          seen.add(sub);
          try {
            if (fixEntry(plan, entryIn(dirFd, raw, `${datasetRel}/${sub}`), st, parts[0] === SIDECAR)) changed++;
          } catch (err) {
            if (!isGone(err)) throw err;
          }
        }
        if (i < parts.length && !held.has(sub)) {
          try {
            held.set(sub, openChild(dirFd, raw));
          } catch {
            break; // not a folder any more
          }
        }
      }
    }
  } finally {
    for (const fd of held.values()) closeSync(fd);
  }
  return changed;
}

/** Every entry whose inode changed at or after `since` (-1: all), or with an owner other than the plan's. */
export function changedSince(plan: AclPlan, since: number): (st: Stats) => boolean {
  return (st) => st.ctimeMs >= since || (plan.ownerUid !== null && st.uid !== plan.ownerUid);
}
