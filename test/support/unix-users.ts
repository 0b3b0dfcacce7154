// Real throwaway unix users and groups for tests (PAM, Samba, ACLs); names start with "mt_" and are removed after.
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";

function sh(argv: string[], stdin = ""): void {
  const r = Bun.spawnSync(argv, { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
}

const suffix = () => Math.random().toString(36).slice(2, 8);

/** A system user made by the test. */
export interface UnixUser {
  name: string;
  password: string;
  remove(): void;
}

/** Creates a group `mt_<label>_<random>`; returns its name and a remover. */
export function createUnixGroup(label = "g"): { name: string; remove(): void } {
  const name = `mt_${label}_${suffix()}`.slice(0, 32);
  sh(["groupadd", name]);
  return { name, remove: () => Bun.spawnSync(["groupdel", name]) };
}

/**
 * Creates a user `mt_<label>_<random>` with no home and no shell, a password set through chpasswd,
 * optional supplementary groups, and optionally an account that expired (chage -E 0).
 */
export function createUnixUser(label = "u", opts: { groups?: string[]; expired?: boolean; password?: string } = {}): UnixUser {
  const name = `mt_${label}_${suffix()}`.slice(0, 32);
  const password = opts.password ?? `Pw-${suffix()}-${suffix()}`;
  sh(["useradd", "-M", "-s", "/usr/sbin/nologin", ...(opts.groups?.length ? ["-G", opts.groups.join(",")] : []), name]);
  sh(["chpasswd"], `${name}:${password}\n`);
  if (opts.expired) sh(["chage", "-E", "0", name]);
  return { name, password, remove: () => Bun.spawnSync(["userdel", "-f", name]) };
}

/** A PAM service file for tests, in its own folder (for pam_start_confdir), checking unix passwords and accounts. */
export function writePamService(dir: string, service = "mata-test"): { confdir: string; service: string } {
  const confdir = path.join(dir, "pam.d");
  mkdirSync(confdir, { recursive: true });
  writeFileSync(path.join(confdir, service), "auth required pam_unix.so\naccount required pam_unix.so\n");
  return { confdir, service };
}

/** A minimal smb.conf whose passdb lives in `dir` (enough for smbpasswd/pdbedit; not for running smbd). */
export function writePassdbConf(dir: string): string {
  for (const d of ["private", "lock", "state", "cache", "run", "ncalrpc", "log"]) mkdirSync(path.join(dir, d), { recursive: true, mode: 0o700 });
  const conf = path.join(dir, "smb.conf");
  writeFileSync(
    conf,
    `[global]
  server role = standalone server
  workgroup = MTTEST
  private dir = ${dir}/private
  lock directory = ${dir}/lock
  state directory = ${dir}/state
  cache directory = ${dir}/cache
  pid directory = ${dir}/run
  ncalrpc dir = ${dir}/ncalrpc
  log file = ${dir}/log/samba.log
  passdb backend = tdbsam:${dir}/private/passdb.tdb
  load printers = no
  config backend = file
`,
  );
  return conf;
}
