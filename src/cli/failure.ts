// What a command prints when something it did not expect goes wrong: one line a person can act on.

const ERRNO_WORDS: Record<string, string> = {
  ENAMETOOLONG: "the path is too long for the file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is not a folder",
  ELOOP: "too many symbolic links",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
  EIO: "input/output error (check the disk)",
  EMFILE: "too many open files (raise the limit: ulimit -n)",
  EADDRINUSE: "the address is already in use",
};

/** A path or word of hundreds of characters, cut in the middle so the line stays readable. */
function shorten(text: string): string {
  return text.replace(/\S{301,}/g, (w) => `${w.slice(0, 120)}…${w.slice(-120)} (${w.length.toLocaleString("en-US")} characters)`);
}

/** One line for an unexpected error: what failed, on which path, and what to do next. */
export function failureLine(e: unknown): string {
  const err = e as { code?: unknown; path?: unknown; syscall?: unknown; message?: unknown };
  const code = typeof err?.code === "string" ? err.code : undefined;
  const where = typeof err?.path === "string" ? ` ${shorten(err.path)}` : "";
  if (code && ERRNO_WORDS[code])
    return `${typeof err.syscall === "string" ? `${err.syscall} failed on` : "failed on"}${where || " a path"}: ${ERRNO_WORDS[code]} (${code})`;
  const message = typeof err?.message === "string" && err.message ? err.message.split("\n")[0]! : String(e);
  return shorten(`${message}${code ? ` (${code})` : ""}${where && !message.includes(String(err.path)) ? ` on${where}` : ""}`);
}
