// What metadata extraction adds to the time from "the copy settled" to "the dataset is visible with its tags".
// Two servers in one process, each with its own root and state: "off" (no rules) and "on" (the extract rule alone,
// previews left out of both so only extraction differs). Dataset after dataset, alternating between the two, a
// ready-made scan folder is renamed into the root (the copy, done and settled), then the clock starts: the scope is
// reconciled as the watcher's settled batch would be, and the clock stops when the dataset is visible (off) or
// visible with its Scan/Image tags (on: the rule's job has run, polled every millisecond). Fixity is off in both:
// with a settle time of 0 its checksum jobs of earlier datasets would hold both job slots, which a server's
// settle delay (fixity waits twice as long as extraction) prevents.
// Scans: Nikon .xtekct + 8 MiB .vol, a 300-slice DICOM series (pydicom CT_small), a SkyScan _rec.log with 200 BMP
// slices, NIfTI (nibabel), an ImageJ TIFF stack (skimage), an ITK MetaImage, each over real or documented layouts.
//
//   bun bench/extract.ts [--datasets 36] [--out DIR]
import { copyFileSync, cpSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig, type FileRule } from "../src/config.ts";
import { startJobs } from "../src/jobs/index.ts";
import { setLogLevel } from "../src/log.ts";
import { createContext } from "../src/services.ts";
import { reconcileScopes } from "../src/sync/reconcile.ts";
import { readTags } from "../src/tags/tags.service.ts";
import { writeBmp } from "../test/readers/fixtures.ts";
import { ITK, NIBABEL, PYDICOM, SKIMAGE, skyScanLog, writeNikon } from "../test/extract/fixtures.ts";

const { values } = parseArgs({ options: { datasets: { type: "string", default: "36" }, out: { type: "string" } } });
const N = Number(values.datasets);
const work = values.out ?? path.join(tmpdir(), `mata-extract-bench-${process.pid}`);
setLogLevel("warn");

/** The ready-made scan folders, one per kind, copied for each dataset. */
function makeKinds(dir: string): Record<string, string> {
  const kinds: Record<string, (d: string) => void> = {
    nikon: (d) => writeNikon(d, "scan", { w: 128, h: 128, d: 256 }),
    dicom300: (d) => {
      for (let i = 0; i < 300; i++) copyFileSync(path.join(PYDICOM, "CT_small.dcm"), path.join(d, `IM${String(i).padStart(4, "0")}.dcm`));
    },
    skyscan: (d) => {
      for (let z = 0; z < 200; z++) writeBmp(path.join(d, `scan_rec${String(z).padStart(8, "0")}.bmp`), 256, 256, z, 8);
      Bun.write(path.join(d, "scan_rec.log"), skyScanLog({ pixelUm: 12.5, width: 256, height: 256 }));
    },
    nifti: (d) => copyFileSync(path.join(NIBABEL, "example4d.nii.gz"), path.join(d, "example4d.nii.gz")),
    imagej: (d) => copyFileSync(path.join(SKIMAGE, "_blobs_3d_fiji_skeleton.tif"), path.join(d, "blobs.tif")),
    metaimage: (d) => {
      for (const f of ["BrainProtonDensity3Slices.mha", "BrainProtonDensity3Slices.raw"]) copyFileSync(path.join(ITK, f), path.join(d, f));
    },
  };
  const out: Record<string, string> = {};
  for (const [name, make] of Object.entries(kinds)) {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    make(d);
    out[name] = d;
  }
  return out;
}

async function server(name: string, rules: FileRule[]) {
  const root = path.join(work, name, "root");
  const state = path.join(work, name, "state");
  mkdirSync(root, { recursive: true });
  mkdirSync(state, { recursive: true });
  const ctx = createContext({ ...loadConfig({ root, state, listen: "127.0.0.1:0" }, {}), acls: false, rules, jobConcurrency: 2, fixityEveryMs: null });
  const stop = await startJobs(ctx, { settleMs: 0 });
  return { ctx, root, stop };
}

const quantile = (xs: number[], q: number) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]) => quantile(xs, 0.5);
const ms = (x: number) => `${x.toFixed(1)} ms`;

rmSync(work, { recursive: true, force: true });
const kinds = makeKinds(path.join(work, "kinds"));
const off = await server("off", []);
const on = await server("on", [{ action: "extract", timeoutSeconds: 600 }]);
const times: Record<"off" | "on", Record<string, number[]>> = { off: {}, on: {} };

/** One dataset: renamed in (settled), then timed until visible (with tags when extraction is on). */
async function one(s: typeof off, mode: "off" | "on", kind: string, i: number): Promise<void> {
  const name = `${kind}-${i}`;
  const staged = path.join(work, mode, `staged-${name}`);
  cpSync(kinds[kind]!, staged, { recursive: true });
  renameSync(staged, path.join(s.root, name));
  const t0 = performance.now();
  await reconcileScopes(s.ctx, [name]);
  const id = s.ctx.db.query<{ id: number }, [string]>("SELECT id FROM datasets WHERE path = ? AND state = 'present'").get(name)?.id;
  if (id === undefined) throw new Error(`${name} did not appear`);
  if (mode === "on") {
    for (;;) {
      const tags = readTags(s.ctx, id).tags;
      if (tags.some((t) => t.key === "Image")) break;
      if (performance.now() - t0 > 60_000) throw new Error(`${name}: no tags after 60 s`);
      await Bun.sleep(1);
    }
  }
  (times[mode][kind] ??= []).push(performance.now() - t0);
}

const kindNames = Object.keys(kinds);
for (let i = 0; i < N; i++) {
  const kind = kindNames[i % kindNames.length]!;
  // Alternating, so drift of the machine (other work on its 2 cores) falls on both alike.
  if (i % 2 === 0) {
    await one(off, "off", kind, i);
    await one(on, "on", kind, i);
  } else {
    await one(on, "on", kind, i);
    await one(off, "off", kind, i);
  }
}
await off.stop();
await on.stop();

console.log(`settle -> visible (off) and settle -> visible with Scan/Image tags (on), ${N} datasets, sequential`);
console.log("kind        n   off median   on median   added (median)");
const added: number[] = [];
for (const k of kindNames) {
  const a = times.off[k] ?? [];
  const b = times.on[k] ?? [];
  const d = median(b) - median(a);
  added.push(d);
  console.log(`${k.padEnd(10)} ${String(b.length).padStart(2)}  ${ms(median(a)).padStart(11)} ${ms(median(b)).padStart(11)} ${ms(d).padStart(14)}`);
}
const allOff = Object.values(times.off).flat();
const allOn = Object.values(times.on).flat();
console.log(
  `all         ${String(allOn.length).padStart(2)}  ${ms(median(allOff)).padStart(11)} ${ms(median(allOn)).padStart(11)} ${ms(median(allOn) - median(allOff)).padStart(14)}` +
    `   (p95 off ${ms(quantile(allOff, 0.95))}, on ${ms(quantile(allOn, 0.95))})`,
);
const worst = Math.max(...added);
console.log(`worst kind adds ${ms(worst)} per dataset: ${worst <= 50 ? "within" : "OVER"} the 50 ms target`);
off.ctx.db.close();
on.ctx.db.close();
if (!values.out) rmSync(work, { recursive: true, force: true });
