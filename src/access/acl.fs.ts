// The file-system side of ACLs behind one small wrapper: POSIX ACL xattrs through libc (bun:ffi),
// ownership through node:fs. Symlinks are never followed (the l* calls), so a link swapped in by a
// user cannot redirect a write to a file outside the share.
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";
import { lchownSync } from "node:fs";

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

/** A NUL-terminated path for libc; make it once per entry and pass it to the *Raw calls. */
export const cpath = (p: string) => Buffer.from(p + "\0");
const scratch = new Uint8Array(4 + 8 * 512);

function getRaw(path: Buffer, name: Buffer, display: string): Uint8Array | null {
  const n = Number(lib().lgetxattr(path, name, scratch, scratch.length));
  if (n >= 0) return scratch.slice(0, n);
  const e = errno();
  if (e === ENODATA) return null;
  if (e === ERANGE) {
    const size = Number(lib().lgetxattr(path, name, null, 0));
    const big = new Uint8Array(Math.max(size, 0));
    const m = Number(lib().lgetxattr(path, name, big, big.length));
    if (m >= 0) return big.slice(0, m);
  }
  throw new AclFsError("getxattr", display, e);
}

/** The raw access (or default) ACL xattr of an entry, or null when it has none. */
export function readAclRaw(path: Buffer, which: "access" | "default", display: string): Uint8Array | null {
  return getRaw(path, which === "access" ? ACCESS : DEFAULT, display);
}

/** Writes an already encoded access (or default) ACL. */
export function writeAclRaw(path: Buffer, which: "access" | "default", value: Uint8Array, display: string): void {
  if (lib().lsetxattr(path, which === "access" ? ACCESS : DEFAULT, value, value.length, 0) !== 0) throw new AclFsError("setxattr", display, errno());
}

/** Removes a folder's default ACL (no error when it has none). */
export function removeDefaultAclRaw(path: Buffer, display: string): void {
  if (lib().lremovexattr(path, DEFAULT) !== 0 && errno() !== ENODATA) throw new AclFsError("removexattr", display, errno());
}

/** Whether this process may set owners and ACLs on other people's files (the appliance runs as root). */
export function canWriteAcls(): boolean {
  return process.getuid?.() === 0;
}

/** Changes the owning user of a file or folder itself, never of a symlink's target. */
export function chownEntry(path: string, uid: number, gid: number): void {
  lchownSync(path, uid, gid);
}
