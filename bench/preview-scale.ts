// Previews at instrument scale (issue 11): what the user runs, a real `mata serve` process with the default
// configuration, idle, then a finished uint16 MetaImage volume folder moved (renamed) into the share root as a copy
// settling; from that moment until the dataset's preview is complete, through the API. Reports time to the first view
// (`previews[0].state === "ready"`) and to the complete preview (also `complete !== false`), the build's own wall time,
// progress against time (and the longest stretch with no progress change), the cores the build used (CPU time of every
// process with MATA_TILER_CHILD=1 over its wall time, from /proc), their peak RSS (VmHWM), and the files and bytes
// written under the state's previews folder. Reference in the same run: the encode bound, the same number and sizes
// of 8-bit JPEG tiles (q85, sharp, b-w) encoded from memory on ALL cores (one worker process per core), content cut
// from the same volume's windowed slices. Target: build <= 1.3x the encode bound.
//
// The volume is generated once (a smooth phantom plus noise, written slice by slice) into --cache and reused; the
// server's temp config, state and share root live beside it (same file system, so the move is a rename), and the
// volume folder is moved back into the cache at the end.
//
//   bun bench/preview-scale.ts [--size 2048[xH]] [--depth 1200] [--sparse] [--cache DIR] [--exe dist/mata]
//                              [--inflight 4] [--timeout 7200]   (encodes in flight per bound worker; seconds to wait)
//   bun bench/preview-scale.ts --size 2048 --depth 60        (a quick run)
//   bun bench/preview-scale.ts --sparse                      (8192x8192x64, mostly zeros, sparse file: memory check)
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CHUNK_SHAPE, chunkNames, ORIENTATIONS, readShardIndex, type ScaleInfo } from "../src/preview/layout.ts";
import { serveUrl } from "./serve-url.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string" },
    depth: { type: "string" },
    sparse: { type: "boolean", default: false },
    cache: { type: "string", default: path.join(tmpdir(), "mata-bench-volumes") },
    exe: { type: "string" },
    inflight: { type: "string", default: "4" },
    timeout: { type: "string", default: "7200" },
    worker: { type: "string" },
  },
});

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const int = (n: number) => n.toLocaleString("en-US");

// ---------------------------------------------------------------------------------------------------------------
// Encode-bound worker: one per core. Cuts its tile pool from windowed slices, says "ready", waits for "go" on stdin,
// encodes its share with sharp.concurrency(1) and `inflight` encodes in flight, prints its result.
interface WorkerPlan {
  raw: string;
  dims: [number, number, number];
  window: [number, number];
  /** Tile sizes and how many of each this worker encodes. */
  tiles: { w: number; h: number; n: number }[];
  inflight: number;
  seed: number;
}

