// Benchmark: 50 parallel PAM sign-ins while a static file route is being served (tiles are static files too).
// Measures the file route's p95 latency idle and under the sign-in load, for Mata (PAM in worker threads)
// and for a reference that runs the same PAM conversation on the request thread. Run as root:
//   ./node_modules/.bin/bun bench/auth-pam.ts [seconds=6] [rounds=3]
import path from "node:path";
import { tempDir } from "../test/support/env.ts";
import { createUnixUser, writePamService } from "../test/support/unix-users.ts";

const SECONDS = Number(process.argv[2] ?? 6);
const PARALLEL = 50;
const ROUNDS = Number(process.argv[3] ?? 3);
const FILE_ROUTE = "/static/app.css";

interface Wrk {
  p95: number;
  p50: number;
  requests: number;
  errors: number;
}

async function wrk(url: string): Promise<Wrk> {
  const lua = path.join(import.meta.dir, "auth-pam.lua");
  const proc = Bun.spawn(["wrk", "-t1", "-c4", `-d${SECONDS}s`, "-s", lua, url], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const m = /RESULT p95_us=(\d+) p50_us=(\d+) requests=(\d+) errors=(\d+)/.exec(out);
  if (code !== 0 || !m) throw new Error(`wrk failed (${code}): ${out}`);
  return { p95: Number(m[1]) / 1000, p50: Number(m[2]) / 1000, requests: Number(m[3]), errors: Number(m[4]) };
}

async function startServer(env: Record<string, string>): Promise<{ base: string; stop: () => Promise<void> }> {
  const proc = Bun.spawn([process.execPath, path.join(import.meta.dir, "auth-pam.server.ts")], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bench server exited before it was ready");
    text += new TextDecoder().decode(value);
  }
  const base = /READY (\S+)/.exec(text)![1]!;
  return {
    base,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** Keeps PARALLEL sign-ins in flight until `until`; returns how many completed and how many succeeded. */
async function signInLoad(base: string, name: string, password: string, until: number): Promise<{ done: number; ok: number }> {
  let done = 0;
  let ok = 0;
  const body = new URLSearchParams({ name, password, next: "/" }).toString();
  const one = async (): Promise<void> => {
    while (performance.now() < until) {
      const res = await fetch(`${base}/login`, { method: "POST", body, redirect: "manual", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      await res.arrayBuffer();
      done++;
      if (res.status === 303) ok++;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, one));
  return { done, ok };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Alternates idle and loaded runs ROUNDS times on one server and keeps the medians (the machine is shared and noisy). */
async function measure(label: string, env: Record<string, string>, user: { name: string; password: string }) {
  const server = await startServer(env);
  try {
    await wrk(server.base + FILE_ROUTE); // warm-up
    const idle: Wrk[] = [];
    const loaded: Wrk[] = [];
    let signIns = { done: 0, ok: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      idle.push(await wrk(server.base + FILE_ROUTE));
      const until = performance.now() + SECONDS * 1000 + 500;
      const [l, s] = await Promise.all([wrk(server.base + FILE_ROUTE), signInLoad(server.base, user.name, user.password, until)]);
      loaded.push(l);
      signIns = { done: signIns.done + s.done, ok: signIns.ok + s.ok };
    }
    const pick = (runs: Wrk[]): Wrk => ({ p95: median(runs.map((r) => r.p95)), p50: median(runs.map((r) => r.p50)), requests: median(runs.map((r) => r.requests)), errors: median(runs.map((r) => r.errors)) });
    const i = pick(idle);
    const l = pick(loaded);
    // A server that answers almost nothing under load has no meaningful latency percentile (wrk counts only answers).
    const stalled = l.requests < i.requests * 0.05;
    return { label, idle: i, loaded: l, stalled, logins: signIns, ratio: stalled ? Infinity : l.p95 / i.p95, rounds: { idle: idle.map((r) => r.p95), loaded: loaded.map((r) => r.p95) } };
  } finally {
    await server.stop();
  }
}

const { dir, cleanup } = tempDir("mata-bench-");
const user = createUnixUser("bench");
try {
  const pam = writePamService(dir);
  const base = { BENCH_PAM_CONFDIR: pam.confdir, BENCH_PAM_SERVICE: pam.service };
  const results = [];
  for (const [label, blocking] of [["mata (PAM in 2 worker threads)", "0"], ["reference (PAM on the request thread)", "1"]] as const) {
    results.push(await measure(label, { ...base, BENCH_STATE: path.join(dir, label.split(" ")[0]!), BENCH_BLOCKING: blocking }, user));
  }
  console.log(`file route ${FILE_ROUTE}, wrk -t1 -c4 ${SECONDS}s, with ${PARALLEL} sign-ins kept in flight (same PAM user, pam_unix yescrypt); medians of ${ROUNDS} rounds`);
  for (const r of results) console.log(`${r.label}: p95 per round idle ${r.rounds.idle.map((x) => x.toFixed(2)).join(" / ")} ms, loaded ${r.rounds.loaded.map((x) => x.toFixed(2)).join(" / ")} ms`);
  console.log("| server | idle p50 | idle p95 | loaded p50 | loaded p95 | p95 ratio | file req/s idle -> loaded | sign-ins/s (ok) |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.label} | ${r.idle.p50.toFixed(2)} ms | ${r.idle.p95.toFixed(2)} ms | ` +
        (r.stalled ? `stalled | stalled | - | ` : `${r.loaded.p50.toFixed(2)} ms | ${r.loaded.p95.toFixed(2)} ms | ${r.ratio.toFixed(2)}x | `) +
        `${Math.round(r.idle.requests / SECONDS)} -> ${Math.round(r.loaded.requests / SECONDS)} (${r.loaded.errors} errors) | ${(r.logins.done / SECONDS / ROUNDS).toFixed(0)} (${r.logins.ok}/${r.logins.done}) |`,
    );
  }
  const mata = results[0]!;
  console.log(`target: loaded p95 within 2x idle -> ${mata.ratio.toFixed(2)}x ${mata.ratio <= 2 ? "MET" : "NOT MET"}`);
} finally {
  user.remove();
  cleanup();
}
