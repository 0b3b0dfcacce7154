// Cost of the one-file executable: build time and size, start time with a cold sharp cache (first start
// unpacks the addon and libvips) and a warm one, against running the same CLI from source with bun.
// Run: node_modules/.bin/bun bench/build-startup.ts [runs]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildExecutable } from "../scripts/build.ts";

const runs = Number(process.argv[2] ?? 7);
const dir = mkdtempSync(path.join(tmpdir(), "mata-bench-build-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(cmd: string[], env: Record<string, string>): number {
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  return ms;
}

try {
  const built = await buildExecutable(path.join(dir, "mata"));
  // `doctor --help` loads every module (sharp included) and exits before doing any work.
  const args = ["doctor", "--help"];
  const cold: number[] = [];
  const warm: number[] = [];
  const source: number[] = [];
  const warmCache = path.join(dir, "warm");
  time([built.outfile, ...args], { MATA_CACHE_DIR: warmCache });
  for (let i = 0; i < runs; i++) {
    cold.push(time([built.outfile, ...args], { MATA_CACHE_DIR: path.join(dir, `cold-${i}`) }));
    warm.push(time([built.outfile, ...args], { MATA_CACHE_DIR: warmCache }));
    source.push(time([process.execPath, path.resolve(import.meta.dir, "../src/main.ts"), ...args], {}));
  }
  const f = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`build: ${(built.ms / 1000).toFixed(1)} s, ${(built.bytes / 1048576).toFixed(1)} MB (${built.sharpKey})`);
  console.log(
    `start, median of ${runs}: executable cold cache ${f(median(cold))}, warm ${f(median(warm))}; from source (bun src/main.ts) ${f(median(source))}`,
  );
  console.log(`ratio executable warm / source: ${(median(warm) / median(source)).toFixed(2)}; first-start unpacking costs ${f(median(cold) - median(warm))}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
