/**
 * Whether an error means a full disk (or a spent quota): from node:fs (ENOSPC, EDQUOT), SQLite (SQLITE_FULL), or the
 * text a child process reported (a preview build's message), so the caller can wait for space instead of failing.
 */
export function isDiskFull(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? "");
  if (code === "ENOSPC" || code === "EDQUOT" || code.startsWith("SQLITE_FULL")) return true;
  const message = e instanceof Error ? e.message : String(e);
  return /\bENOSPC\b|no space left on device|\bSQLITE_FULL\b|database or disk is full|\bEDQUOT\b|disk quota exceeded/i.test(message);
}
