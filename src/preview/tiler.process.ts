import { rmSync } from "node:fs";
import { selfCommand } from "../platform/self.ts";
import { ChildError, runBuildChild } from "../platform/child-io.ts";
import type { BuildSpec, ChildMessage } from "./tiler.child.ts";
import { buildLeftovers, TILER_CHILD_ENV } from "./tiler.child.ts";

const children = new Set<number>();
let peak = 0;

/** The largest peak memory (bytes) a tiler child reported since the last call, which starts the count again: tests bound it. */
export function takeTilerPeakRss(): number {
  const p = peak;
  peak = 0;
  return p;
}

/** PIDs of tiler children alive now (tests check that a cancel really ends them). */
export function activeTilerChildren(): number[] {
  return [...children];
}

/**
 * Runs one preview build in a child process and resolves with its result; `onCoarse` hears when its coarse levels
 * are published. Aborting the signal SIGKILLs the child at once (a hard stop of libvips work) and removes its temp
 * dirs, so nothing half-made remains.
 */
export async function buildInChild(
  spec: BuildSpec,
  signal: AbortSignal,
  onProgress: (fraction: number) => void,
  onCoarse: (coarse: Extract<ChildMessage, { type: "coarse" }>) => void = () => {},
): Promise<Extract<ChildMessage, { type: "done" }>> {
  try {
    const done = await runBuildChild<Omit<Extract<ChildMessage, { type: "done" }>, "type" | "maxRss">>({
      argv: selfCommand(),
      env: { ...process.env, [TILER_CHILD_ENV]: "1" },
      spec,
      what: "the tiler process",
      file: spec.file,
      children,
      signal,
      onProgress,
      onMessage: (m) => {
        if (m.type === "coarse") onCoarse(m as Extract<ChildMessage, { type: "coarse" }>);
      },
      cleanup: () => {
        for (const dir of buildLeftovers(spec.tmpDir)) rmSync(dir, { recursive: true, force: true });
      },
    });
    if (done.maxRss) peak = Math.max(peak, done.maxRss);
    return done;
  } catch (e) {
    if (e instanceof ChildError && e.maxRss) peak = Math.max(peak, e.maxRss);
    throw e;
  }
}
