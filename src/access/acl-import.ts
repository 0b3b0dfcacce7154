// Grants as the share's POSIX ACLs record them: what `mata rebuild` restores when the database that held them is gone.
import path from "node:path";
import type { AppContext } from "../context.ts";
import { log } from "../log.ts";
import { decodeAcl, W } from "./acl.codec.ts";
import { entryAt, readAclRaw } from "./acl.fs.ts";
import { accessRepo, type GrantRow } from "./access.repo.ts";
import { groupNames } from "./unix.ts";

/** What an import found: datasets whose folders carried grants, and the grants restored. */
export interface GrantImport {
  datasets: number;
  grants: number;
  /** Named entries whose uid or gid has no name on this system (left out). */
  unknown: number;
}

/**
 * Reads each present dataset folder's access ACL and turns its named entries back into grants, as
 * src/access/acl.service.ts writes them: rwx an editor, r-x a viewer; the owner's own entry is no grant.
 */
export async function importGrantsFromShare(ctx: AppContext): Promise<GrantImport> {
  const repo = accessRepo(ctx.db);
  const out: GrantImport = { datasets: 0, grants: 0, unknown: 0 };
  const found: { id: number; users: Map<number, number>; groups: Map<number, number>; owner: string | null }[] = [];
  for (const id of repo.presentDatasetIds()) {
    const d = repo.dataset(id);
    if (!d) continue;
    const abs = path.join(ctx.config.root, d.path);
    let raw: Uint8Array | null;
    try {
      raw = readAclRaw(entryAt(abs), "access");
    } catch (e) {
      log.warn("cannot read the ACL of a dataset folder", { path: d.path, error: String(e) });
      continue;
    }
    if (!raw) continue;
    const acl = decodeAcl(raw);
    if (acl.users.size || acl.groups.size) found.push({ id, users: acl.users, groups: acl.groups, owner: d.owner });
  }
  const gids = [...new Set(found.flatMap((f) => [...f.groups.keys()]))];
  const groups = await groupNames(gids);
  for (const f of found) {
    const rows: GrantRow[] = [];
    const role = (perm: number): GrantRow["role"] => (perm & W ? "editor" : "viewer");
    for (const [uid, perm] of f.users) {
      const name = ctx.services.owners.of(uid);
      if (/^\d+$/.test(name)) out.unknown += 1;
      else if (name !== f.owner) rows.push({ principal: `user:${name}`, role: role(perm) });
    }
    for (const [gid, perm] of f.groups) {
      const name = groups.get(gid);
      if (name === undefined) out.unknown += 1;
      else rows.push({ principal: `group:${name}`, role: role(perm) });
    }
    if (rows.length === 0) continue;
    repo.replaceGrants(f.id, rows);
    out.datasets += 1;
    out.grants += rows.length;
  }
  return out;
}
