// A real `mata serve` started as root with `user` set (privilege separation): a throwaway service account, a config
// file, the URL it serves, and a stop by PID. For the hostile-user tests.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const PROJECT = path.resolve(import.meta.dir, "../..");
const MAIN = path.join(PROJECT, "src/main.ts");

/** A system account for the server (the appliance's installer makes "mata"), removed by the test. */
export function serviceAccount(): { name: string; uid: number; remove(): void } {
  const name = `mt_srv_${Math.random().toString(36).slice(2, 8)}`;
  const r = Bun.spawnSync(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`useradd ${name}: ${r.stderr.toString()}`);
  return { name, uid: uidOf(name), remove: () => Bun.spawnSync(["userdel", name]) };
}

export const uidOf = (name: string) => Number(Bun.spawnSync(["id", "-u", name], { stdout: "pipe" }).stdout.toString().trim());

/** The PIDs a process started (from /proc; empty when it is gone). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A running separated server. */
export interface SeparatedServer {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  /** SIGKILLs the helper and the server if they still run. */
  kill(): void;
}

/** Writes `lines` as the config file (TOML) in `dir` and starts `mata serve --config` on it, until it names its URL. */
export async function startSeparatedServer(dir: string, lines: string[]): Promise<SeparatedServer> {
  const configFile = path.join(dir, "mata.toml");
  writeFileSync(configFile, [`listen = "127.0.0.1:0"`, ...lines].join("\n") + "\n");
  const proc = Bun.spawn([process.execPath, MAIN, "serve", "--config", configFile], {
    cwd: PROJECT,
    env: { ...process.env, MATA_LOG: "warn" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const kill = () => {
    const server = childrenOf(proc.pid);
    if (proc.exitCode === null) proc.kill("SIGKILL");
    for (const c of server) {
      try {
        process.kill(c, "SIGKILL");
      } catch {
        // gone
      }
    }
  };
  const reader = proc.stdout.getReader();
  let out = "";
  let url = "";
  // One read stays pending across the 1 s waits: a fresh read per wait left the earlier one to take the URL line
  // unseen whenever the server needed more than a second to print it (a loaded machine).
  let pending: ReturnType<typeof reader.read> | null = null;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !url;) {
    pending ??= reader.read();
    const r = await Promise.race([pending, Bun.sleep(1000).then(() => null)]);
    if (r === null) continue;
    pending = null;
    if (r.done) break;
    if (r?.value) out += new TextDecoder().decode(r.value);
    url = /serving .* at (http:\/\/\S+)/.exec(out)?.[1] ?? "";
  }
  reader.releaseLock();
  if (!url) {
    kill();
    throw new Error(`mata serve named no URL: ${out} ${await new Response(proc.stderr).text()}`);
  }
  return { proc, url, kill };
}

/** Polls `check` every 100 ms until it returns a value other than undefined, or throws after `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    const v = await check();
    if (v !== undefined) return v;
    await Bun.sleep(100);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}