if (values.worker) {
  const sharp = (await import("sharp")).default;
  sharp.concurrency(1);
  sharp.cache(false);
  const plan = JSON.parse(readFileSync(values.worker, "utf8")) as WorkerPlan;
  const [W, H, D] = plan.dims;
  const [lo, hi] = plan.window;
  const scale = 255 / Math.max(1, hi - lo);
  // Windowed 8-bit copies of a few slices spread over the depth (at most ~256 MB of them).
  const nSlices = Math.max(1, Math.min(8, Math.floor(2 ** 28 / (W * H))));
  const fd = openSync(plan.raw, "r");
  const slices: Uint8Array[] = [];
  const raw = new Uint16Array(W * H);
  for (let i = 0; i < nSlices; i++) {
    const z = Math.floor((D * (i + 0.5)) / nSlices);
    const buf = new Uint8Array(raw.buffer);
    for (let got = 0; got < buf.length;) got += readSync(fd, buf, got, buf.length - got, z * W * H * 2 + got);
    const out = new Uint8Array(W * H);
    for (let j = 0; j < out.length; j++) out[j] = Math.max(0, Math.min(255, Math.round((raw[j]! - lo) * scale)));
    slices.push(out);
  }
  closeSync(fd);
  let r = plan.seed * 2654435761;
  const rand = () => (r = (r * 1103515245 + 12345) >>> 0) / 2 ** 32;
  // Up to 16 distinct tiles per size, cut at random places of the slices (mostly zeros in a sparse volume, as its tiles).
  const pool = plan.tiles.map(({ w, h, n }) => {
    const items: Buffer[] = [];
    for (let k = 0; k < Math.min(16, n); k++) {
      const sl = slices[Math.floor(rand() * slices.length)]!;
      const x0 = Math.floor(rand() * (W - w + 1));
      const y0 = Math.floor(rand() * (H - h + 1));
      const t = Buffer.alloc(w * h);
      for (let y = 0; y < h; y++) t.set(sl.subarray((y0 + y) * W + x0, (y0 + y) * W + x0 + w), y * w);
      items.push(t);
    }
    return { w, h, n, items };
  });
  slices.length = 0;
  const jobs: { w: number; h: number; px: Buffer }[] = [];
  for (const p of pool) for (let k = 0; k < p.n; k++) jobs.push({ w: p.w, h: p.h, px: p.items[k % p.items.length]! });
  // Interleave sizes as a build would meet them.
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }
  process.stdout.write("ready\n");
  const reader = Bun.stdin.stream().getReader();
  await reader.read();
  const t0 = performance.now();
  let next = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: plan.inflight }, async () => {
      while (next < jobs.length) {
        const j = jobs[next++]!;
        const out = await sharp(j.px, { raw: { width: j.w, height: j.h, channels: 1 } })
          .toColourspace("b-w")
          .jpeg({ quality: 85 })
          .toBuffer();
        bytes += out.length;
      }
    }),
  );
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, tiles: jobs.length, bytes }) + "\n");
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------------
// The volume: a smooth phantom (an ellipsoidal body with a dense shell, inner spheres of other densities and a slow
// texture) plus noise, uint16, written slice by slice; kept in the cache and reused.
const [W, H] = values.sparse
  ? [8192, 8192]
  : (() => {
      const [w, h] = (values.size ?? "2048").split("x").map(Number);
      return [w!, h ?? w!];
    })();
const D = Number(values.depth ?? (values.sparse ? 64 : 1200));
if (!(W > 0 && H > 0 && D > 0)) throw new Error(`bad --size/--depth: ${W}x${H}x${D}`);
const cache = path.resolve(values.cache!);
const name = `${values.sparse ? "sparse" : "phantom"}-${W}x${H}x${D}`;
const volDir = path.join(cache, name);
const rawBytes = W * H * D * 2;
// The non-zero box of each slice: all of it, or a 1024^2 square in the middle of a sparse volume.
const box: [number, number, number, number] = values.sparse ? [(W - 1024) / 2, (H - 1024) / 2, (W + 1024) / 2, (H + 1024) / 2] : [0, 0, W, H];

