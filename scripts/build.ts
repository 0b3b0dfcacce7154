#!/usr/bin/env bun
// `npm run build`: compiles src/main.ts, every src/**/*.worker.ts and sharp's native files into one executable.
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { resolveSharpNativeFiles, sharpEmbedPlugin } from "./sharp-embed.plugin.ts";
import { findWorkerEntrypoints, workerEntryPlugin } from "./worker-entry.plugin.ts";
import { VERSION } from "../src/version.ts";

const PROJECT = path.resolve(import.meta.dir, "..");
const SRC = path.join(PROJECT, "src");

/** What a build produced, for the build script's summary line and for tests. */
export interface BuildResult {
  outfile: string;
  bytes: number;
  workers: string[];
  sharpKey: string;
  ms: number;
}

/** Builds the executable at `outfile` (written under a temp name and renamed, so a failed build leaves no half file). */
export async function buildExecutable(outfile: string): Promise<BuildResult> {
  const t0 = performance.now();
  const out = path.resolve(outfile);
  mkdirSync(path.dirname(out), { recursive: true });
  const workers = findWorkerEntrypoints(SRC);
  const sharp = resolveSharpNativeFiles(PROJECT);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    const result = await Bun.build({
      entrypoints: [path.join(SRC, "main.ts"), ...workers],
      // Entry paths inside the executable are relative to src/: /$bunfs/root/main.ts, /$bunfs/root/auth/pam.worker.ts ...
      root: SRC,
      compile: { outfile: tmp },
      target: "bun",
      minify: { whitespace: true, syntax: true, identifiers: false },
      sourcemap: "none",
      plugins: [sharpEmbedPlugin(sharp, path.join(import.meta.dir, "sharp-embedded.runtime.ts")), workerEntryPlugin(SRC, workers)],
    });
    if (!result.success) throw new AggregateError(result.logs, `build failed:\n${result.logs.map(String).join("\n")}`);
    smokeTest(tmp);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
  return {
    outfile: out,
    bytes: statSync(out).size,
    workers: workers.map((w) => path.relative(PROJECT, w)),
    sharpKey: sharp.key,
    ms: Math.round(performance.now() - t0),
  };
}

/** Starts the new executable once (every module loads, sharp included) so a broken build never replaces a good one. */
function smokeTest(exe: string): void {
  const cache = mkdtempSync(path.join(tmpdir(), "mata-build-smoke-"));
  try {
    const r = Bun.spawnSync([exe, "--version"], { env: { ...process.env, MATA_CACHE_DIR: cache }, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    if (r.exitCode !== 0 || r.stdout.toString().trim() !== VERSION) {
      throw new Error(`the built executable does not start (exit ${r.exitCode}): ${r.stderr.toString().trim() || r.stdout.toString().trim()}`);
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { outfile: { type: "string", default: path.join(PROJECT, "dist", "mata") } },
    strict: true,
  });
  try {
    const r = await buildExecutable(values.outfile!);
    console.log(
      `built ${path.relative(process.cwd(), r.outfile) || r.outfile}: ${(r.bytes / 1048576).toFixed(1)} MB in ${(r.ms / 1000).toFixed(1)} s; ${r.sharpKey}; workers: ${r.workers.join(", ") || "none"}`,
    );
  } catch (e) {
    console.error(`build: ${(e as Error).message}`);
    process.exit(1);
  }
}
