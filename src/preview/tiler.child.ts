import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { detectVolumes, displayWindow } from "./readers/index.ts";
import { buildPyramid } from "./pyramid.ts";
import { collectGarbageEvery, configureImageThreads } from "./tile-encoder.ts";

/** The environment marker that makes the `mata` executable (or `bun src/main.ts`) act as a tiler child. */
export const TILER_CHILD_ENV = "MATA_TILER_CHILD";

/** What the parent asks one child to build: a single volume of a dataset, into tmpDir, renamed to outDir. */
export interface BuildSpec {
  datasetPath: string;
  /** The volume's files, relative to the dataset folder. */
  files: string[];
  /** The file naming the volume (VolumeSource.file). */
  file: string;
  tmpDir: string;
  outDir: string;
  orientations: "xyz" | "xy";
  encoding: "jpeg" | "raw";
  quality: number;
}

/** What the child reports, one JSON object per line on stdout. */
export type ChildMessage =
  | { type: "progress"; fraction: number }
  | { type: "done"; window: [number, number]; windowFrom: string; levels: number; tiles: number }
  | { type: "error"; message: string };

/** The metadata written beside `info`, so a reused build (a copied dataset) knows its window and levels. */
export interface BuildMeta {
  window: [number, number];
  windowFrom: string;
  levels: number;
  tiles: number;
  file: string;
  builtAt: number;
}

function send(m: ChildMessage): void {
  process.stdout.write(JSON.stringify(m) + "\n");
}

async function readSpec(): Promise<BuildSpec> {
  const reader = Bun.stdin.stream().getReader();
  let text = "";
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (value) text += decoder.decode(value, { stream: true });
    const nl = text.indexOf("\n");
    if (nl >= 0) {
      // The parent keeps stdin open for the whole build: its end means the parent died, so stop too.
      void (async () => {
        while (!(await reader.read()).done);
        process.exit(3);
      })();
      return JSON.parse(text.slice(0, nl)) as BuildSpec;
    }
    if (done) throw new Error("no build spec on stdin");
  }
}

/** Builds one preview as a separate process, so a cancel can SIGKILL libvips mid-operation; returns the exit code. */
export async function runTilerChild(): Promise<number> {
  let spec: BuildSpec | null = null;
  try {
    spec = await readSpec();
    configureImageThreads(1);
    collectGarbageEvery(500);
    const sources = await detectVolumes(spec.datasetPath, spec.files);
    const source = sources.find((s) => s.file === spec!.file);
    for (const s of sources) if (s !== source) await s.close();
    if (!source) throw new Error(`${spec.file}: no volume or image found in it any more`);
    try {
      const { window, from } = await displayWindow(source);
      rmSync(spec.tmpDir, { recursive: true, force: true });
      mkdirSync(spec.tmpDir, { recursive: true });
      let last = 0;
      const result = await buildPyramid(source, spec.tmpDir, {
        window,
        orientations: spec.orientations,
        encoding: spec.encoding,
        quality: spec.quality,
        onProgress: (fraction) => {
          if (fraction - last >= 0.005 || fraction === 1) {
            last = fraction;
            send({ type: "progress", fraction });
          }
        },
      });
      const meta: BuildMeta = { window, windowFrom: from, levels: result.scales.length, tiles: result.tiles, file: spec.file, builtAt: Date.now() };
      writeFileSync(path.join(spec.tmpDir, "mata.json"), JSON.stringify(meta));
      mkdirSync(path.dirname(spec.outDir), { recursive: true });
      // Equal content built by someone else meanwhile: theirs stays, ours goes.
      if (existsSync(spec.outDir)) rmSync(spec.tmpDir, { recursive: true, force: true });
      else renameSync(spec.tmpDir, spec.outDir);
      send({ type: "done", window, windowFrom: from, levels: meta.levels, tiles: meta.tiles });
      return 0;
    } finally {
      await source.close();
    }
  } catch (e) {
    if (spec) rmSync(spec.tmpDir, { recursive: true, force: true });
    send({ type: "error", message: e instanceof Error ? e.message : String(e) });
    return 1;
  }
}
