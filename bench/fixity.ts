// Fixity as users run it, against the reference tools on the same files in the same run:
//  1. throughput: `mata verify` (the executable, as a process: it reads every file through its low-priority hasher
//     child) against `sha256sum` (and `openssl dgst -sha256` where present) over the same files, each from a cold
//     page cache (dropped before every run; root) and from a warm one;
//  2. the server while it verifies: p50/p95 of dataset pages and the list on a quiet `mata serve`, then while every
//     dataset's verification runs (queued through the API, cache dropped first so the hashers do real IO).
// The share: large files and stacks of many 2 MiB files, in several datasets (named .bin: random bytes are no image,
// so no preview build runs alongside).
//
//   bun bench/fixity.ts [--gib 4] [--exe dist/mata] [--requests 400]
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    gib: { type: "string", default: "4" },
    exe: { type: "string", default: path.join(import.meta.dir, "../dist/mata") },
    requests: { type: "string", default: "400" },
    keep: { type: "boolean", default: false },
  },
});
const EXE = path.resolve(values.exe!);
const BYTES = Number(values.gib) * 2 ** 30;
const REQUESTS = Number(values.requests);
const dir = path.join(tmpdir(), `mata-fixity-bench-${process.pid}`);
const root = path.join(dir, "root");
const state = path.join(dir, "state");
const env = { ...process.env, MATA_LOG: "warn", MATA_ROOT: root, MATA_STATE: state };
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const MiB = 2 ** 20;

/** Half the bytes in 256 MiB volumes, half in stacks of 2 MiB slices, over 8 datasets. */
function makeShare(): string[] {
  const chunk = Buffer.alloc(8 * MiB);
  const files: string[] = [];
  const write = (file: string, size: number) => {
    const fd = openSync(file, "w");
    for (let left = size; left > 0; left -= chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(left, chunk.length));
    closeSync(fd);
    files.push(file);
  };
  const volumes = Math.max(1, Math.round(BYTES / 2 / (256 * MiB)));
  const slices = Math.max(1, Math.round(BYTES / 2 / (2 * MiB)));
  for (let i = 0; i < volumes; i++) {
    const ds = path.join(root, `volume-${i % 4}`);
    mkdirSync(ds, { recursive: true });
    write(path.join(ds, `scan-${i}.bin`), 256 * MiB);
  }
  for (let i = 0; i < slices; i++) {
    const ds = path.join(root, `stack-${i % 4}`, "slices");
    mkdirSync(ds, { recursive: true });
    write(path.join(ds, `slice-${String(i).padStart(5, "0")}.bin`), 2 * MiB);
  }
  return files;
}

function dropCaches(): void {
  Bun.spawnSync(["sync"]);
  writeFileSync("/proc/sys/vm/drop_caches", "3");
}

