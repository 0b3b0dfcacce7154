// A mixed load on the executable users run: `dist/mata serve` (build it first: `npm run build`) as a process, on a
// generated share of N datasets with titles, descriptions and tags (set through the API) and volumes whose previews
// the server builds itself; then C closed-loop clients on loopback (bench/load.client.ts, in processes of their own)
// mix the dataset list, dataset pages, search, tag suggestions and tiles for the measured seconds. Reports per route
// requests, errors, p50/p95/p99 and requests per second, the server's peak RSS (VmHWM) and the load average; the
// server's own /metrics count of the same requests is printed as a cross-check.
//
//   bun bench/load.ts [--seconds 60] [--clients 200] [--procs 2] [--datasets 2000] [--volumes 2] [--size 256]
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { seededRandom } from "../src/demo/random.ts";
import { writeMetaImage } from "../test/jobs/fixture.ts";
import type { LoadPlan, LoadResult } from "./load.client.ts";
import { chunkNames, type ScaleInfo } from "../src/preview/layout.ts";
import { serveUrl } from "./serve-url.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    warmup: { type: "string", default: "5" },
    clients: { type: "string", default: "200" },
    procs: { type: "string", default: "2" },
    datasets: { type: "string", default: "2000" },
    volumes: { type: "string", default: "2" },
    size: { type: "string", default: "256" },
    exe: { type: "string", default: path.join(import.meta.dir, "../dist/mata") },
  },
});
const N = Number(values.datasets);
const EXE = path.resolve(values.exe!);
const dir = path.join(tmpdir(), `mata-load-${process.pid}`);
const root = path.join(dir, "root");
const state = path.join(dir, "state");
const rand = seededRandom(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
// Zipf-like: early entries are drawn far more often, as words and tag values are in real metadata.
const zipf = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(xs.length * rand() ** 3))]!;

const SYLLABLES = ["ka", "lo", "mi", "ner", "os", "pra", "qui", "ru", "sta", "tel", "ur", "vex", "win", "zor", "bel", "cor", "dun", "fel"];
const WORDS = Array.from({ length: 400 }, (_, i) => SYLLABLES[i % 18]! + SYLLABLES[Math.floor(i / 18) % 18]! + (i >= 324 ? SYLLABLES[i % 7]! : ""));
const SPECIES = ["sheep", "mouse", "rat", "pig", "human", "rabbit", "zebrafish", "dog", "macaque", "chicken"];
const MODALITY = ["micro-CT", "confocal", "light-sheet", "MRI", "histology", "SPECT"];
const OPERATORS = Array.from({ length: 40 }, (_, i) => `operator-${i}`);

function sentence(n: number): string {
  return Array.from({ length: n }, () => zipf(WORDS)).join(" ");
}

function tagsFor(i: number) {
  return [
    { key: "Species", value: zipf(SPECIES) },
    { key: "Modality", value: zipf(MODALITY) },
    { key: "Project", value: `P-${String(Math.floor(rand() * 120)).padStart(3, "0")}` },
    {
      key: "Scan",
      value: "",
      children: [
        { key: "Voltage", value: `${pick([50, 70, 90, 110])} kV` },
        { key: "Resolution", value: `${pick([5, 10, 20, 40])} µm` },
      ],
    },
    { key: "Operator", value: zipf(OPERATORS) },
    { key: "Sample", value: `S${i}` },
  ];
}

