// Background work (fixity, backups) runs below the server: the idle CPU scheduling class (it gets a core only when no
// ordinary task wants it; nice 10 where that class is missing) and the lowest best-effort IO class, so pages and the
// share stay quick while it reads whole trees. Dropping to SCHED_IDLE needs no privilege.

/** `argv` prefixed with `chrt --idle`, `nice` and `ionice` where the system has them. */
export function lowPriority(argv: string[]): string[] {
  const nice = Bun.which("nice") ? ["nice", "-n", "10"] : [];
  const idle = Bun.which("chrt") ? ["chrt", "--idle", "0"] : [];
  const ionice = Bun.which("ionice") ? ["ionice", "-c", "2", "-n", "7"] : [];
  return [...nice, ...idle, ...ionice, ...argv];
}
