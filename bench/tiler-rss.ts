// Peak memory of the full XY+XZ+YZ build as the depth grows: the same slice size at 200, 500 and 1,000
// slices of a generated uint16 raw volume (MetaImage header). Flat peak RSS = memory bounded by the slab.
// Each build runs in its own process (as in the server) and reports its VmHWM.
//
//   bun bench/tiler-rss.ts [--size 1024] [--depths 200,500,1000]
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { detectVolumes, displayWindow } from "../src/preview/readers/index.ts";
import { buildPyramid } from "../src/preview/pyramid.ts";
import { collectGarbageEvery, configureImageThreads } from "../src/preview/tile-encoder.ts";

const { values } = parseArgs({
  options: { size: { type: "string", default: "1024" }, depths: { type: "string", default: "200,500,1000" }, child: { type: "string" } },
});

if (values.child) {
  // The build itself, set up as the tiler child process does: read slice by slice, write every tile, report peak RSS.
  configureImageThreads(1);
  collectGarbageEvery(500);
  const dir = path.dirname(values.child);
  const [src] = await detectVolumes(dir, [path.basename(values.child)]);
  const { window } = await displayWindow(src!);
  const out = path.join(dir, "out");
  const t = performance.now();
  const r = await buildPyramid(src!, out, { window, orientations: "xyz", encoding: "jpeg", quality: 85 });
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1];
  console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, tiles: r.tiles, peakMB: Number(hwm) / 1024 }));
  process.exit(0);
}

const SIZE = Number(values.size);
const rows: string[] = [];
for (const depth of values.depths!.split(",").map(Number)) {
  const dir = path.join(tmpdir(), `mata-bench-rss-${process.pid}-${depth}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "vol.mhd"),
    `ObjectType = Image\nNDims = 3\nDimSize = ${SIZE} ${SIZE} ${depth}\nElementType = MET_USHORT\nElementSpacing = 1 1 1\nElementByteOrderMSB = False\nElementDataFile = vol.raw\n`,
  );
  const fd = openSync(path.join(dir, "vol.raw"), "w");
  const slice = new Uint16Array(SIZE * SIZE);
  for (let z = 0; z < depth; z++) {
    for (let i = 0; i < slice.length; i++) slice[i] = 500 + ((i * 7 + z * 13) % 3000);
    writeSync(fd, new Uint8Array(slice.buffer));
  }
  closeSync(fd);
  const p = Bun.spawn([process.execPath, import.meta.path, "--child", path.join(dir, "vol.mhd")], { stdout: "pipe", stderr: "inherit" });
  const text = await new Response(p.stdout).text();
  await p.exited;
  const r = JSON.parse(text.trim().split("\n").pop()!);
  const gb = (SIZE * SIZE * depth * 2) / 2 ** 30;
  rows.push(`| ${SIZE}x${SIZE}x${depth} (${gb.toFixed(2)} GiB) | ${r.seconds.toFixed(1)} s | ${r.tiles} | ${r.peakMB.toFixed(0)} MB |`);
  console.log(rows.at(-1));
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n| volume (uint16) | build | tiles | peak RSS |\n|---|---|---|---|\n${rows.join("\n")}`);
