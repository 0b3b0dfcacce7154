// Full reconcile of 100,000 files in 1,000 datasets against `find ROOT -printf '%s %T@ %i\n'` on the same tree,
// warm and cold cache, with peak RSS; and one changed dataset among 1,000.
// Usage: bun bench/sync-reconcile.ts [WORKDIR]   (default /tmp/mata-bench-sync; the tree is kept for reuse)
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.ts";
import { createContext } from "../src/services.ts";
import { reconcileAll, reconcileScopes } from "../src/sync/reconcile.ts";
import { dropCaches, ensureTree, median } from "./sync-tree.ts";

const [mode, ...rest] = process.argv.slice(2);

if (mode === "--child") {
  // One measured run in a fresh process: "full" (one full reconcile) or "one" (10 single-dataset reconciles).
  const [what, root, state] = rest as [string, string, string];
  const ctx = createContext(loadConfig({ root, state }, {}));
  const out: Record<string, unknown> = {};
  if (what === "full") {
    const s = await reconcileAll(ctx);
    out.ms = s.ms;
    out.summary = { datasets: s.datasets, files: s.files, errors: s.errors.length };
  } else {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const ds = `ds${String(100 + i * 37).padStart(4, "0")}`;
      writeFileSync(path.join(root, ds, "raw", "f020.dat"), `changed ${Date.now()} ${i}\n`);
      const t = performance.now();
      const s = await reconcileScopes(ctx, [ds]);
      times.push(performance.now() - t);
      if (s.files.modified !== 1) throw new Error(`expected one modified file, got ${JSON.stringify(s.files)}`);
    }
    out.ms = median(times);
    out.all = times.map((t) => Math.round(t * 10) / 10);
  }
  ctx.db.close();
  out.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify(out));
  process.exit(0);
}

const work = mode ?? "/tmp/mata-bench-sync";
const root = path.join(work, "root");
const state = path.join(work, "state-reconcile");
mkdirSync(root, { recursive: true });
let t = performance.now();
ensureTree(root);
console.log(`tree ready (${Math.round(performance.now() - t)} ms): 1,000 datasets, 100,000 files`);

function wall(cmd: string[]): { ms: number; out: string } {
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
  return { ms, out: r.stdout.toString() };
}
const find = () => wall(["bash", "-c", `find '${root}' -printf '%s %T@ %i\\n' > /dev/null`]).ms;
const ours = (what: string) => {
  const r = wall([process.execPath, import.meta.path, "--child", what, root, state]);
  return { wallMs: r.ms, ...(JSON.parse(r.out) as { ms: number; maxRssMB: number; summary?: unknown; all?: number[] }) };
};

rmSync(state, { recursive: true, force: true });
find();
const first = ours("full");
console.log(
  `first scan (empty database: 1,000 datasets and 100,000 files inserted, 2,000 sidecar files written): ${first.ms} ms in process, ${Math.round(first.wallMs)} ms wall, peak RSS ${first.maxRssMB} MB`,
);

const findWarm: number[] = [];
const oursWarm: { ms: number; wallMs: number; maxRssMB: number }[] = [];
for (let i = 0; i < 5; i++) {
  findWarm.push(find());
  oursWarm.push(ours("full"));
}
const fw = median(findWarm);
const ow = median(oursWarm.map((o) => o.ms));
const oww = median(oursWarm.map((o) => o.wallMs));
const rss = Math.max(...oursWarm.map((o) => o.maxRssMB));
console.log(
  `warm, median of 5: find ${Math.round(fw)} ms | mata full reconcile ${Math.round(ow)} ms in process (${(ow / fw).toFixed(2)}x), ${Math.round(oww)} ms wall incl. process start and DB open (${(oww / fw).toFixed(2)}x) | peak RSS ${rss} MB`,
);

if (dropCaches()) {
  const findCold: number[] = [];
  const oursCold: { ms: number; wallMs: number; maxRssMB: number }[] = [];
  for (let i = 0; i < 3; i++) {
    dropCaches();
    findCold.push(find());
    dropCaches();
    oursCold.push(ours("full"));
  }
  const fc = median(findCold);
  const oc = median(oursCold.map((o) => o.ms));
  const ocw = median(oursCold.map((o) => o.wallMs));
  console.log(
    `cold (caches dropped before each run), median of 3: find ${Math.round(fc)} ms | mata ${Math.round(oc)} ms in process (${(oc / fc).toFixed(2)}x), ${Math.round(ocw)} ms wall (${(ocw / fc).toFixed(2)}x) | peak RSS ${Math.max(...oursCold.map((o) => o.maxRssMB))} MB`,
  );
} else console.log("cold: this machine does not allow dropping the page cache (/proc/sys/vm/drop_caches is not writable)");

const one = ours("one");
console.log(`one changed dataset among 1,000 (reconcileScopes on its folder), median of 10: ${one.ms.toFixed(1)} ms (all: ${one.all!.join(", ")})`);
t = performance.now();
