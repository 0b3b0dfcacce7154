// Real unix users and groups for the ACL and Samba tests: created with useradd, removed afterwards.
import { randomBytes } from "node:crypto";

function run(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** A set of throwaway system accounts named `mac_<role>_<random>`; `remove()` deletes them all. */
export function unixUsers(roles: string[], groups: string[] = []): { user: Record<string, string>; group: Record<string, string>; remove: () => void } {
  const tag = randomBytes(3).toString("hex");
  const group: Record<string, string> = {};
  const user: Record<string, string> = {};
  const remove = () => {
    for (const n of Object.values(user)) Bun.spawnSync(["userdel", n], { stdout: "ignore", stderr: "ignore" });
    for (const n of Object.values(group)) Bun.spawnSync(["groupdel", n], { stdout: "ignore", stderr: "ignore" });
  };
  try {
    for (const g of groups) {
      group[g] = `macg_${g}_${tag}`;
      run(["groupadd", group[g]!]);
    }
    for (const r of roles) {
      user[r] = `mac_${r}_${tag}`;
      run(["useradd", "-M", "-N", "-g", "users", "-s", "/usr/sbin/nologin", user[r]!]);
    }
  } catch (e) {
    remove();
    throw e;
  }
  return { user, group, remove };
}

/** Adds a user to a supplementary group. */
export function addToGroup(user: string, group: string): void {
  run(["usermod", "-a", "-G", group, user]);
}

/** Runs a shell command as another user; returns the exit code and output. */
export function asUser(user: string, script: string, cwd = "/"): { code: number; out: string } {
  const r = Bun.spawnSync(["runuser", "-u", user, "--", "sh", "-c", script], { cwd, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

/** getfacl's text for one path (numeric ids off), for assertions that read like the man page. */
export function getfacl(path: string): string {
  return run(["getfacl", "-p", "--omit-header", path]);
}
