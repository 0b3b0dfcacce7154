// Background work (fixity, backups) runs below the server: nice 10 and the lowest best-effort IO class, so pages and
// the share stay quick while it reads whole trees.

/** `argv` prefixed with `nice` and `ionice` where the system has them. */
export function lowPriority(argv: string[]): string[] {
  const nice = Bun.which("nice") ? ["nice", "-n", "10"] : [];
  const ionice = Bun.which("ionice") ? ["ionice", "-c", "2", "-n", "7"] : [];
  return [...nice, ...ionice, ...argv];
}
