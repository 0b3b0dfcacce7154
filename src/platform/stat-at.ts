// lstat of a folder's entries relative to the folder's descriptor (fstatat with AT_SYMLINK_NOFOLLOW through libc),
// as `find` does: the kernel resolves one name instead of the whole path, and no Stats object is built per entry,
// which makes a walk of a million files about a third cheaper than `lstatSync` on every path. Linux x86-64 only;
// elsewhere `openDir` answers null and callers use `lstatSync`.
import { lstatSync, type Stats } from "node:fs";
import type { FsPath } from "./fs.ts";
import { cString, errnoError, libc } from "./libc.ts";

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
function entryStat(st: Stats): EntryStat {
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
export function lstatPath(p: FsPath): EntryStat | undefined {
  const st = lstatSync(p, { throwIfNoEntry: false });
  return st ? entryStat(st) : undefined;
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

/** The name NUL-terminated in the shared buffer (a fresh one for a name longer than it). */
function nameString(s: string | Buffer): Buffer {
  if (typeof s !== "string" || s.length * 3 >= nameBuf.length) return cString(s);
  nameBuf[nameBuf.write(s, 0, "utf8")] = 0;
  return nameBuf;
}

/**
 * Opens a folder for looking at its entries by name, never through a symlink; null when this platform has no
 * fstatat binding or the folder cannot be opened (callers then lstat by path, which reports why).
 */
export function openDir(dir: FsPath): DirHandle | null {
  const c = libc();
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