function writeVolume(): void {
  const tmp = `${volDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(
    path.join(tmp, "vol.mhd"),
    `ObjectType = Image\nNDims = 3\nDimSize = ${W} ${H} ${D}\nElementType = MET_USHORT\nElementSpacing = 1 1 1\nElementByteOrderMSB = False\nElementDataFile = vol.raw\n`,
  );
  const fd = openSync(path.join(tmp, "vol.raw"), "w");
  const [bx0, by0, bx1, by1] = box;
  const bw = bx1 - bx0;
  const bh = by1 - by0;
  if (values.sparse) ftruncateSync(fd, rawBytes);
  const cx = bw / 2;
  const cy = bh / 2;
  const cz = D / 2;
  const [rx, ry, rz] = [bw * 0.42, bh * 0.38, Math.max(D * 0.45, 1)];
  const spheres = [
    { x: bw * 0.35, y: bh * 0.45, z: D * 0.5, r: Math.min(bw, bh) * 0.09, v: 1900 },
    { x: bw * 0.62, y: bh * 0.4, z: D * 0.4, r: Math.min(bw, bh) * 0.06, v: 600 },
    { x: bw * 0.55, y: bh * 0.62, z: D * 0.6, r: Math.min(bw, bh) * 0.12, v: 1500 },
  ];
  const sinX = Float32Array.from({ length: bw }, (_, x) => Math.sin(x * 0.045) + 0.5 * Math.sin(x * 0.011));
  const sinY = Float32Array.from({ length: bh }, (_, y) => Math.sin(y * 0.052) + 0.5 * Math.sin(y * 0.013));
  let seed = 12345;
  const slice = new Uint16Array(bw * bh);
  const t0 = performance.now();
  for (let z = 0; z < D; z++) {
    const dz = (z - cz) / rz;
    const sz = Math.sin(z * 0.06);
    for (let y = 0; y < bh; y++) {
      const dy = (y - cy) / ry;
      const yz = dy * dy + dz * dz;
      const row = y * bw;
      for (let x = 0; x < bw; x++) {
        const dx = (x - cx) / rx;
        const rr = Math.sqrt(dx * dx + yz);
        let v = 150;
        if (rr < 1) {
          // Soft tissue with a slow texture, a dense shell near the surface (smooth edges).
          v = 1000 + 180 * sinX[x]! * sinY[y]! * sz;
          const shell = 1 - Math.abs(rr - 0.93) / 0.05;
          if (shell > 0) v += 1800 * Math.min(1, shell * 2);
        } else if (rr < 1.02) v = 150 + 850 * ((1.02 - rr) / 0.02);
        for (const sp of spheres) {
          const d2 = (x - sp.x) ** 2 + (y - sp.y) ** 2 + ((z - sp.z) * (bw / Math.max(D, 1)) * 0.5) ** 2;
          if (d2 < sp.r * sp.r) v = v * 0.3 + sp.v * 0.7 * Math.min(1, (sp.r * sp.r - d2) / (sp.r * sp.r * 0.1));
        }
        // Noise: sum of two uniforms (triangular, sd ~ 45).
        seed = (seed * 1664525 + 1013904223) >>> 0;
        const n = ((seed & 0xffff) + (seed >>> 16)) / 65536 - 1;
        slice[row + x] = Math.max(0, Math.min(65535, Math.round(v + 110 * n)));
      }
    }
    const bytes = new Uint8Array(slice.buffer);
    if (!values.sparse) writeSync(fd, bytes);
    else for (let y = 0; y < bh; y++) writeSync(fd, bytes, y * bw * 2, bw * 2, ((z * H + by0 + y) * W + bx0) * 2);
    if (z % 50 === 49) process.stdout.write(`\r  generating ${name}: ${z + 1}/${D} slices, ${s(performance.now() - t0)}`);
  }
  closeSync(fd);
  process.stdout.write("\n");
  rmSync(volDir, { recursive: true, force: true });
  renameSync(tmp, volDir);
}

// ---------------------------------------------------------------------------------------------------------------
// /proc sampling of the tiler children (every process whose environment holds MATA_TILER_CHILD=1).
const CLK_TCK = 100;
/** Seconds since boot now (10 ms resolution), to turn a process's start time (ticks since boot) into a wall time. */
const uptime = () => Number(readFileSync("/proc/uptime", "latin1").split(" ")[0]);
interface Child {
  pid: number;
  startMs: number;
  lastSeenMs: number;
  cpuTicks: number;
  hwmKB: number;
}
const children = new Map<number, Child>();
let serverPid = -1;
/** Whether `pid`'s chain of parents reaches `ancestor`. */
function descends(pid: number, ancestor: number): boolean {
  for (let p = pid, i = 0; p > 1 && i < 64; i++) {
    if (p === ancestor) return true;
    p = Number(readFileSync(`/proc/${p}/stat`, "latin1").split(") ")[1]!.split(" ")[1]);
  }
  return false;
}
const notChildren = new Set<number>();
function sampleChildren(): void {
  let pids: string[];
  try {
    pids = readdirSync("/proc");
  } catch {
    return;
  }
  const now = Date.now();
  for (const p of pids) {
    const pid = Number(p);
    if (!Number.isInteger(pid) || notChildren.has(pid)) continue;
    let c = children.get(pid);
    try {
      if (!c) {
        const env = readFileSync(`/proc/${pid}/environ`, "latin1");
        // Ours only (the machine may run other servers' builds): a descendant of our server.
        const marked = ("\0" + env).includes("\0MATA_TILER_CHILD=1\0");
        const ours = descends(pid, serverPid);
        if (!marked || !ours) {
          // A process of our server between fork and exec has the server's environment: looked at again next time.
          if (!ours) notChildren.add(pid);
          continue;
        }
        const f = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ");
        c = { pid, startMs: now - (uptime() - Number(f[19]) / CLK_TCK) * 1000, lastSeenMs: now, cpuTicks: 0, hwmKB: 0 };
        children.set(pid, c);
      }
      const f = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ");
      c.cpuTicks = Number(f[11]) + Number(f[12]);
      if (f[0] !== "Z") c.lastSeenMs = now;
      const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"))?.[1] ?? 0);
      c.hwmKB = Math.max(c.hwmKB, hwm);
    } catch {
      // Gone (or not ours to read): keep what was sampled last.
      if (!c) notChildren.add(pid);
    }
  }
}
const alive = (c: Child) => existsSync(`/proc/${c.pid}/stat`) && !readFileSync(`/proc/${c.pid}/stat`, "latin1").split(") ")[1]!.startsWith("Z");

function walk(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const r = walk(p);
      files += r.files;
      bytes += r.bytes;
    } else if (e.isFile()) {
      files++;
      bytes += statSync(p).size;
    }
  }
  return { files, bytes };
}

// ---------------------------------------------------------------------------------------------------------------
const ncores = cpus().length;
const machine = `${ncores} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`;
const loadStart = loadavg();
console.log(`machine: ${machine}; load average at start ${loadStart}`);

mkdirSync(cache, { recursive: true });
const rawFile = path.join(volDir, "vol.raw");
if (existsSync(rawFile) && statSync(rawFile).size === rawBytes && existsSync(path.join(volDir, "vol.mhd")))
  console.log(`volume: ${name} (${(rawBytes / 2 ** 30).toFixed(2)} GiB uint16) reused from ${volDir}`);
else {
  console.log(`volume: generating ${name} (${(rawBytes / 2 ** 30).toFixed(2)} GiB uint16) in ${volDir}`);
  writeVolume();
}

const dir = path.join(cache, `run-${process.pid}`);
const root = path.join(dir, "root");
const state = path.join(dir, "state");
const inShare = path.join(root, name);
const serveCmd = values.exe ? [path.resolve(values.exe)] : [process.execPath, path.join(import.meta.dir, "../src/main.ts")];
let server: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
const workers: Bun.Subprocess[] = [];
let moved = false;
let sampler: ReturnType<typeof setInterval> | undefined;
try {
  mkdirSync(root, { recursive: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(
    path.join(dir, "mata.toml"),
    [`root = ${JSON.stringify(root)}`, `state = ${JSON.stringify(state)}`, `listen = "127.0.0.1:0"`, "acls = false"].join("\n") + "\n",
  );
  const env = { ...process.env, MATA_LOG: "warn" };
  const add = Bun.spawnSync([...serveCmd, "user", "add", "bench", "--admin", "--state", state], { stdin: new TextEncoder().encode("bench password 1\n"), env });
  if (add.exitCode !== 0) throw new Error(`user add: ${add.stderr.toString()}`);
  server = Bun.spawn([...serveCmd, "serve", "--config", path.join(dir, "mata.toml")], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  serverPid = server.pid;
  const url = await serveUrl(server);
  void new Response(server.stderr).text();
  const basic = { Authorization: `Basic ${btoa("bench:bench password 1")}` };
  const made = await fetch(`${url}/api/v1/tokens`, {
    method: "POST",
    headers: { ...basic, "Content-Type": "application/json" },
    body: '{"label":"preview-scale"}',
  });
  const token = ((await made.json()) as { secret: string }).secret;
  const auth = { Authorization: `Bearer ${token}` };
  const api = async <T>(p: string): Promise<T> => {
    const r = await fetch(url + p, { headers: auth });
    if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  console.log(`server: ${serveCmd.join(" ")} serve at ${url} (pid ${server.pid}); idle 2 s`);
  await Bun.sleep(2000);

  // The copy settles: the finished folder appears in the share by one rename (as a new folder: no `.mata` of a run before).
  rmSync(path.join(volDir, ".mata"), { recursive: true, force: true });
  sampler = setInterval(sampleChildren, 100);
  const t0 = Date.now();
  renameSync(volDir, inShare);
  moved = true;
  let id: number | undefined;
  let tDataset = 0;
  let tFirst = 0;
  let tComplete = 0;
  const samples: { t: number; state: string; progress: number }[] = [];
  let lastPrint = 0;
  const deadline = t0 + Number(values.timeout) * 1000;
  type Previews = {
    preview: { state: string; progress: number; error?: string };
    previews: { state: string; progress: number; complete?: boolean; error?: string }[];
  };
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no complete preview after ${values.timeout} s`);
    if (id === undefined) {
      const items = (await api<{ items: { id: number; path: string }[] }>(`/api/v1/datasets?limit=1000`)).items;
      id = items.find((d) => d.path === name)?.id;
      if (id === undefined) {
        await Bun.sleep(100);
        continue;
      }
      tDataset = Date.now() - t0;
    }
    const p = await api<Previews>(`/api/v1/datasets/${id}/previews`);
    const t = Date.now() - t0;
    const first = p.previews[0];
    samples.push({ t, state: p.preview.state, progress: first && first.state !== "ready" ? first.progress : p.preview.progress });
    if (t - lastPrint >= 10_000) {
      lastPrint = t;
      const kidsNow = [...children.values()];
      console.log(
        `  ${s(t)}: ${p.preview.state} ${((samples.at(-1)!.progress ?? 0) * 100).toFixed(1)}%, children CPU ${kidsNow.reduce((n, c) => n + c.cpuTicks / CLK_TCK, 0).toFixed(1)} s, peak RSS ${mb(Math.max(0, ...kidsNow.map((c) => c.hwmKB)) * 1024)}, load ${loadavg()}`,
      );
    }
    if (p.preview.state === "failed" || first?.state === "failed") throw new Error(`preview failed: ${p.preview.error ?? first?.error}`);
    if (first?.state === "ready" && !tFirst) tFirst = t;
    if (first?.state === "ready" && first.complete !== false && p.preview.state === "ready") {
      tComplete = t;
      break;
    }
    await Bun.sleep(200);
  }
  // Let the children end (they have, normally), then one last sample.
  for (let i = 0; i < 100 && [...children.values()].some(alive); i++) await Bun.sleep(100);
  sampleChildren();
  clearInterval(sampler);
  sampler = undefined;

  const kids = [...children.values()];
  const cpuS = kids.reduce((n, c) => n + c.cpuTicks / CLK_TCK, 0);
  const buildMs = kids.length ? Math.max(...kids.map((c) => c.lastSeenMs)) - Math.min(...kids.map((c) => c.startMs)) : NaN;
  const childWall = kids.reduce((n, c) => n + (c.lastSeenMs - c.startMs), 0);
  const hwm = Math.max(0, ...kids.map((c) => c.hwmKB)) * 1024;
  const jobStart = kids.length ? Math.min(...kids.map((c) => c.startMs)) - t0 : NaN;
  const written = walk(path.join(state, "previews"));

  // Progress against time while the build ran: the longest stretch with no change.
  const running = samples.filter((x) => x.state === "running");
  let stall = { ms: 0, from: 0, at: 0 };
  for (let i = 0, j = 0; i < running.length; i = j) {
    j = i + 1;
    while (j < running.length && running[j]!.progress === running[i]!.progress) j++;
    const end = (running[j] ?? samples[samples.indexOf(running[j - 1]!) + 1] ?? running[j - 1]!).t;
    if (end - running[i]!.t > stall.ms) stall = { ms: end - running[i]!.t, from: running[i]!.t, at: running[i]!.progress };
  }
  const curve: string[] = [];
  if (running.length) {
    const [a, b] = [running[0]!.t, running.at(-1)!.t];
    for (let k = 0; k <= 10; k++) {
      const tt = a + ((b - a) * k) / 10;
      const x = [...running].reverse().find((r) => r.t <= tt) ?? running[0]!;
      curve.push(`${s(tt)}: ${(x.progress * 100).toFixed(1)}%`);
    }
  }

  // The finished preview's tiles: chunks in the shard indices, sizes from the orientations' info files.
  const key = readdirSync(path.join(state, "previews")).find((k) => !k.startsWith("."))!;
  const pdir = path.join(state, "previews", key);
  let window: [number, number] = [0, 65535];
  try {
    window = (JSON.parse(readFileSync(path.join(pdir, "mata.json"), "utf8")) as { window: [number, number] }).window;
  } catch {
    console.log("(no mata.json with the window: the encode bound windows the full uint16 range)");
  }
  let inShards = 0;
  let expected = 0;
  const sizes = new Map<string, { w: number; h: number; n: number }>();
  for (const o of ORIENTATIONS) {
    const infoFile = path.join(pdir, o, "info");
    if (!existsSync(infoFile)) continue;
    for (const scale of (JSON.parse(readFileSync(infoFile, "utf8")) as { scales: ScaleInfo[] }).scales) {
      const sdir = path.join(pdir, o, scale.key);
      for (const f of readdirSync(sdir).filter((f) => f.endsWith(".shard"))) inShards += readShardIndex(path.join(sdir, f), scale.sharding!).ids.length;
      const shape = CHUNK_SHAPE[o];
      // The two axes of the tile's image: XY x,y; XZ x,z; YZ y,z.
      const axes = o === "xy" ? [0, 1] : o === "xz" ? [0, 2] : [1, 2];
      for (const n of chunkNames({ ...scale, chunk_sizes: [shape] })) {
        const b = n.split("_").map((r) => r.split("-").map(Number)) as [number, number][];
        const w = b[axes[0]!]![1] - b[axes[0]!]![0];
        const h = b[axes[1]!]![1] - b[axes[1]!]![0];
        const k = `${w}x${h}`;
        const e = sizes.get(k) ?? { w, h, n: 0 };
        e.n++;
        sizes.set(k, e);
        expected++;
      }
    }
  }
  const tilePixels = [...sizes.values()].reduce((n, e) => n + e.w * e.h * e.n, 0);

  // The encode bound: the same tiles on every core, from memory.
  renameSync(inShare, volDir);
  moved = false;
  // The server's identity files stay behind: the cached volume is a new folder for the next run.
  rmSync(path.join(volDir, ".mata"), { recursive: true, force: true });
  const all = [...sizes.values()];
  const plans: WorkerPlan[] = Array.from({ length: ncores }, (_, i) => ({
    raw: rawFile,
    dims: [W, H, D],
    window,
    tiles: all.map((e) => ({ w: e.w, h: e.h, n: Math.floor(e.n / ncores) + (i < e.n % ncores ? 1 : 0) })).filter((e) => e.n > 0),
    inflight: Number(values.inflight),
    seed: i + 1,
  }));
  for (const [i, plan] of plans.entries()) {
    const file = path.join(dir, `worker-${i}.json`);
    writeFileSync(file, JSON.stringify(plan));
    workers.push(Bun.spawn([process.execPath, import.meta.path, "--worker", file], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }));
  }
  const readers = workers.map((w) => (w.stdout as ReadableStream<Uint8Array>).getReader());
  const readLine = async (r: ReadableStreamDefaultReader<Uint8Array>, buf: { s: string }) => {
    while (!buf.s.includes("\n")) {
      const c = await r.read();
      if (c.done) throw new Error("encode worker ended early");
      buf.s += new TextDecoder().decode(c.value);
    }
    const i = buf.s.indexOf("\n");
    const line = buf.s.slice(0, i);
    buf.s = buf.s.slice(i + 1);
    return line;
  };
  const bufs = workers.map(() => ({ s: "" }));
  await Promise.all(readers.map((r, i) => readLine(r, bufs[i]!)));
  const e0 = performance.now();
  for (const w of workers) {
    (w.stdin as import("bun").FileSink).write("go\n");
    (w.stdin as import("bun").FileSink).flush();
  }
  const results = (await Promise.all(readers.map((r, i) => readLine(r, bufs[i]!)))).map((l) => JSON.parse(l) as { ms: number; tiles: number; bytes: number });
  const boundMs = performance.now() - e0;
  await Promise.all(workers.map((w) => w.exited));
  workers.length = 0;
  const boundBytes = results.reduce((n, r) => n + r.bytes, 0);
  const loadEnd = loadavg();

  const ratio = buildMs / boundMs;
  console.log(`\n${name}: ${(rawBytes / 2 ** 30).toFixed(2)} GiB uint16, ${values.exe ? "dist/mata" : "bun src/main.ts"} serve`);
  console.log(`dataset listed ${s(tDataset)} after the move; build child started after ${s(jobStart)} (settle + queue)`);
  console.log(`tiles: ${int(inShards)} in the shard indices (${int(expected)} in the grid of the info files), ${int(tilePixels / 1e6)} Mpx`);
  console.log(`tiler children: ${kids.length} (${kids.map((c) => c.pid).join(", ")}), CPU ${cpuS.toFixed(1)} s over ${s(childWall)} of their wall time`);
  console.log(`progress over the build (fraction vs time from the move): ${curve.join(", ")}`);
  console.log(
    `longest stretch with no progress change: ${s(stall.ms)} from ${s(stall.from)} at ${(stall.at * 100).toFixed(1)}% (${running.length} samples while running)`,
  );
  console.log(
    `encode bound: ${ncores} workers x ${values.inflight} in flight, ${int(results.reduce((n, r) => n + r.tiles, 0))} tiles, ${mb(boundBytes)} of JPEG`,
  );
  console.log(`load average at start ${loadStart}, at end ${loadEnd}\n`);
  console.log(
    "| volume (uint16) | tiles | first view | complete | build (child wall) | cores used | peak RSS (children) | written (files, bytes) | encode bound (all cores) | build / bound |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  console.log(
    `| ${W}x${H}x${D}${values.sparse ? " sparse" : ""} (${(rawBytes / 2 ** 30).toFixed(2)} GiB) | ${int(inShards)} | ${s(tFirst)} | ${s(tComplete)} | ${s(buildMs)} | ${(cpuS / (childWall / 1000)).toFixed(2)} (${((cpuS / (childWall / 1000) / ncores) * 100).toFixed(0)}% of ${ncores}) | ${mb(hwm)} | ${int(written.files)}, ${mb(written.bytes)} | ${s(boundMs)} | ${ratio.toFixed(2)}x ${ratio <= 1.3 ? "(target <= 1.3x met)" : "(target <= 1.3x not met)"} |`,
  );
} finally {
  if (sampler) clearInterval(sampler);
  for (const w of workers) w.kill("SIGKILL");
  if (server) {
    server.kill("SIGTERM");
    const t = setTimeout(() => server!.kill("SIGKILL"), 20_000);
    await server.exited;
    clearTimeout(t);
  }
  // A child the server left behind (it should not): stopped by its PID.
  for (const c of children.values()) {
    try {
      if (alive(c)) process.kill(c.pid, "SIGKILL");
    } catch {}
  }
  if (moved && existsSync(inShare)) renameSync(inShare, volDir);
  rmSync(path.join(volDir, ".mata"), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