/** The server's memory from /proc: resident now and the peak (VmHWM), in MB. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const pct = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]! : NaN);

/** Runs `fn` over items with `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The folder holding the numbered scale folders of a preview (its layout may nest them). */
let server: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
try {
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${loadavg()}; server ${EXE}`);
  // The share: N small datasets (a note and a data file each) and a few volumes to preview.
  mkdirSync(state, { recursive: true });
  for (let i = 0; i < N; i++) {
    const d = path.join(root, `ds-${String(i).padStart(5, "0")}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, "notes.txt"), sentence(30));
    writeFileSync(path.join(d, "data.bin"), Buffer.alloc(4096, i % 251));
  }
  const S = Number(values.size);
  for (let v = 0; v < Number(values.volumes); v++) {
    mkdirSync(path.join(root, `volume-${v}`));
    writeMetaImage(path.join(root, `volume-${v}`), "vol", [S, S, S], (x, y, z) => 500 + ((x * (3 + v) + y * 5 + z * 7) % 2000));
  }
  writeFileSync(
    path.join(dir, "mata.toml"),
    [`root = ${JSON.stringify(root)}`, `state = ${JSON.stringify(state)}`, `listen = "127.0.0.1:0"`, "acls = false"].join("\n") + "\n",
  );
  const env = { ...process.env, MATA_LOG: "warn" };
  const add = Bun.spawnSync([EXE, "user", "add", "bench", "--admin", "--state", state], { stdin: new TextEncoder().encode("bench password 1\n"), env });
  if (add.exitCode !== 0) throw new Error(`user add: ${add.stderr.toString()}`);
  server = Bun.spawn([EXE, "serve", "--config", path.join(dir, "mata.toml")], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const url = await serveUrl(server);
  const basic = { Authorization: `Basic ${btoa("bench:bench password 1")}` };
  const made = await fetch(`${url}/api/v1/tokens`, { method: "POST", headers: { ...basic, "Content-Type": "application/json" }, body: '{"label":"load"}' });
  const token = ((await made.json()) as { secret: string }).secret;
  const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const api = async <T>(p: string, init: RequestInit = {}): Promise<T> => {
    const r = await fetch(url + p, { ...init, headers: auth });
    if (!r.ok) throw new Error(`${init.method ?? "GET"} ${p}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };

  const t0 = performance.now();
  let items: { id: number; path: string }[] = [];
  while (items.length < N + Number(values.volumes)) {
    await Bun.sleep(200);
    items = (await api<{ items: { id: number; path: string }[] }>(`/api/v1/datasets?limit=1000`)).items;
    for (let off = 1000; off < N + 10 && items.length === off; off += 1000)
      items.push(...(await api<{ items: { id: number; path: string }[] }>(`/api/v1/datasets?limit=1000&offset=${off}`)).items);
  }
  console.log(`${items.length} datasets listed after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const small = items.filter((d) => d.path.startsWith("ds-"));
  const volumes = items.filter((d) => d.path.startsWith("volume-"));
  const t1 = performance.now();
  await pool(small, 8, async (d) => {
    await api(`/api/v1/datasets/${d.id}`, { method: "PATCH", body: JSON.stringify({ title: sentence(4), description: sentence(20) }) });
    await api(`/api/v1/datasets/${d.id}/tags`, { method: "PUT", body: JSON.stringify({ tags: tagsFor(d.id) }) });
  });
  console.log(`titles, descriptions and 7 tags set on ${small.length} datasets in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  for (const v of volumes) {
    for (;;) {
      const p = await api<{ preview: { state: string } }>(`/api/v1/datasets/${v.id}/previews`);
      if (p.preview.state === "ready") break;
      if (p.preview.state === "failed") throw new Error(`preview of ${v.path} failed`);
      await Bun.sleep(250);
    }
  }
  const tiles: string[] = [];
  const previews = path.join(state, "previews");
  const keys = readdirSync(previews).filter((k) => !k.startsWith("."));
  for (const v of volumes) {
    const key = keys[volumes.indexOf(v) % keys.length]!;
    const tileDir = path.join(previews, key);
    for (const scale of (JSON.parse(readFileSync(path.join(tileDir, "info"), "utf8")) as { scales: ScaleInfo[] }).scales)
      for (const name of chunkNames(scale)) tiles.push(`/api/v1/datasets/${v.id}/previews/0/tiles/${scale.key}/${name}`);
  }
  console.log(`${volumes.length} previews ready after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${tiles.length} tiles`);
  // Wait for the search indexer to have folded in the last titles.
  const probe = (await api<{ title: string }>(`/api/v1/datasets/${small.at(-1)!.id}`)).title.split(" ")[0]!;
  while ((await api<{ total: number }>(`/api/v1/search?q=${encodeURIComponent(probe)}`)).total === 0) await Bun.sleep(200);

  const r2 = seededRandom(11);
  const some = <T>(n: number, make: () => T) => Array.from({ length: n }, make);
  const word = () => WORDS[Math.min(WORDS.length - 1, Math.floor(WORDS.length * r2() ** 3))]!;
  const plan: Omit<LoadPlan, "clients" | "seed"> = {
    url,
    token,
    warmupSeconds: Number(values.warmup),
    seconds: Number(values.seconds),
    routes: {
      "dataset list (JSON, 50 of N, sorted)": {
        weight: 15,
        paths: some(200, () => `/api/v1/datasets?limit=50&offset=${Math.floor(r2() * N)}`),
      },
      "dataset page (HTML)": { weight: 15, paths: small.slice(0, 500).map((d) => `/datasets/${d.id}`) },
      search: {
        weight: 20,
        paths: some(400, () => {
          const k = r2();
          const q =
            k < 0.5
              ? word()
              : k < 0.7
                ? `${word()} ${word()}`
                : k < 0.85
                  ? `${word().slice(0, 3)}*`
                  : `Species=${SPECIES[Math.floor(r2() ** 2 * SPECIES.length)]}`;
          return `/api/v1/search?q=${encodeURIComponent(q)}&limit=20`;
        }),
      },
      "tag suggestions": {
        weight: 20,
        paths: some(200, () =>
          r2() < 0.5
            ? `/api/v1/tags/suggest?prefix=${encodeURIComponent(pick(["Sp", "Mo", "Pr", "Sc", "Op", "Sa", "Vo", "Re"]).slice(0, 1 + Math.floor(r2() * 2)))}`
            : `/api/v1/tags/suggest?key=${pick(["Species", "Modality", "Operator"])}&prefix=${encodeURIComponent(pick(["s", "m", "r", "o", "c", "h", "l"]))}`,
        ),
      },
      tiles: { weight: 30, paths: tiles },
    },
  };
  const procs = Number(values.procs);
  const clients = Number(values.clients);
  console.log(
    `load: ${clients} clients in ${procs} processes, ${plan.warmupSeconds} s warm-up + ${plan.seconds} s measured; load average ${loadavg()}; server RSS ${memory(server.pid).rss.toFixed(0)} MB`,
  );
  const before = memory(server.pid);
  // Resets VmHWM to the current RSS (Linux, as the process's owner), so the peak read after is the load's alone.
  try {
    writeFileSync(`/proc/${server.pid}/clear_refs`, "5");
  } catch {
    console.log("(could not reset the peak RSS: the peak below includes the setup)");
  }
  const runners = Array.from({ length: procs }, (_, i) => {
    const file = path.join(dir, `plan-${i}.json`);
    writeFileSync(file, JSON.stringify({ ...plan, clients: Math.round(clients / procs), seed: i + 1 }));
    return Bun.spawn([process.execPath, path.join(import.meta.dir, "load.client.ts"), file], { stdout: "pipe", stderr: "inherit" });
  });
  let loadMax = 0;
  const sampler = setInterval(() => (loadMax = Math.max(loadMax, Number(loadavg().split(" ")[0]))), 1000);
  const results = (await Promise.all(runners.map(async (p) => JSON.parse(await new Response(p.stdout).text()) as LoadResult))).filter(Boolean);
  clearInterval(sampler);
  const after = memory(server.pid);
  const loadAfter = loadavg();

  // The server's own view (/metrics): mean time per request from routing to response headers, by route pattern, which
  // tells the work a request costs from the time it waited behind the others.
  const metrics = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
  const serverMean = (route: string) => {
    const sum = Number(new RegExp(`^mata_http_request_duration_seconds_sum\\{route="${route.replace(/[*]/g, "\\*")}"\\} (\\S+)$`, "m").exec(metrics)?.[1]);
    const count = Number(new RegExp(`^mata_http_request_duration_seconds_count\\{route="${route.replace(/[*]/g, "\\*")}"\\} (\\S+)$`, "m").exec(metrics)?.[1]);
    return (sum / count) * 1000;
  };
  const PATTERN: Record<string, string> = {
    "dataset list (JSON, 50 of N, sorted)": "/api/v1/datasets",
    "dataset page (HTML)": "/datasets/:id",
    search: "/api/v1/search",
    "tag suggestions": "/api/v1/tags/suggest",
    tiles: "/api/v1/datasets/:id/previews/*",
  };

  console.log(`\n| route | requests | errors | req/s | p50 ms | p95 ms | p99 ms | server mean ms |\n| --- | --- | --- | --- | --- | --- | --- | --- |`);
  let all: number[] = [];
  let errors = 0;
  for (const name of Object.keys(plan.routes)) {
    const lat = results.flatMap((r) => r.routes[name]!.latencies).sort((a, b) => a - b);
    const err = results.reduce((n, r) => n + r.routes[name]!.errors, 0);
    const statuses = results.map((r) => r.routes[name]!.statuses);
    const bad = Object.entries(Object.assign({}, ...statuses) as Record<string, number>).filter(([s]) => !s.startsWith("2"));
    all = all.concat(lat);
    errors += err;
    console.log(
      `| ${name} | ${lat.length.toLocaleString("en-US")} | ${err}${bad.length ? ` (${bad.map(([s]) => s).join(", ")})` : ""} | ${(lat.length / plan.seconds).toFixed(0)} | ${pct(lat, 0.5).toFixed(2)} | ${pct(lat, 0.95).toFixed(2)} | ${pct(lat, 0.99).toFixed(2)} | ${serverMean(PATTERN[name]!).toFixed(3)} |`,
    );
  }
  all.sort((a, b) => a - b);
  console.log(
    `| all | ${all.length.toLocaleString("en-US")} | ${errors} | ${(all.length / plan.seconds).toFixed(0)} | ${pct(all, 0.5).toFixed(2)} | ${pct(all, 0.95).toFixed(2)} | ${pct(all, 0.99).toFixed(2)} | |`,
  );
  console.log(
    `\nserver RSS: ${before.rss.toFixed(0)} MB before the load (peak ${before.hwm.toFixed(0)} MB during the setup: scan, metadata writes, preview jobs), ${after.rss.toFixed(0)} MB after; peak during the load (VmHWM) ${after.hwm.toFixed(0)} MB`,
  );
  console.log(`load average: ${loadAfter} after (1-min peak during the run ${loadMax.toFixed(2)}), ${cpus().length} cores`);

  // Cross-check with the server's own counters (warm-up and setup requests included there).
  const counted = [...metrics.matchAll(/^mata_http_requests_total\{route="([^"]+)",method="GET",status="(\d+)"\} (\d+)$/gm)]
    .filter(([, route]) => ["/api/v1/datasets", "/datasets/:id", "/api/v1/search", "/api/v1/tags/suggest", "/api/v1/datasets/:id/previews/*"].includes(route!))
    .reduce((n, m) => n + Number(m[3]), 0);
  console.log(`the server's /metrics counted ${counted.toLocaleString("en-US")} GET requests on these routes (with warm-up and setup)`);
} finally {
  if (server && server.exitCode === null) {
    const t = performance.now();
    server.kill("SIGTERM");
    const code = await server.exited;
    console.log(`server stopped by SIGTERM in ${(performance.now() - t).toFixed(0)} ms, exit code ${code}`);
  }
  rmSync(dir, { recursive: true, force: true });
}
