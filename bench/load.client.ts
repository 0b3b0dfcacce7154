// The clients of bench/load.ts, in a process of their own: N closed-loop clients, each sending one request at a time
// (keep-alive, API token) picked from a weighted mix of routes, for a warm-up and then the measured seconds. Prints one
// JSON line: per route, the latencies (ms) of the measured requests and the errors (non-2xx or network).
//   bun bench/load.client.ts PLAN.json
import { readFileSync } from "node:fs";
import { seededRandom } from "../src/demo/random.ts";

/** What the orchestrator hands the clients. */
export interface LoadPlan {
  url: string;
  token: string;
  clients: number;
  warmupSeconds: number;
  seconds: number;
  seed: number;
  /** Route name -> weight and the request paths it draws from at random. */
  routes: Record<string, { weight: number; paths: string[] }>;
}

/** One client process's measurements. */
export interface LoadResult {
  measuredSeconds: number;
  routes: Record<string, { latencies: number[]; errors: number; statuses: Record<string, number> }>;
}

const plan = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadPlan;
const names = Object.keys(plan.routes);
const total = names.reduce((n, k) => n + plan.routes[k]!.weight, 0);
const result: LoadResult = { measuredSeconds: plan.seconds, routes: {} };
for (const n of names) result.routes[n] = { latencies: [], errors: 0, statuses: {} };
const headers = { Authorization: `Bearer ${plan.token}` };

const t0 = performance.now();
const measureFrom = t0 + plan.warmupSeconds * 1000;
const end = measureFrom + plan.seconds * 1000;

async function client(i: number): Promise<void> {
  const rand = seededRandom(plan.seed * 1000 + i);
  for (;;) {
    let r = rand() * total;
    const name = names.find((n) => (r -= plan.routes[n]!.weight) < 0) ?? names[0]!;
    const paths = plan.routes[name]!.paths;
    const p = paths[Math.floor(rand() * paths.length)]!;
    const start = performance.now();
    if (start >= end) return;
    let status = "network";
    try {
      const res = await fetch(plan.url + p, { headers });
      await res.arrayBuffer();
      status = String(res.status);
    } catch {
      // counted below as a network error
    }
    const done = performance.now();
    if (start < measureFrom || done > end) continue;
    const out = result.routes[name]!;
    out.latencies.push(done - start);
    out.statuses[status] = (out.statuses[status] ?? 0) + 1;
    if (!status.startsWith("2")) out.errors++;
  }
}

await Promise.all(Array.from({ length: plan.clients }, (_, i) => client(i)));
console.log(JSON.stringify(result));
