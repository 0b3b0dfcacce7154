// OME-Zarr export of a large volume against one plain read of the same volume, in the same run:
//  1. plain read: every slice through the volume reader (what any tool reading the volume must at least do);
//  2. export: the export child as the job runs it (reader, 2x-mean levels, 64^3 gzip chunks written to a temp folder
//     and renamed), its wall time and peak resident memory (VmHWM of the child).
// The volume: a uint16 MetaImage (2048 x 2048 x 400 by default, 3.2 GB) holding a CT-like phantom: a noisy cylinder
// of two materials in air, so the chunks compress as a real scan's do (random bytes would not compress at all).
// Both runs read from the page cache (a first read warms it), so the figure compares CPU work, not the disk.
//
//   bun bench/zarr-export.ts [--size 2048] [--depth 400] [--noise 512] [--keep]
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { exportInChild } from "../src/export/export.process.ts";
import { registerShareRoot } from "../src/platform/share-root.ts";
import { detectVolumes } from "../src/preview/readers/index.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "2048" },
    depth: { type: "string", default: "400" },
    noise: { type: "string", default: "512" },
    keep: { type: "boolean", default: false },
  },
});
const N = Number(values.size);
const D = Number(values.depth);
/** Peak-to-peak noise in stored units (a power of two): 512 makes the low byte random, so gzip saves little. */
const NOISE = Number(values.noise);
const dir = path.join(tmpdir(), `mata-zarr-bench-${process.pid}`);
const root = path.join(dir, "root");
const ds = path.join(root, "ct");
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const MB = 1e6;

/** One slice of the phantom: air (~1000), a cylinder of ~12000 with a core of ~30000, and +-NOISE/2 of noise. */
function slice(z: number, out: Uint16Array): void {
  let seed = (z * 2654435761) >>> 0;
  const c = N / 2;
  const r2 = (N * 0.42) ** 2;
  const core2 = (N * 0.15 * (1 + 0.3 * Math.sin(z / 40))) ** 2;
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      const d2 = (x - c) ** 2 + (y - c) ** 2;
      const base = d2 < core2 ? 30000 : d2 < r2 ? 12000 : 1000;
      out[y * N + x] = base + ((seed >>> 16) % NOISE) - NOISE / 2;
    }
  }
}

function makeVolume(): void {
  mkdirSync(ds, { recursive: true });
  writeFileSync(
    path.join(ds, "ct.mhd"),
    `ObjectType = Image\nNDims = 3\nDimSize = ${N} ${N} ${D}\nElementType = MET_USHORT\nElementSpacing = 0.012 0.012 0.012\nElementDataFile = ct.raw\n`,
  );
  const fd = openSync(path.join(ds, "ct.raw"), "w");
  const buf = new Uint16Array(N * N);
  for (let z = 0; z < D; z++) {
    slice(z, buf);
    writeSync(fd, new Uint8Array(buf.buffer));
  }
  closeSync(fd);
}

/** Reads every slice through the reader, touching each (a sum), and returns the seconds it took. */
async function plainRead(): Promise<number> {
  const t = performance.now();
  const [source] = await detectVolumes(ds, ["ct.mhd", "ct.raw"]);
  let sum = 0;
  for (let z = 0; z < source!.depth; z++) {
    const s = await source!.readSlice(z);
    sum += s[z % s.length]!;
  }
  await source!.close();
  if (sum < 0) console.log(sum);
  return (performance.now() - t) / 1000;
}

registerShareRoot(root);
console.log(`volume ${N} x ${N} x ${D} uint16, noise ${NOISE} (${((N * N * D * 2) / MB).toFixed(0)} MB), load average before: ${loadavg()}`);
let t = performance.now();
makeVolume();
console.log(`written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
await plainRead(); // warms the page cache for both runs
const read = await plainRead();
console.log(`plain read: ${read.toFixed(2)} s (${((N * N * D * 2) / MB / read).toFixed(0)} MB/s); load average ${loadavg()}`);
t = performance.now();
const done = await exportInChild(
  { shareRoot: root, datasetPath: ds, file: "ct.mhd", files: ["ct.mhd", "ct.raw"], name: "ct.ome.zarr", tmpName: ".mata-tmp-ct.ome.zarr-bench" },
  new AbortController().signal,
  () => {},
);
const exported = (performance.now() - t) / 1000;
const readAfter = await plainRead();
console.log(
  `export: ${exported.toFixed(2)} s, ${done.levels} levels, ${(done.bytes / MB).toFixed(0)} MB written (${((100 * done.bytes) / (N * N * D * 2)).toFixed(0)}% of the volume), child peak RSS ${(done.maxRss / MB).toFixed(0)} MB; load average ${loadavg()}`,
);
console.log(`plain read again: ${readAfter.toFixed(2)} s`);
console.log(`export / plain read: ${(exported / Math.min(read, readAfter)).toFixed(2)}x (target <= 2x); peak RSS target <= 1000 MB`);
if (!values.keep) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${dir}`);
