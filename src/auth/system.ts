// The child processes the auth feature needs (group lookups, password tools), behind one small wrapper.

/** What a finished child process said. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool with secrets on stdin only (never in argv, where `ps` would show them). */
export async function run(argv: string[], stdin = "", env?: Record<string, string>): Promise<RunResult> {
  const proc = Bun.spawn(argv, { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe", env: env ? { ...process.env, ...env } : undefined });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A user name safe to hand to system tools: what useradd accepts, never an option or a path. */
export const UNIX_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

/**
 * The unix groups of a system user (through NSS, so LDAP/sssd users work too), or null when the
 * user does not exist; grants may name groups, so they come from the system, not from Mata.
 */
export function unixGroups(name: string): string[] | null {
  if (!UNIX_NAME.test(name)) return null;
  const r = Bun.spawnSync(["id", "-Gn", "--", name], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) return null;
  return r.stdout.toString().trim().split(/\s+/).filter(Boolean);
}
