import { rmSync } from "node:fs";
import { selfCommand } from "../platform/self.ts";
import { lines } from "../platform/lines.ts";
import type { BuildSpec, ChildMessage } from "./tiler.child.ts";
import { TILER_CHILD_ENV } from "./tiler.child.ts";

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
 * Runs one preview build in a child process and resolves with its result; aborting the signal SIGKILLs the
 * child at once (a hard stop of libvips work) and removes its temp dir, so nothing half-made remains.
 */
export async function buildInChild(
  spec: BuildSpec,
  signal: AbortSignal,
  onProgress: (fraction: number) => void,
): Promise<Extract<ChildMessage, { type: "done" }>> {
  signal.throwIfAborted();
  const proc = Bun.spawn(selfCommand(), {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, [TILER_CHILD_ENV]: "1" },
  });
  children.add(proc.pid);
  // Drained as it comes, so a chatty child never blocks on a full pipe.
  const stderrText = new Response(proc.stderr).text();
  const kill = () => proc.kill("SIGKILL");
  signal.addEventListener("abort", kill, { once: true });
  try {
    proc.stdin.write(JSON.stringify(spec) + "\n");
    await proc.stdin.flush();
    let result: ChildMessage | null = null;
    for await (const line of lines(proc.stdout)) {
      const m = parseLine(line);
      if (m?.type === "progress") onProgress(m.fraction);
      else if (m) result = m;
      if (m && m.type !== "progress" && m.maxRss) peak = Math.max(peak, m.maxRss);
    }
    const code = await proc.exited;
    signal.throwIfAborted();
    if (result?.type === "done" && code === 0) return result;
    if (result?.type === "error") throw new Error(result.message);
    const stderr = (await stderrText).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${spec.file}: the tiler process ended abnormally (${proc.signalCode ?? `exit code ${code}`})${stderr ? `: ${stderr.slice(0, 500)}` : ""}`);
  } finally {
    signal.removeEventListener("abort", kill);
    if (proc.exitCode === null && proc.signalCode === null) kill();
    await proc.exited;
    children.delete(proc.pid);
    try {
      proc.stdin.end();
    } catch {
      // Already closed with the process.
    }
    rmSync(spec.tmpDir, { recursive: true, force: true });
  }
}

function parseLine(line: string): ChildMessage | null {
  try {
    const m = JSON.parse(line) as ChildMessage;
    return typeof m === "object" && m !== null && "type" in m ? m : null;
  } catch {
    return null;
  }
}
