// A real `mata serve` process in a temp dir, for tests that talk to it over HTTP as scripts do.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "./env.ts";

const PROJECT = path.resolve(import.meta.dir, "../..");
const MAIN = path.join(PROJECT, "src/main.ts");

/** A running server: its URL, a temp dir, its accounts' passwords and a token of the admin. */
export interface LiveServer {
  url: string;
  dir: string;
  root: string;
  state: string;
  admin: { name: string; password: string; token: string };
  user: { name: string; password: string; token: string };
  /** Dataset ids by folder path. */
  ids: Record<string, number>;
  /** The server process's PID, and its exit code once it exits. */
  pid: number;
  exited: Promise<number>;
  stop(): Promise<void>;
}

/** Options of a live server: extra environment, and a root folder made by the test (a tmpfs mount, say). */
export interface LiveServerOptions {
  env?: Record<string, string>;
  root?: string;
}

/** Runs `mata ARGS` from the checkout with stdin and env; resolves to its exit code and output. */
export async function runMata(
  args: string[],
  opts: { stdin?: string; env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: opts.cwd ?? PROJECT,
    // undefined removes a variable, so the caller's own MATA_URL or MATA_TOKEN cannot leak in.
    env: Object.fromEntries(Object.entries({ ...process.env, MATA_LOG: "warn", ...opts.env }).filter(([, v]) => v !== undefined)) as Record<string, string>,
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** A TCP port nothing listens on (bound, then released), for "cannot reach" tests. */
export function closedPort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Reads a server's stdout until it names its URL (it listens on a port the OS chose, so none is raced for). */
async function waitForUrl(p: Bun.Subprocess<"ignore", "pipe", "pipe">, ms: number): Promise<string> {
  const reader = p.stdout.getReader();
  const deadline = Date.now() + ms;
  let text = "";
  while (Date.now() < deadline) {
    const r = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => ({ done: true as const, value: undefined }))]);
    if (r.done) break;
    text += new TextDecoder().decode(r.value);
    const m = /serving .* at (http:\/\/\S+)/.exec(text);
    if (m) {
      reader.releaseLock();
      return m[1]!;
    }
  }
  throw new Error(`mata serve did not report its URL within ${ms} ms; stdout: ${text}; stderr: ${await new Response(p.stderr).text()}`);
}

async function api<T>(url: string, auth: string, method = "GET", body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { Authorization: auth, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Starts `mata serve` on 127.0.0.1 with dataset folders (path -> files), an admin and a plain account,
 * waits until the API lists every dataset, and makes an API token for each account.
 */
export async function startLiveServer(datasets: Record<string, Record<string, string | Uint8Array>>, opts: LiveServerOptions = {}): Promise<LiveServer> {
  const tmp = tempDir("mata-live-");
  const root = opts.root ?? path.join(tmp.dir, "root");
  const state = path.join(tmp.dir, "state");
  for (const [folder, files] of Object.entries(datasets)) {
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, folder, rel)), { recursive: true });
      writeFileSync(path.join(root, folder, rel), content);
    }
  }
  const admin = { name: "admin", password: "correct horse battery", token: "" };
  const user = { name: "bob", password: "bob's long password", token: "" };
  for (const [a, flag] of [
    [admin, ["--admin"]],
    [user, []],
  ] as const) {
    const r = await runMata(["user", "add", a.name, ...flag, "--state", state], { stdin: `${a.password}\n` });
    if (r.code !== 0) throw new Error(`mata user add ${a.name}: ${r.err}`);
  }
  const proc = Bun.spawn([process.execPath, MAIN, "serve", "--root", root, "--state", state, "--listen", "127.0.0.1:0"], {
    cwd: PROJECT,
    env: { ...process.env, MATA_LOG: "warn", MATA_ACLS: "false", MATA_DEBOUNCE_MS: "100", MATA_STABLE_MS: "200", MATA_JOB_CONCURRENCY: "1", ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stop = async () => {
    if (proc.exitCode === null) {
      process.kill(proc.pid, "SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(10_000)]);
      if (proc.exitCode === null) process.kill(proc.pid, "SIGKILL");
    }
    tmp.cleanup();
  };
  try {
    const url = await waitForUrl(proc, 30_000);
    const basic = (a: { name: string; password: string }) => `Basic ${btoa(`${a.name}:${a.password}`)}`;
    const want = Object.keys(datasets);
    const ids: Record<string, number> = {};
    for (let i = 0; i < 150 && Object.keys(ids).length < want.length; i++) {
      const r = await api<{ items: { id: number; path: string }[] }>(`${url}/api/v1/datasets?limit=1000`, basic(admin));
      for (const d of r.items) if (want.includes(d.path)) ids[d.path] = d.id;
      if (Object.keys(ids).length < want.length) await Bun.sleep(200);
    }
    if (Object.keys(ids).length < want.length) throw new Error(`the server listed ${JSON.stringify(ids)}, not all of ${want.join(", ")}`);
    for (const a of [admin, user]) a.token = (await api<{ secret: string }>(`${url}/api/v1/tokens`, basic(a), "POST", { label: "test" })).secret;
    return { url, dir: tmp.dir, root, state, admin, user, ids, pid: proc.pid, exited: proc.exited, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
