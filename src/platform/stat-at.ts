// lstat of a folder's entries relative to the folder's descriptor (fstatat with AT_SYMLINK_NOFOLLOW through libc),
// as `find` does: the kernel resolves one name instead of the whole path, and no Stats object is built per entry,
// which makes a walk of a million files about a third cheaper than `lstatSync` on every path. Linux x86-64 only;
// elsewhere `openDir` answers null and callers use `lstatSync`.
import { dlopen, FFIType, read } from "bun:ffi";
import { lstatSync, type Stats } from "node:fs";
import type { FsPath } from "./fs.ts";

/** What a walk needs of an entry's inode. */
export interface EntryStat {
  kind: "file" | "dir" | "symlink" | "other";
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  uid: number;
}

/** A folder held open so its entries are looked at by name. */
export interface DirHandle {
  /** lstat of one entry; undefined when it vanished; throws (with `code`) any other refusal. */
  stat(name: string | Buffer): EntryStat | undefined;
  close(): void;
}

const S_IFMT = 0o170000;
const kindOf = (mode: number): EntryStat["kind"] => {
  const t = mode & S_IFMT;
  return t === 0o100000 ? "file" : t === 0o040000 ? "dir" : t === 0o120000 ? "symlink" : "other";
};

/** The same fields from a Node Stats (the fallback, and single lookups by path). */
export function entryStat(st: Stats): EntryStat {
  return {
    kind: st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other",
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    uid: st.uid,
  };
}

/** lstat by path as an EntryStat: undefined when the path vanished, throws any other refusal. */
export function lstatEntry(p: FsPath): EntryStat | undefined {
  const st = lstatSync(p, { throwIfNoEntry: false });
  return st ? entryStat(st) : undefined;
}

const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  13: "EACCES",
  20: "ENOTDIR",
  36: "ENAMETOOLONG",
  40: "ELOOP",
  24: "EMFILE",
  23: "ENFILE",
  12: "ENOMEM",
};

interface Libc {
  open(path: Buffer, flags: number): number;
  fstatat(fd: number, name: Buffer, buf: Uint8Array, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (process.platform !== "linux" || process.arch !== "x64") return null;
  try {
    const lib = dlopen("libc.so.6", {
      open: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      fstatat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    const s = lib.symbols;
    return {
      open: (p, f) => s.open(p, f),
      fstatat: (fd, n, b, f) => s.fstatat(fd, n, b, f),
      close: (fd) => s.close(fd),
      errno: () => read.i32(s.__errno_location()!, 0),
    };
  } catch {
    return null;
  }
}

const O_RDONLY_DIR_NOFOLLOW_CLOEXEC = 0o200000 | 0o400000 | 0o2000000;
const AT_SYMLINK_NOFOLLOW = 0x100;
// struct stat on x86-64: st_ino at 8, st_mode at 24, st_uid at 28, st_size at 48, st_mtim at 88, st_ctim at 104.
const statBuf = new Uint8Array(144);
const view = new DataView(statBuf.buffer);
// Two 32-bit reads instead of a BigInt: exact below 2^53, which sizes, inodes and times stay under.
const u64 = (off: number) => view.getUint32(off, true) + view.getUint32(off + 4, true) * 0x100000000;
const ms = (off: number) => u64(off) * 1000 + view.getUint32(off + 8, true) / 1e6;

// One buffer for the entry name of every fstatat call (single-threaded; names are at most 255 bytes).
const nameBuf = Buffer.alloc(1024);

function cString(s: string | Buffer): Buffer {
  const src = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  const out = Buffer.allocUnsafe(src.length + 1);
  src.copy(out);
  out[src.length] = 0;
  return out;
}

/** The name NUL-terminated in the shared buffer (a fresh one for a name longer than it). */
function nameString(s: string | Buffer): Buffer {
  if (typeof s !== "string" || s.length * 3 >= nameBuf.length) return cString(s);
  nameBuf[nameBuf.write(s, 0, "utf8")] = 0;
  return nameBuf;
}

function errnoError(code: number, what: string): Error {
  const name = ERRNO[code] ?? `E${code}`;
  return Object.assign(new Error(`${name}: ${what}`), { code: name, errno: -code });
}

/**
 * Opens a folder for looking at its entries by name, never through a symlink; null when this platform has no
 * fstatat binding or the folder cannot be opened (callers then lstat by path, which reports why).
 */
export function openDir(dir: FsPath): DirHandle | null {
  if (libc === undefined) libc = loadLibc();
  const c = libc;
  if (!c) return null;
  const fd = c.open(cString(dir), O_RDONLY_DIR_NOFOLLOW_CLOEXEC);
  if (fd < 0) return null;
  let open = true;
  return {
    stat(name) {
      if (c.fstatat(fd, nameString(name), statBuf, AT_SYMLINK_NOFOLLOW) !== 0) {
        const e = c.errno();
        if (e === 2) return undefined;
        throw errnoError(e, `lstat ${String(name)}`);
      }
      return { kind: kindOf(view.getUint32(24, true)), size: u64(48), mtimeMs: ms(88), ctimeMs: ms(104), ino: u64(8), uid: view.getUint32(28, true) };
    },
    close() {
      if (open) c.close(fd);
      open = false;
    },
  };
}
