// The few libc calls Node's fs lacks (fstatat on a held folder, the openat2 syscall, renameat2), through bun:ffi, loaded once.
// Linux x86-64 only (the struct layouts callers read are that ABI's); elsewhere `libc()` is null and callers fall
// back to Node's fs.
import { dlopen, FFIType, read } from "bun:ffi";
import { constants } from "node:os";

/** The bound calls; each returns -1 (or a negative number) on failure, with the reason in `errno()`. */
export interface Libc {
  open(path: Buffer, flags: number): number;
  fstatat(dirfd: number, name: Buffer, buf: Uint8Array, flags: number): number;
  close(fd: number): number;
  openat2(dirfd: number, path: Buffer, how: Uint8Array): number;
  /** renameat2(2); with RENAME_EXCHANGE (2) two names swap in one step. */
  renameat2(olddirfd: number, oldpath: Buffer, newdirfd: number, newpath: Buffer, flags: number): number;
  errno(): number;
}

const SYS_OPENAT2 = 437;
let bound: Libc | null | undefined;

/** libc's calls, or null on a platform without this binding. */
export function libc(): Libc | null {
  if (bound !== undefined) return bound;
  bound = null;
  if (process.platform !== "linux" || process.arch !== "x64") return bound;
  try {
    const s = dlopen("libc.so.6", {
      open: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      fstatat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
      syscall: { args: [FFIType.i64, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    }).symbols;
    bound = {
      open: (p, f) => s.open(p, f),
      fstatat: (fd, n, b, f) => s.fstatat(fd, n, b, f),
      close: (fd) => s.close(fd),
      openat2: (dirfd, p, how) => Number(s.syscall(SYS_OPENAT2, dirfd, p, how, how.length)),
      renameat2: (od, op, nd, np, flags) => s.renameat2(od, op, nd, np, flags),
      errno: () => read.i32(s.__errno_location()!, 0),
    };
  } catch {
    // no libc.so.6 (another libc): Node's fs it is
  }
  return bound;
}

/** A NUL-terminated copy of a path or name for a C call. */
export function cString(s: string | Buffer): Buffer {
  const src = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  const out = Buffer.allocUnsafe(src.length + 1);
  src.copy(out);
  out[src.length] = 0;
  return out;
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** An Error shaped like Node's fs errors (`code` ELOOP, ENOENT...) for an errno number. */
export function errnoError(errno: number, what: string): Error {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${code}: ${what}`), { code, errno: -errno });
}
