// Privilege separation must not cost the user: the same `mata serve` (a process, PAM sign-in, default settings) run
// as one root process and separated (`user`: the server unprivileged, a root helper for PAM and ACLs), on the same
// data in the same run, alternating rounds. Measures tile requests per second (wrk, random tiles, API token) and
// sign-in latency (sequential HTTP Basic requests, each a PAM check: through the helper when separated).
// Run as root:  ./node_modules/.bin/bun bench/privsep.ts [--size 256] [--seconds 8] [--rounds 3] [--signins 40]
import { chownSync, cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { tempDir } from "../test/support/env.ts";
import { createUnixGroup, createUnixUser, writePamService } from "../test/support/unix-users.ts";
import { writeMetaImage } from "../test/jobs/fixture.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "256" },
    seconds: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    signins: { type: "string", default: "40" },
    connections: { type: "string", default: "32" },
  },
});
const N = Number(values.size);
const MAIN = path.join(import.meta.dir, "../src/main.ts");
const tmp = tempDir("mata-privsep-bench-");
const admins = createUnixGroup("adm");
const person = createUnixUser("bench", { groups: [admins.name] });
const srvName = `mt_srv_${Math.random().toString(36).slice(2, 7)}`;
Bun.spawnSync(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", srvName]);
const pam = writePamService(tmp.dir);
const basic = `Basic ${btoa(`${person.name}:${person.password}`)}`;

interface Server {
  name: string;
  url: string;
  id: number;
  token: string;
  tileList: string;
  proc: Bun.Subprocess;
}

async function start(name: string, separated: boolean): Promise<Server> {
  const dir = path.join(tmp.dir, name);
  const root = path.join(dir, "root");
  cpSync(path.join(tmp.dir, "source"), root, { recursive: true });
  const config = path.join(dir, "mata.toml");
  writeFileSync(
    config,
    [
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(path.join(dir, "state"))}`,
      `listen = "127.0.0.1:0"`,
      `auth = "pam"`,
      `pam_service = "${pam.service}"`,
      `pam_confdir = ${JSON.stringify(pam.confdir)}`,
      `admin_group = "${admins.name}"`,
      `stable_ms = 200`,
      `debounce_ms = 100`,
      separated ? `user = "${srvName}"` : "",
    ].join("\n") + "\n",
  );
  const proc = Bun.spawn([process.execPath, MAIN, "serve", "--config", config], {
    env: { ...process.env, MATA_LOG: "warn" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  let url = "";
  while (!url) {
    const r = await reader.read();
    if (r.done) throw new Error(`${name}: serve exited: ${out}`);
    out += new TextDecoder().decode(r.value);
    url = /serving .* at (http:\/\/\S+)/.exec(out)?.[1] ?? "";
  }
  reader.releaseLock();
  let id = 0;
  for (let i = 0; i < 6000; i++) {
    if (!id) {
      const list = (await (await fetch(`${url}/api/v1/datasets`, { headers: { Authorization: basic } })).json()) as { items: { id: number }[] };
      id = list.items[0]?.id ?? 0;
    }
    if (id) {
      const p = (await (await fetch(`${url}/api/v1/datasets/${id}/previews`, { headers: { Authorization: basic } })).json()) as { preview: { state: string } };
      if (p.preview.state === "ready") break;
      if (p.preview.state === "failed") throw new Error(`${name}: preview failed`);
    }
    await Bun.sleep(100);
  }
  const made = await fetch(`${url}/api/v1/tokens`, {
    method: "POST",
    headers: { Authorization: basic, "Content-Type": "application/json" },
    body: JSON.stringify({ label: "bench" }),
  });
  const token = ((await made.json()) as { secret: string }).secret;
  const previews = path.join(dir, "state", "previews");
  const key = readdirSync(previews).find((k) => !k.startsWith("."))!;
  const tileDir = findTiles(path.join(previews, key));
  const tiles: string[] = [];
  for (const scale of readdirSync(tileDir).filter((d) => /^\d+$/.test(d))) for (const f of readdirSync(path.join(tileDir, scale))) tiles.push(`${scale}/${f}`);
  const tileList = path.join(dir, "wrk.lua");
  writeFileSync(
    tileList,
    `math.randomseed(42)\nlocal paths = {${tiles.map((t) => JSON.stringify(t)).join(",")}}\nwrk.headers["Authorization"] = "Bearer ${token}"\nrequest = function()\n  return wrk.format("GET", "/api/v1/datasets/${id}/previews/0/tiles/" .. paths[math.random(1, #paths)])\nend\n`,
  );
  return { name, url, id, token, tileList, proc };
}

/** The folder holding the numbered scale folders of a preview (its layout may nest them). */
function findTiles(dir: string): string {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => e.isDirectory() && /^\d+$/.test(e.name))) return dir;
  for (const e of entries) if (e.isDirectory()) return findTiles(path.join(dir, e.name));
  throw new Error(`no tiles under ${dir}`);
}

async function tiles(s: Server): Promise<{ rps: number; p50: string; p99: string; errors: number }> {
  const p = Bun.spawn(["wrk", "-t2", `-c${values.connections}`, `-d${values.seconds}s`, "--latency", "-s", s.tileList, s.url], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: /\s50%\s+(\S+)/.exec(out)?.[1] ?? "?",
    p99: /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?",
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function signins(s: Server): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < Number(values.signins); i++) {
    const t0 = performance.now();
    const r = await fetch(`${s.url}/api/v1/datasets?limit=1`, { headers: { Authorization: basic } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${s.name}: sign-in answered ${r.status}`);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length * 0.5)]!, p95: ms[Math.floor(ms.length * 0.95)]! };
}

const servers: Server[] = [];
try {
  mkdirSync(path.join(tmp.dir, "source", "vol"), { recursive: true });
  writeMetaImage(path.join(tmp.dir, "source", "vol"), "vol", [N, N, N], (x, y, z) => 500 + ((x * 3 + y * 5 + z * 7) % 2000));
  chownSync(path.join(tmp.dir, "source", "vol"), Number(Bun.spawnSync(["id", "-u", person.name], { stdout: "pipe" }).stdout.toString()), 100);
  servers.push(await start("single", false), await start("separated", true));
  console.log(`load average before: ${(await Bun.file("/proc/loadavg").text()).trim()}`);
  const sums = new Map<string, { rps: number[]; p50: number[]; p95: number[] }>();
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const s of round % 2 ? servers : [...servers].reverse()) {
      const t = await tiles(s);
      const a = await signins(s);
      const e = sums.get(s.name) ?? { rps: [], p50: [], p95: [] };
      e.rps.push(t.rps);
      e.p50.push(a.p50);
      e.p95.push(a.p95);
      sums.set(s.name, e);
      console.log(
        `round ${round} ${s.name.padEnd(9)}: tiles ${t.rps.toFixed(0)} req/s (p50 ${t.p50}, p99 ${t.p99}, errors ${t.errors}) | sign-in p50 ${a.p50.toFixed(1)} ms, p95 ${a.p95.toFixed(1)} ms`,
      );
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const one = sums.get("single")!;
  const sep = sums.get("separated")!;
  console.log(
    `median: tiles separated/single ${(median(sep.rps) / median(one.rps)).toFixed(3)} (${median(sep.rps).toFixed(0)} vs ${median(one.rps).toFixed(0)} req/s); sign-in p50 separated/single ${(median(sep.p50) / median(one.p50)).toFixed(3)} (${median(sep.p50).toFixed(1)} vs ${median(one.p50).toFixed(1)} ms), p95 ${median(sep.p95).toFixed(1)} vs ${median(one.p95).toFixed(1)} ms`,
  );
  console.log(`load average after: ${(await Bun.file("/proc/loadavg").text()).trim()}`);
} finally {
  for (const s of servers) {
    s.proc.kill("SIGTERM");
    await s.proc.exited;
  }
  person.remove();
  admins.remove();
  Bun.spawnSync(["userdel", srvName]);
  tmp.cleanup();
}
