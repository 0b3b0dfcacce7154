// The share roots this process serves (each context registers its own), so code holding only an absolute path of a
// dataset (the sidecar writers, the preview readers) can still open it beneath its root, refusing a symlink anywhere below.
import { closeSync, constants, fstatSync, openSync, type Stats } from "node:fs";
import path from "node:path";
import { openBeneath } from "./beneath.ts";
import type { FsPath } from "./fs.ts";

const roots = new Set<string>();

/** Registers a share root (config `root`): absolute paths under it are opened beneath it from now on. */
export function registerShareRoot(root: string): void {
  roots.add(path.resolve(root));
}

/** The registered root an absolute path lies under, with the path below it (bytes), or null. */
export function underShareRoot(abs: FsPath): { root: string; rel: Buffer } | null {
  const bytes = typeof abs === "string" ? Buffer.from(abs, "utf8") : abs;
  for (const root of roots) {
    const prefix = Buffer.from(root.endsWith("/") ? root : `${root}/`, "utf8");
    if (bytes.length > prefix.length && bytes.subarray(0, prefix.length).equals(prefix)) return { root, rel: bytes.subarray(prefix.length) };
  }
  return null;
}

const O_CLOEXEC = 0o2000000;

/**
 * Opens a share file (or, with O_DIRECTORY in `flags`, a folder) read-only and returns its descriptor: beneath its
 * registered root with no symlink at any place, so a dataset folder or any folder on the way swapped for a symlink is
 * refused (ELOOP/ENOTDIR); a path under no root (a tool given a bare folder) is opened refusing a symlink as its last name.
 */
export function openShareFile(abs: FsPath, flags = 0): number {
  const under = underShareRoot(abs);
  if (under) return openBeneath(under.root, under.rel, flags);
  return openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | O_CLOEXEC | flags);
}

/** Thrown for a share file that is a folder, FIFO, socket or device where a regular file was expected. */
export class NotRegularFileError extends Error {
  /** What it is instead, in words ("a folder", "a FIFO"...). */
  readonly kind: string;
  constructor(kind: string) {
    super(`not a regular file (${kind})`);
    this.name = "NotRegularFileError";
    this.kind = kind;
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "an unknown kind of file";
}

/**
 * Opens a share file to read its bytes (openShareFile), refusing anything but a regular file: a FIFO would block the
 * open or the reads forever, a device (a copy of /dev/zero) never ends, a folder fails every read. O_NONBLOCK keeps
 * the open of a FIFO from waiting for a writer; on a regular file it changes nothing.
 */
export function openShareRegularFile(abs: FsPath): number {
  const fd = openShareFile(abs, constants.O_NONBLOCK);
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new NotRegularFileError(kindOf(st));
  }
  return fd;
}
