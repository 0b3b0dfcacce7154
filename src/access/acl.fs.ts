// The file-system side of ACLs behind one small wrapper: POSIX ACL xattrs through libc (bun:ffi), ownership through
// node:fs. An entry is reached either through a descriptor (the dataset folder itself, opened beneath the root) or
// by its name inside a held folder (`/proc/self/fd/N/name`) with the l* calls, which never follow a symlink in the
// last place; the held folder pins every place before it. So a folder a user swaps for a symlink mid-walk cannot
// redirect a chown or an ACL write to anything outside the dataset.
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";
import { fchownSync, lchownSync } from "node:fs";

const ACCESS = Buffer.from("system.posix_acl_access\0");
const DEFAULT = Buffer.from("system.posix_acl_default\0");
const ENODATA = 61;
const ERANGE = 34;

let libc: ReturnType<typeof openLibc> | undefined;

function openLibc() {
  return dlopen("libc.so.6", {
    lgetxattr: { args: ["ptr", "ptr", "ptr", "usize"], returns: FFIType.i64_fast },
    lsetxattr: { args: ["ptr", "ptr", "ptr", "usize", "i32"], returns: "i32" },
    lremovexattr: { args: ["ptr", "ptr"], returns: "i32" },
    fgetxattr: { args: ["i32", "ptr", "ptr", "usize"], returns: FFIType.i64_fast },
    fsetxattr: { args: ["i32", "ptr", "ptr", "usize", "i32"], returns: "i32" },
    fremovexattr: { args: ["i32", "ptr"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  }).symbols;
}

function lib() {
  libc ??= openLibc();
  return libc;
}

function errno(): number {
  return read.i32(lib().__errno_location() as Pointer, 0);
}

/** An ACL call the kernel refused, with the errno and the path it was for. */
export class AclFsError extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly errno: number,
  ) {
    super(
      `${op} ${path} failed: errno ${errno}${errno === 95 ? " (the file system does not support ACLs)" : errno === 1 ? " (not permitted: the service must run as root to write ACLs)" : ""}`,
    );
  }
}

/** One file or folder whose owner and ACLs are read and written: by descriptor, or by a no-follow path. */
export interface AclEntry {
  /** `/proc/self/fd/N/name` (NUL-terminated) for the l* calls; unused when `fd` is given. */
  c: Buffer;
  fd?: number;
  /** The entry's path for messages. */
  display: string;
}

/** An entry named `name` inside the held folder `dirFd`. */
export function entryIn(dirFd: number, name: string | Buffer, display: string): AclEntry {
  const n = typeof name === "string" ? Buffer.from(name) : name;
  return { c: Buffer.concat([Buffer.from(`/proc/self/fd/${dirFd}/`), n, Buffer.from([0])]), display };
}

/** An entry reached through its own descriptor. */
export function entryOfFd(fd: number, display: string): AclEntry {
  return { c: Buffer.alloc(1), fd, display };
}

const scratch = new Uint8Array(4 + 8 * 512);

function getxattr(e: AclEntry, name: Buffer, buf: Uint8Array | null, len: number): number {
  return Number(e.fd === undefined ? lib().lgetxattr(e.c, name, buf, len) : lib().fgetxattr(e.fd, name, buf, len));
}

function getRaw(e: AclEntry, name: Buffer): Uint8Array | null {
  const n = getxattr(e, name, scratch, scratch.length);
  if (n >= 0) return scratch.slice(0, n);
  const err = errno();
  if (err === ENODATA) return null;
  if (err === ERANGE) {
    const size = getxattr(e, name, null, 0);
    const big = new Uint8Array(Math.max(size, 0));
    const m = getxattr(e, name, big, big.length);
    if (m >= 0) return big.slice(0, m);
  }
  throw new AclFsError("getxattr", e.display, err);
}

/** The raw access (or default) ACL xattr of an entry, or null when it has none. */
export function readAclRaw(e: AclEntry, which: "access" | "default"): Uint8Array | null {
  return getRaw(e, which === "access" ? ACCESS : DEFAULT);
}

/** Writes an already encoded access (or default) ACL. */
export function writeAclRaw(e: AclEntry, which: "access" | "default", value: Uint8Array): void {
  const name = which === "access" ? ACCESS : DEFAULT;
  const rc = e.fd === undefined ? lib().lsetxattr(e.c, name, value, value.length, 0) : lib().fsetxattr(e.fd, name, value, value.length, 0);
  if (rc !== 0) throw new AclFsError("setxattr", e.display, errno());
}

/** Removes a folder's default ACL (no error when it has none). */
export function removeDefaultAclRaw(e: AclEntry): void {
  const rc = e.fd === undefined ? lib().lremovexattr(e.c, DEFAULT) : lib().fremovexattr(e.fd, DEFAULT);
  if (rc !== 0 && errno() !== ENODATA) throw new AclFsError("removexattr", e.display, errno());
}

/** Whether this process may set owners and ACLs on other people's files (the appliance runs as root). */
export function canWriteAcls(): boolean {
  return process.getuid?.() === 0;
}

/** Changes the owning user of a file or folder itself, never of a symlink's target. */
export function chownEntry(e: AclEntry, uid: number): void {
  if (e.fd !== undefined) fchownSync(e.fd, uid, -1);
  else lchownSync(e.c.subarray(0, e.c.length - 1), uid, -1);
}

/** An entry by its path (never following a symlink in the last place): for reading, e.g. an import. */
export function entryAt(abs: string): AclEntry {
  return { c: Buffer.from(abs + "\0"), display: abs };
}
