// Benchmark: 50 parallel PAM sign-ins while a static file route is being served (tiles are static files too).
// For Mata (PAM in worker threads) and, in the same run, a reference server that runs the same PAM
// conversation on the request thread, it measures the file route idle and under the sign-in load:
//  - latency: an open-loop probe at RATE requests/s (bench/auth-pam.probe.ts), p95 from when each request was due;
//  - throughput: wrk -t1 -c4, requests/s.
// The sign-in clients run in their own process at nice 10, standing in for browsers on other machines.
// Alternating idle/loaded rounds, medians. Run as root (it makes a throwaway unix user):
//   ./node_modules/.bin/bun bench/auth-pam.ts [seconds=5] [rounds=5] [rate=500]
import path from "node:path";
import { tempDir } from "../test/support/env.ts";
import { createUnixUser, writePamService } from "../test/support/unix-users.ts";

const SECONDS = Number(process.argv[2] ?? 5);
const ROUNDS = Number(process.argv[3] ?? 5);
const RATE = Number(process.argv[4] ?? 500);
const PARALLEL = 50;
const FILE_ROUTE = "/static/app.css";

interface Probe {
  requests: number;
  answered: number;
  failures: number;
  p50: number;
  p95: number;
  p99: number;
}

async function output(argv: string[]): Promise<string> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv[0]} failed (${code}): ${err || out}`);
  return out;
}

async function probe(url: string): Promise<Probe> {
  return JSON.parse(await output([process.execPath, path.join(import.meta.dir, "auth-pam.probe.ts"), url, String(RATE), String(SECONDS)]));
}

async function wrkRate(url: string): Promise<number> {
  const out = await output(["wrk", "-t1", "-c4", `-d${SECONDS}s`, "-s", path.join(import.meta.dir, "auth-pam.lua"), url]);
  const m = /RESULT p95_us=\d+ p50_us=\d+ requests=(\d+) errors=\d+/.exec(out);
  if (!m) throw new Error(`wrk printed no result: ${out}`);
  return Number(m[1]) / SECONDS;
}

async function startServer(env: Record<string, string>): Promise<{ base: string; stop: () => Promise<void> }> {
  const proc = Bun.spawn([process.execPath, path.join(import.meta.dir, "auth-pam.server.ts")], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
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

/** Keeps PARALLEL sign-ins in flight (a separate process at nice 10) while `during` runs; returns its result and the sign-ins made. */
async function underSignIns<T>(
  base: string,
  user: { name: string; password: string },
  during: () => Promise<T>,
): Promise<{ result: T; done: number; ok: number }> {
  const load = Bun.spawn(
    ["nice", "-n", "10", process.execPath, path.join(import.meta.dir, "auth-pam.signins.ts"), base, user.name, user.password, String(PARALLEL)],
    { stdout: "pipe", stderr: "inherit" },
  );
  await Bun.sleep(500); // the sign-in queue is full before measuring
  const result = await during();
  load.kill("SIGTERM");
  const [out] = await Promise.all([new Response(load.stdout).text(), load.exited]);
  const counts = JSON.parse(out) as { done: number; ok: number };
  return { result, ...counts };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, env: Record<string, string>, user: { name: string; password: string }) {
  const server = await startServer(env);
  const url = server.base + FILE_ROUTE;
  try {
    await probe(url); // warm-up
    const idle: Probe[] = [];
    const loaded: Probe[] = [];
    const rateIdle: number[] = [];
    const rateLoaded: number[] = [];
    let signIns = { done: 0, ok: 0, seconds: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      idle.push(await probe(url));
      const t0 = performance.now();
      const l = await underSignIns(server.base, user, () => probe(url));
      loaded.push(l.result);
      rateIdle.push(await wrkRate(url));
      const w = await underSignIns(server.base, user, () => wrkRate(url));
      rateLoaded.push(w.result);
      signIns = { done: signIns.done + l.done + w.done, ok: signIns.ok + l.ok + w.ok, seconds: signIns.seconds + (performance.now() - t0) / 1000 - SECONDS };
    }
    const p95Idle = median(idle.map((p) => p.p95));
    const p95Loaded = median(loaded.map((p) => p.p95));
    return {
      label,
      p50Idle: median(idle.map((p) => p.p50)),
      p95Idle,
      p50Loaded: median(loaded.map((p) => p.p50)),
      p95Loaded,
      ratio: p95Loaded / p95Idle,
      rateIdle: median(rateIdle),
      rateLoaded: median(rateLoaded),
      failures: loaded.reduce((n, p) => n + p.failures, 0),
      signInsPerSecond: signIns.done / signIns.seconds,
      signIns,
      rounds: { idle: idle.map((p) => p.p95), loaded: loaded.map((p) => p.p95) },
    };
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
  for (const [label, blocking] of [
    ["mata (PAM in 2 worker threads)", "0"],
    ["reference (PAM on the request thread)", "1"],
  ] as const) {
    results.push(await measure(label, { ...base, BENCH_STATE: path.join(dir, label.split(" ")[0]!), BENCH_BLOCKING: blocking }, user));
  }
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  console.log(
    `file route ${FILE_ROUTE}: open-loop probe at ${RATE} req/s and wrk -t1 -c4, ${SECONDS} s each, idle and with ${PARALLEL} sign-ins in flight (pam_unix, yescrypt); medians of ${ROUNDS} rounds`,
  );
  for (const r of results)
    console.log(`${r.label}: probe p95 per round idle ${r.rounds.idle.map(ms).join(" / ")}, loaded ${r.rounds.loaded.map(ms).join(" / ")}`);
  console.log("| server | p50 idle -> loaded | p95 idle -> loaded | p95 loaded / idle | wrk req/s idle -> loaded | sign-ins/s |");
  console.log("|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.label} | ${ms(r.p50Idle)} -> ${ms(r.p50Loaded)} | ${ms(r.p95Idle)} -> ${ms(r.p95Loaded)} | ${r.ratio.toFixed(2)}x | ` +
        `${Math.round(r.rateIdle)} -> ${Math.round(r.rateLoaded)} | ${r.signInsPerSecond.toFixed(0)} (${r.signIns.ok}/${r.signIns.done} ok) |`,
    );
  }
  const mata = results[0]!;
  console.log(
    `target: file p95 under sign-in load within 2x idle -> ${mata.ratio.toFixed(2)}x ${mata.ratio <= 2 ? "MET" : "NOT MET"}; reference ${results[1]!.ratio.toFixed(1)}x`,
  );
} finally {
  user.remove();
  cleanup();
}
