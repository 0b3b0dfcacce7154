// The file-system seam of the sync engine: every read and write of the share goes through here.
import { lstatSync, readdirSync, readFileSync, unlinkSync, type Dirent, type Stats } from "node:fs";
import { readFileSync as readText } from "node:fs";
import { bytesToName } from "./names.ts";
import { childPath, type FsPath } from "../platform/fs.ts";

export { childPath, fsyncDir, writeFileAtomic, writeFileAtomicStream, type FsPath } from "../platform/fs.ts";

/** One entry of a folder: its stored name, its fs path, and its kind when the listing told it. */
export interface DirEntry {
  name: string;
  path: FsPath;
  kind: "file" | "dir" | "symlink" | "other" | "unknown";
}

const REPLACEMENT = "\uFFFD";

/**
 * Lists a folder fast (names as strings with types), falling back to bytes for a folder holding a name
 * that is not valid UTF-8, so such names are stored by the rule in names.ts and can still be opened.
 */
export function listDir(dir: FsPath): DirEntry[] {
  if (typeof dir === "string") {
    const dirents = readdirSync(dir, { withFileTypes: true }) as Dirent[];
    if (!dirents.some((d) => d.name.includes(REPLACEMENT))) {
      if (dirents.length > 0) assertSearchable(dir);
      return dirents.map((d) => ({ name: d.name, path: `${dir}/${d.name}`, kind: direntKind(d) }));
    }
  }
  const names = readdirSync(dir as string, { encoding: "buffer" }) as unknown as Buffer[];
  if (names.length > 0) assertSearchable(dir);
  return names.map((raw) => {
    const name = bytesToName(raw);
    return { name, path: childPath(dir, name === raw.toString("utf8") ? name : raw), kind: "unknown" as const };
  });
}

/**
 * Throws the refusal (EACCES) for a folder that can be listed but not searched (mode r--): its names come back
 * while every entry in it refuses lstat, so it is as unreadable as a folder that cannot be listed at all, and the
 * walk keeps its known files instead of taking them for deleted. One lstat of "DIR/." per folder, by the
 * effective user like every other look (access(2) would ask for the real one).
 */
function assertSearchable(dir: FsPath): void {
  lstatSync(childPath(dir, "."));
}

function direntKind(d: Dirent): DirEntry["kind"] {
  if (d.isFile()) return "file";
  if (d.isDirectory()) return "dir";
  if (d.isSymbolicLink()) return "symlink";
  if (d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()) return "other";
  return "unknown";
}

/** lstat that answers undefined for a path that vanished (files disappear mid-scan) and throws any other refusal. */
export function lstatStrict(p: FsPath): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

/**
 * lstat that answers undefined for a path that vanished or cannot be looked at (too long, no permission, I/O
 * error): one bad entry never ends a scan; the walk records why with lstatStrict (walk.ts).
 */
export function lstatOrNull(p: FsPath): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The kind of an lstat result, never following a symlink. */
export function statKind(st: Stats): DirEntry["kind"] {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  return "other";
}

/** Reads a small file as text, or undefined when it is absent, unreadable or larger than `maxBytes`. */
export function readSmallFile(p: FsPath, maxBytes: number): string | undefined {
  const st = lstatOrNull(p);
  if (!st || !st.isFile() || st.size > maxBytes) return undefined;
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

/** Whether a process runs under `pid` (one of another user counts: EPERM). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes temp files a killed writer left in a sidecar folder (their names end in `.tmp-PID-RANDOM`). */
export function removeStaleTemps(dir: FsPath): void {
  let names: string[];
  try {
    names = readdirSync(dir as string);
  } catch {
    return;
  }
  for (const n of names) {
    if (!/\.tmp-\d+-[a-z0-9]+$/.test(n)) continue;
    const pid = Number(/\.tmp-(\d+)-/.exec(n)![1]);
    // A writer still running (this process, a `mata scan` beside the server) is mid-write: its temp stays.
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      unlinkSync(childPath(dir, n));
    } catch {
      // someone else removed it first
    }
  }
}

/** Unix account names by uid, read from /etc/passwd once and from getent for the rest; one per context (built with its services). */
export class OwnerNames {
  private readonly names = new Map<number, string>();
  private passwdLoaded = false;

  /** The unix account name owning a file (numeric uid as text when the system knows no name for it). */
  of(uid: number): string {
    if (!this.passwdLoaded) {
      this.passwdLoaded = true;
      try {
        for (const line of readText("/etc/passwd", "utf8").split("\n")) {
          const f = line.split(":");
          if (f.length >= 3 && /^\d+$/.test(f[2]!)) this.names.set(Number(f[2]), f[0]!);
        }
      } catch {
        // no passwd file: fall through to getent
      }
    }
    let name = this.names.get(uid);
    if (name === undefined) {
      const r = Bun.spawnSync(["getent", "passwd", String(uid)], { stdout: "pipe", stderr: "ignore" });
      const out = r.exitCode === 0 ? r.stdout.toString().split(":")[0] : "";
      name = out ? out : String(uid);
      this.names.set(uid, name);
    }
    return name;
  }
}
