// The kernel's binary form of a POSIX ACL (the `system.posix_acl_access` / `_default` xattr values),
// so ACLs are written with one syscall per file instead of one setfacl process per batch.

/** Permission bits of one ACL entry. */
export const R = 4;
export const W = 2;
export const X = 1;

/** Entry tags, as in linux/posix_acl.h. */
export const TAG = { userObj: 0x01, user: 0x02, groupObj: 0x04, group: 0x08, mask: 0x10, other: 0x20 } as const;

const VERSION = 2;
const UNDEFINED_ID = 0xffffffff;

/** One ACL entry; `id` is the uid or gid of a named entry. */
export interface AclEntry {
  tag: number;
  perm: number;
  id?: number;
}

/** An ACL as plain data: owner, owning group and other bits plus named users and groups. */
export interface Acl {
  user: number;
  group: number;
  other: number;
  users: Map<number, number>;
  groups: Map<number, number>;
  /** Only meaningful with named entries; computed as their union when left out. */
  mask?: number;
}

/** Whether the ACL says nothing the mode bits do not already say (the kernel then stores no xattr). */
export function isMinimal(acl: Acl): boolean {
  return acl.users.size === 0 && acl.groups.size === 0;
}

/** The mask an ACL gets when none is given: the union of what the named entries and the owning group need. */
export function effectiveMask(acl: Acl): number {
  if (acl.mask !== undefined) return acl.mask;
  let m = acl.group;
  for (const p of acl.users.values()) m |= p;
  for (const p of acl.groups.values()) m |= p;
  return m;
}

/** Encodes an ACL in the order the kernel demands (by tag, named entries by ascending id). */
export function encodeAcl(acl: Acl): Uint8Array {
  const entries: AclEntry[] = [{ tag: TAG.userObj, perm: acl.user }];
  for (const [id, perm] of [...acl.users].sort((a, b) => a[0] - b[0])) entries.push({ tag: TAG.user, perm, id });
  entries.push({ tag: TAG.groupObj, perm: acl.group });
  for (const [id, perm] of [...acl.groups].sort((a, b) => a[0] - b[0])) entries.push({ tag: TAG.group, perm, id });
  if (!isMinimal(acl)) entries.push({ tag: TAG.mask, perm: effectiveMask(acl) });
  entries.push({ tag: TAG.other, perm: acl.other });
  const buf = new Uint8Array(4 + entries.length * 8);
  const view = new DataView(buf.buffer);
  view.setUint32(0, VERSION, true);
  entries.forEach((e, i) => {
    view.setUint16(4 + i * 8, e.tag, true);
    view.setUint16(6 + i * 8, e.perm, true);
    view.setUint32(8 + i * 8, e.id ?? UNDEFINED_ID, true);
  });
  return buf;
}

/** Decodes an xattr value; throws on anything that is not a version-2 POSIX ACL. */
export function decodeAcl(buf: Uint8Array): Acl {
  if (buf.length < 4 || (buf.length - 4) % 8 !== 0) throw new Error(`not a POSIX ACL (${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0, true) !== VERSION) throw new Error(`unknown POSIX ACL version ${view.getUint32(0, true)}`);
  const acl: Acl = { user: 0, group: 0, other: 0, users: new Map(), groups: new Map() };
  for (let off = 4; off < buf.length; off += 8) {
    const tag = view.getUint16(off, true);
    const perm = view.getUint16(off + 2, true);
    const id = view.getUint32(off + 4, true);
    if (tag === TAG.userObj) acl.user = perm;
    else if (tag === TAG.user) acl.users.set(id, perm);
    else if (tag === TAG.groupObj) acl.group = perm;
    else if (tag === TAG.group) acl.groups.set(id, perm);
    else if (tag === TAG.mask) acl.mask = perm;
    else if (tag === TAG.other) acl.other = perm;
    else throw new Error(`unknown POSIX ACL tag ${tag}`);
  }
  return acl;
}

/** The ACL the mode bits alone describe (what a file without an ACL xattr has). */
export function aclFromMode(mode: number): Acl {
  return { user: (mode >> 6) & 7, group: (mode >> 3) & 7, other: mode & 7, users: new Map(), groups: new Map() };
}

/** Compares two ACLs by meaning (the mask only where named entries make it matter). */
export function sameAcl(a: Acl, b: Acl): boolean {
  if (a.user !== b.user || a.other !== b.other || a.users.size !== b.users.size || a.groups.size !== b.groups.size) return false;
  for (const [id, p] of a.users) if (b.users.get(id) !== p) return false;
  for (const [id, p] of a.groups) if (b.groups.get(id) !== p) return false;
  if (isMinimal(a)) return a.group === b.group;
  return a.group === b.group && effectiveMask(a) === effectiveMask(b);
}

/** `u::rwx,u:1001:r-x,...` for logs and error messages, in getfacl's spirit. */
export function formatAcl(acl: Acl): string {
  const p = (n: number) => `${n & R ? "r" : "-"}${n & W ? "w" : "-"}${n & X ? "x" : "-"}`;
  const parts = [`u::${p(acl.user)}`];
  for (const [id, perm] of [...acl.users].sort((a, b) => a[0] - b[0])) parts.push(`u:${id}:${p(perm)}`);
  parts.push(`g::${p(acl.group)}`);
  for (const [id, perm] of [...acl.groups].sort((a, b) => a[0] - b[0])) parts.push(`g:${id}:${p(perm)}`);
  if (!isMinimal(acl)) parts.push(`m::${p(effectiveMask(acl))}`);
  parts.push(`o::${p(acl.other)}`);
  return parts.join(",");
}
