// A real smbd for tests: loopback only, a free non-standard port, every state dir inside a temp dir,
// the share options from an include file (the rendered appliance template). Stopped by PID, together
// with the samba-dcerpcd it spawns. Needs root (smbd, smbpasswd); FAILS when Samba is missing.
import { createServer } from "node:net";
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import path from "node:path";

/** A running smbd and the calls tests make against it. */
export interface Smbd {
  port: number;
  conf: string;
  dir: string;
  /** Adds a Samba password for an existing unix user. */
  addUser(name: string, password: string): void;
  /** Runs smbclient commands (`-c`) on a share as a user; ok is false when any command failed. */
  client(share: string, user: string, password: string, commands: string): { ok: boolean; out: string };
  /** Runs smbclient with a Kerberos ticket only (`--use-kerberos=required`), e.g. env from a test KDC's kinit. */
  kerberosClient(share: string, host: string, env: Record<string, string>, commands: string): { ok: boolean; out: string };
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: { exitCode: number | null }, logFile: string, timeoutMs = 15000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null)
      throw new Error(`smbd exited with ${proc.exitCode} before listening:\n${existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-3000) : ""}`);
    const ok = await new Promise<boolean>((resolve) => {
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: { open: (s) => (s.end(), resolve(true)), error: () => resolve(false), data: () => {}, connectError: () => resolve(false) },
      }).catch(() => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(30);
  }
  throw new Error(`smbd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Starts smbd with a self-contained smb.conf in `dir` whose [global] keeps everything inside `dir`
 * and on 127.0.0.1, then `include`s the given share file. `dir` must be reachable by the share's users.
 * `opts.env` reaches smbd's environment (e.g. KRB5_CONFIG for a rendered include with a realm).
 */
export async function startSmbd(dir: string, include: string, opts: { env?: Record<string, string> } = {}): Promise<Smbd> {
  if (!existsSync("/usr/sbin/smbd")) throw new Error("smbd is not installed (apt-get install -y samba smbclient)");
  const d = path.resolve(dir);
  for (const sub of ["private", "lock", "state", "cache", "run", "log", "ncalrpc"]) mkdirSync(path.join(d, sub), { recursive: true });
  chmodSync(path.join(d, "private"), 0o700);
  const port = await freePort();
  const conf = path.join(d, "smb.conf");
  writeFileSync(
    conf,
    `[global]
  server role = standalone server
  workgroup = MATATEST
  netbios name = MATATEST
  smb ports = ${port}
  interfaces = 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  private dir = ${d}/private
  lock directory = ${d}/lock
  state directory = ${d}/state
  cache directory = ${d}/cache
  pid directory = ${d}/run
  ncalrpc dir = ${d}/ncalrpc
  log file = ${d}/log/samba.log
  log level = 1
  max log size = 0
  passdb backend = tdbsam:${d}/private/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  usershare max shares = 0
  config backend = file
  security = user
include = ${path.resolve(include)}
`,
  );
  const logFile = path.join(d, "log", "smbd.out");
  const out = Bun.file(logFile);
  // Never --no-process-group: smbd would then signal its whole group, the test runner included.
  const proc = Bun.spawn(["/usr/sbin/smbd", "--foreground", "--debug-stdout", "-s", conf], {
    stdin: "ignore",
    stdout: out,
    stderr: out,
    env: { ...process.env, ...opts.env },
  });
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
    const pidFile = path.join(d, "run", "samba-dcerpcd.pid");
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (Number.isInteger(pid) && pid > 1) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
  };
  try {
    await waitForPort(port, proc, logFile);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    conf,
    dir: d,
    addUser(name, password) {
      const r = Bun.spawnSync(["smbpasswd", "-c", conf, "-s", "-a", name], {
        stdin: new TextEncoder().encode(`${password}\n${password}\n`),
        stdout: "pipe",
        stderr: "pipe",
      });
      if (r.exitCode !== 0) throw new Error(`smbpasswd -a ${name} failed: ${r.stderr.toString()}${r.stdout.toString()}`);
    },
    client(share, user, password, commands) {
      // The password goes through the environment, never argv.
      const r = Bun.spawnSync(["smbclient", `//127.0.0.1/${share}`, "-p", String(port), "-s", conf, "-U", user, "-c", commands], {
        env: { ...process.env, PASSWD: password },
        stdout: "pipe",
        stderr: "pipe",
      });
      const text = r.stdout.toString() + r.stderr.toString();
      return { ok: r.exitCode === 0 && !/NT_STATUS_/.test(text), out: text };
    },
    kerberosClient(share, host, env, commands) {
      const r = Bun.spawnSync(
        ["smbclient", `//${host}/${share}`, "-I", "127.0.0.1", "-p", String(port), "-s", conf, "--use-kerberos=required", "-N", "-c", commands],
        {
          env: { ...process.env, ...env },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const text = r.stdout.toString() + r.stderr.toString();
      return { ok: r.exitCode === 0 && !/NT_STATUS_/.test(text), out: text };
    },
    stop,
  };
}
