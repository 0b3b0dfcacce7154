// Tiler benchmarks, same input and same run for ours and the reference:
//  1. XY-only Deep Zoom of a stack of 16-bit TIFF slices: our one-pass tiler (XY tiles, every slice, JPEG)
//     vs Debian's `vips` CLI (linear window to 8-bit, then dzsave), one process per slice, 2 at a time.
//  2. The full XY+XZ+YZ pyramid of the same stack, as a ratio to our XY-only time (target <= 1.6x).
//
//   bun bench/tiler.ts [--slices 200] [--size 2048] [--keep DIR]
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { detectVolumes, displayWindow } from "../src/preview/readers/index.ts";
import { buildPyramid } from "../src/preview/pyramid.ts";
import { configureImageThreads } from "../src/preview/tile-encoder.ts";

const { values } = parseArgs({ options: { slices: { type: "string", default: "200" }, size: { type: "string", default: "2048" }, keep: { type: "string" } } });
const SLICES = Number(values.slices);
const SIZE = Number(values.size);
const work = values.keep ?? path.join(tmpdir(), `mata-bench-tiler-${process.pid}`);
const stack = path.join(work, "stack");
mkdirSync(stack, { recursive: true });

/** A minimal little-endian, uncompressed, single-strip 16-bit grayscale TIFF. */
function tiff16(w: number, h: number, data: Uint16Array): Uint8Array {
  const entries: [number, number, number, number][] = [
    [256, 4, 1, w],
    [257, 4, 1, h],
    [258, 3, 1, 16],
    [259, 3, 1, 1],
    [262, 3, 1, 1],
    [273, 4, 1, 0],
    [277, 3, 1, 1],
    [278, 4, 1, h],
    [279, 4, 1, w * h * 2],
    [339, 3, 1, 1],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataAt = 8 + ifdSize;
  entries[5]![3] = dataAt;
  const out = new Uint8Array(dataAt + w * h * 2);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49]);
  dv.setUint16(2, 42, true);
  dv.setUint32(4, 8, true);
  dv.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 10 + i * 12;
    dv.setUint16(at, tag, true);
    dv.setUint16(at + 2, type, true);
    dv.setUint32(at + 4, count, true);
    if (type === 3) dv.setUint16(at + 8, value, true);
    else dv.setUint32(at + 8, value, true);
  });
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataAt);
  return out;
}

const files = Array.from({ length: SLICES }, (_, z) => `slice_${String(z).padStart(4, "0")}.tif`);
if (readdirSync(stack).length !== SLICES) {
  const t = performance.now();
  const px = new Uint16Array(SIZE * SIZE);
  for (let z = 0; z < SLICES; z++) {
    const c = SIZE / 2;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const d = Math.hypot(x - c, y - c, (z - SLICES / 2) * 4);
        px[y * SIZE + x] = (d < SIZE * 0.35 ? 2800 : 600) + ((x * 7 + y * 13 + z * 31) % 400);
      }
    }
    writeFileSync(path.join(stack, files[z]!), tiff16(SIZE, SIZE, px));
  }
  console.log(`generated ${SLICES} slices of ${SIZE}x${SIZE} uint16 in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

const [source] = await detectVolumes(stack, files);
if (!source || source.depth !== SLICES) throw new Error(`expected one ${SLICES}-slice stack, got ${source?.depth}`);
configureImageThreads(1);

async function ours(orientations: "xy" | "xyz"): Promise<{ s: number; tiles: number }> {
  const out = path.join(work, `ours-${orientations}`);
  rmSync(out, { recursive: true, force: true });
  const t = performance.now();
  const { window } = await displayWindow(source!);
  const r = await buildPyramid(source!, out, { window, orientations, encoding: "jpeg", quality: 85 });
  const s = (performance.now() - t) / 1000;
  if (!values.keep) rmSync(out, { recursive: true, force: true });
  return { s, tiles: r.tiles };
}

async function reference(): Promise<{ s: number; tiles: number }> {
  const out = path.join(work, "vips");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const { window } = await displayWindow(source!);
  const a = 255 / (window[1] - window[0]);
  const b = -window[0] * a;
  const t = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]!;
      const base = path.join(out, f.replace(".tif", ""));
      const script = `vips linear --uchar -- "${path.join(stack, f)}" "${base}.v" ${a} ${b} && vips dzsave "${base}.v" "${base}" --suffix ".jpg[Q=85]" --tile-size 256 --overlap 0 --depth onetile && rm "${base}.v"`;
      const p = Bun.spawn(["sh", "-c", script], { stdout: "ignore", stderr: "inherit" });
      if ((await p.exited) !== 0) throw new Error(`vips failed on ${f}`);
    }
  };
  await Promise.all([worker(), worker()]);
  const s = (performance.now() - t) / 1000;
  const tiles = Number(
    Bun.spawnSync(["sh", "-c", `find "${out}" -name '*.jpg' | wc -l`])
      .stdout.toString()
      .trim(),
  );
  if (!values.keep) rmSync(out, { recursive: true, force: true });
  return { s, tiles };
}

const vips = await reference();
const xy = await ours("xy");
const full = await ours("xyz");
console.log(`\n${SLICES} slices of ${SIZE}x${SIZE} uint16 TIFF, JPEG q85, 256 px tiles, 2 cores (shared machine)`);
console.log(`vips linear+dzsave, 1 process/slice, 2 at a time: ${vips.s.toFixed(1)} s, ${vips.tiles} tiles`);
console.log(`mata XY-only (Deep Zoom equivalent):               ${xy.s.toFixed(1)} s, ${xy.tiles} tiles  -> ${(vips.s / xy.s).toFixed(2)}x faster than vips`);
console.log(
  `mata full XY+XZ+YZ pyramid:                        ${full.s.toFixed(1)} s, ${full.tiles} tiles -> ${(full.s / xy.s).toFixed(2)}x the XY-only time`,
);
if (!values.keep) rmSync(work, { recursive: true, force: true });
