// Opening a file of the share beneath the root without following a symlink at any component: openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (Linux 5.6+), through libc's syscall(). A share user who swaps a dataset
// folder (or any folder on the way) for a symlink to /etc gets ELOOP, not /etc's files, however the race falls.
import { closeSync, openSync, constants } from "node:fs";
import type { FsPath } from "./fs.ts";
import { cString, errnoError, libc } from "./libc.ts";

const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const O_CLOEXEC = 0o2000000;
const O_NOFOLLOW = 0o400000;
const ENOSYS = 38;
const EINVAL = 22;

/**
 * Opens `rel` (bytes or text, '/'-separated, relative) read-only beneath the folder `root`, refusing any symlink on
 * the way, the last name included, and any escape (`..`, absolute); `flags` are added (O_DIRECTORY for a folder). Returns a descriptor the caller closes; throws an
 * Error with `code` (ELOOP for a symlink, ENOENT...). Without openat2 (another platform, an old kernel) it opens
 * each component with O_NOFOLLOW relative to the one before, which refuses symlinks the same way.
 */
export function openBeneath(root: string, rel: FsPath, flags = 0): number {
  const bytes = typeof rel === "string" ? Buffer.from(rel, "utf8") : rel;
  const parts = bytes.toString("latin1").split("/");
  if (bytes.length === 0 || bytes[0] === 0x2f || parts.some((p) => p === "" || p === "." || p === "..")) throw errnoError(EINVAL, "not a relative path");
  const rootFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC);
  try {
    const sys = libc();
    if (sys) {
      // struct open_how { u64 flags; u64 mode; u64 resolve; }
      const how = new Uint8Array(24);
      const v = new DataView(how.buffer);
      v.setUint32(0, constants.O_RDONLY | O_CLOEXEC | O_NOFOLLOW | flags, true);
      v.setUint32(16, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, true);
      const fd = sys.openat2(rootFd, cString(bytes), how);
      if (fd >= 0) return fd;
      const e = sys.errno();
      if (e !== ENOSYS) throw errnoError(e, `open ${bytes.toString("utf8")}`);
    }
    return openByComponents(rootFd, bytes, flags);
  } finally {
    closeSync(rootFd);
  }
}

/** The portable way: each folder opened with O_NOFOLLOW | O_DIRECTORY through /proc/self/fd of the one before. */
function openByComponents(rootFd: number, bytes: Buffer, lastFlags: number): number {
  const names = bytes.toString("latin1").split("/");
  let dirFd = openSync(`/proc/self/fd/${rootFd}`, constants.O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC);
  try {
    for (let i = 0; i < names.length; i++) {
      const last = i === names.length - 1;
      const flags = constants.O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? lastFlags : constants.O_DIRECTORY);
      const child = Buffer.concat([Buffer.from(`/proc/self/fd/${dirFd}/`), Buffer.from(names[i]!, "latin1")]);
      const next = openSync(child, flags);
      closeSync(dirFd);
      dirFd = next;
    }
    const fd = dirFd;
    dirFd = -1;
    return fd;
  } finally {
    if (dirFd >= 0) closeSync(dirFd);
  }
}