async function timed(argv: string[], stdin?: string): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn(argv, { env, stdin: stdin ? new TextEncoder().encode(stdin) : "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.slice(0, 3).join(" ")} exited ${code}: ${err || out.slice(0, 500)}`);
  return (performance.now() - t0) / 1000;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function pageLatencies(url: string, cookie: string, ids: number[], until: () => boolean, max: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; times.length < max && !until(); i++) {
    const target = i % 5 === 4 ? "/datasets" : `/datasets/${ids[i % ids.length]}`;
    const t0 = performance.now();
    const r = await fetch(url + target, { headers: { Cookie: cookie } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`GET ${target} answered ${r.status}`);
    times.push(performance.now() - t0);
    await Bun.sleep(10);
  }
  return times;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root: each measurement starts from a dropped page cache");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${loadavg()}; ${EXE}`);
  const t0 = performance.now();
  const files = makeShare();
  const total = files.length;
  console.log(`share: ${total} files, ${(BYTES / 2 ** 30).toFixed(1)} GiB in 8 datasets (made in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  await timed([EXE, "scan"]);
  // The first pass records checksums; the timed ones compare, as the weekly verification does.
  const first = await timed([EXE, "verify"]);
  console.log(`first checksums (mata verify, warm): ${first.toFixed(1)} s`);

  const listFile = path.join(dir, "files.txt");
  writeFileSync(listFile, files.join("\n") + "\n");
  const tools: [string, string[]][] = [
    ["sha256sum", ["bash", "-c", `xargs -d '\\n' sha256sum < ${listFile} > /dev/null`]],
    ["mata verify", [EXE, "verify"]],
  ];
  if (Bun.which("openssl")) tools.push(["openssl dgst -sha256", ["bash", "-c", `xargs -d '\\n' openssl dgst -sha256 < ${listFile} > /dev/null`]]);
  const results: Record<string, { cold: number; warm: number }> = {};
  for (const [name, argv] of tools) {
    dropCaches();
    const cold = await timed(argv);
    await timed(argv); // fills the cache
    const warm = await timed(argv);
    results[name] = { cold, warm };
  }
  const gb = BYTES / 1e9;
  console.log("\ntool                 cold s   cold MB/s   warm s   warm MB/s");
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(20)} ${r.cold.toFixed(1).padStart(6)} ${((gb * 1000) / r.cold).toFixed(0).padStart(10)} ${r.warm.toFixed(1).padStart(8)} ${((gb * 1000) / r.warm).toFixed(0).padStart(10)}`,
    );
  }
  const ref = results["sha256sum"]!;
  const ours = results["mata verify"]!;
  console.log(`throughput mata/sha256sum: cold ${(ref.cold / ours.cold).toFixed(2)}x, warm ${(ref.warm / ours.warm).toFixed(2)}x (target >= 0.9x)`);

  // The server: pages while idle, then while every dataset is verified.
  const add = Bun.spawnSync([EXE, "user", "add", "bench", "--admin", "--state", state], { stdin: new TextEncoder().encode("bench password 1\n"), env });
  if (add.exitCode !== 0) throw new Error(`user add: ${add.stderr.toString()}`);
  const server = Bun.spawn([EXE, "serve", "--listen", "127.0.0.1:0"], { env, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  try {
    const reader = server.stdout.getReader();
    let out = "";
    let url = "";
    while (!url) {
      const r = await reader.read();
      if (r.done) throw new Error(`serve exited: ${out}`);
      out += new TextDecoder().decode(r.value);
      url = /serving .* at (http:\/\/\S+)/.exec(out)?.[1] ?? "";
    }
    const login = await fetch(`${url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "bench", password: "bench password 1", next: "/" }).toString(),
    });
    const cookie = login.headers
      .getSetCookie()
      .find((c) => c.startsWith("mata_session="))!
      .split(";")[0]!;
    const list = (await (await fetch(`${url}/api/v1/datasets?limit=100`, { headers: { Cookie: cookie } })).json()) as { items: { id: number }[] };
    const ids = list.items.map((d) => d.id);
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(await (await fetch(`${url}/datasets`, { headers: { Cookie: cookie } })).text())![1]!;
    await pageLatencies(url, cookie, ids, () => false, 50); // warm-up
    const idle = await pageLatencies(url, cookie, ids, () => false, REQUESTS);
    const idleLoad = loadavg();

    dropCaches();
    for (const id of ids) {
      const r = await fetch(`${url}/api/v1/datasets/${id}/fixity/verify`, { method: "POST", headers: { Cookie: cookie, "X-CSRF-Token": csrf } });
      if (r.status !== 202) throw new Error(`verify ${id}: ${r.status} ${await r.text()}`);
    }
    let busyDone = false;
    const started = performance.now();
    const watch = (async () => {
      for (;;) {
        const jobs = (await (await fetch(`${url}/api/v1/jobs?kind=fixity&limit=100`, { headers: { Cookie: cookie } })).json()) as {
          items: { state: string }[];
        };
        if (jobs.items.every((j) => j.state !== "queued" && j.state !== "running")) break;
        await Bun.sleep(250);
      }
      busyDone = true;
    })();
    const busy = await pageLatencies(url, cookie, ids, () => busyDone, 100_000);
    await watch;
    const busySeconds = (performance.now() - started) / 1000;
    const busyLoad = loadavg();
    const line = (name: string, xs: number[], load: string) =>
      console.log(
        `${name.padEnd(22)} ${String(xs.length).padStart(6)} ${quantile(xs, 0.5).toFixed(1).padStart(8)} ${quantile(xs, 0.95).toFixed(1).padStart(8)} ${quantile(xs, 0.99).toFixed(1).padStart(8)}   ${load}`,
      );
    console.log(`\npages (dataset pages and the list, one client)  requests   p50 ms   p95 ms   p99 ms   load average`);
    line("idle", idle, idleLoad);
    line(`during verification`, busy, busyLoad);
    console.log(
      `verification of ${total} files by the server took ${busySeconds.toFixed(1)} s (${((gb * 1000) / busySeconds).toFixed(0)} MB/s, cold cache); page p95 busy/idle: ${(quantile(busy, 0.95) / quantile(idle, 0.95)).toFixed(2)}x (target <= 1.5x)`,
    );
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
