// `mata serve` watching 100,000 files in 1,000 datasets: idle RSS, and the latency from a 1 GB file finishing
// its copy to `GET /api/v1/datasets/{id}/files` listing it with its final size (median of 10).
// Usage: bun bench/sync-watch.ts [WORKDIR]   (default /tmp/mata-bench-sync, shared with sync-reconcile.ts)
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.ts";
import { createContext } from "../src/services.ts";
import { createToken } from "../src/auth/token.service.ts";
import { ensureTree, median } from "./sync-tree.ts";

const work = process.argv[2] ?? "/tmp/mata-bench-sync";
const root = path.join(work, "root");
const state = path.join(work, "state-watch");
const big = path.join(work, "big-1g.bin");
const port = 18000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
const repo = path.join(import.meta.dir, "..");
const env = { ...process.env, MATA_LOG: "warn", MATA_ACLS: "false" };

ensureTree(root);
if (!existsSync(big)) Bun.spawnSync(["bash", "-c", `head -c 1073741824 /dev/urandom > '${big}'`]);
rmSync(state, { recursive: true, force: true });
for (let i = 0; i < 10; i++) rmSync(path.join(root, "ds0001", `big-${i}.bin`), { force: true });

const flags = ["--root", root, "--state", state];
const add = Bun.spawnSync([process.execPath, "src/main.ts", "user", "add", "bench", "--admin", "--state", state], {
  cwd: repo,
  stdin: Buffer.from("bench-password-1234\n"),
  env,
  stderr: "pipe",
});
if (add.exitCode !== 0) throw new Error(`user add failed: ${add.stderr.toString()}`);
const tctx = createContext(loadConfig({ root, state }, {}));
const token = createToken(tctx, "bench", "benchmark").secret;
tctx.db.close();
const auth = { Authorization: `Bearer ${token}` };

const t0 = performance.now();
const server = Bun.spawn([process.execPath, "src/main.ts", "serve", ...flags, "--listen", `127.0.0.1:${port}`], {
  cwd: repo,
  env,
  stdout: "ignore",
  stderr: "inherit",
});
try {
  const db = new Database(path.join(state, "mata.db"), { readonly: true });
  const count = () => {
    try {
      return db.query<{ n: number }, []>("SELECT count(*) AS n FROM files").get()!.n;
    } catch {
      return 0;
    }
  };
  while (count() < 100_000) await Bun.sleep(100);
  console.log(`serve: watching and first full reconcile of 100,000 files done ${Math.round(performance.now() - t0)} ms after spawn`);
  await Bun.sleep(10_000);
  const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1]);
  console.log(`idle RSS after 10 s: ${Math.round(kb("VmRSS") / 1024)} MB (peak ${Math.round(kb("VmHWM") / 1024)} MB), the whole server (web, jobs, watcher)`);

  const id = db.query<{ id: number }, []>("SELECT id FROM datasets WHERE path = 'ds0001'").get()!.id;
  const size = 1073741824;
  const lat: number[] = [];
  const cps: number[] = [];
  for (let i = 0; i < 10; i++) {
    const name = `big-${i}.bin`;
    const c0 = performance.now();
    const cp = Bun.spawnSync(["cp", big, path.join(root, "ds0001", name)]);
    if (cp.exitCode !== 0) throw new Error("cp failed");
    const done = performance.now();
    cps.push(done - c0);
    for (;;) {
      const res = await fetch(`${base}/api/v1/datasets/${id}/files?limit=1000`, { headers: auth });
      if (!res.ok) throw new Error(`files: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { items: { path: string; size: number }[] };
      if (body.items.some((f) => f.path === name && f.size === size)) break;
      await Bun.sleep(10);
    }
    lat.push(performance.now() - done);
    rmSync(path.join(root, "ds0001", name));
    await Bun.sleep(1500);
  }
  console.log(
    `1 GB copy (cp took median ${Math.round(median(cps))} ms): listed with its final size ${Math.round(median(lat))} ms after cp exited (median of 10; all: ${lat.map(Math.round).join(", ")}); debounce 500 ms, stable 1000 ms (defaults)`,
  );
  db.close();
} finally {
  server.kill("SIGTERM");
  await server.exited;
}
