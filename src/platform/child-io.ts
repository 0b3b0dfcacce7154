// What Mata's build children (tiler, export) share: their one spec line on stdin, and their peak memory for the parent.
import { readFileSync } from "node:fs";
import { lines } from "./lines.ts";

/**
 * The first line on stdin, parsed as JSON. The parent keeps stdin open for the whole run, so its end means the
 * parent died: the child then exits too (code 3) instead of finishing work nobody waits for.
 */
export async function readSpecLine<T>(what: string): Promise<T> {
  const reader = Bun.stdin.stream().getReader();
  let text = "";
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (value) text += decoder.decode(value, { stream: true });
    const nl = text.indexOf("\n");
    if (nl >= 0) {
      void (async () => {
        while (!(await reader.read()).done);
        process.exit(3);
      })();
      return JSON.parse(text.slice(0, nl)) as T;
    }
    if (done) throw new Error(`no ${what} on stdin`);
  }
}

/**
 * This process's peak resident memory in bytes (the parent keeps the largest, so tests can bound a child's memory):
 * VmHWM of its own address space, since getrusage's maxrss carries over exec from the parent that started it.
 */
export function peakRss(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** What a build child prints on stdout, one JSON object a line: progress while it works, then one outcome. */
export type ChildLine<Done> =
  { type: "progress"; fraction: number } | ({ type: "done"; maxRss?: number } & Done) | { type: "error"; message: string; maxRss?: number };

/** How to start one child and what to name it in an error. */
export interface ChildRun {
  argv: string[];
  env: Record<string, string | undefined>;
  spec: unknown;
  /** "the tiler process", "the export process" */
  what: string;
  /** The file the child works on, leading its error messages. */
  file: string;
  /** The set of live child pids the caller keeps (tests check that a cancel really ends them). */
  children: Set<number>;
  signal: AbortSignal;
  onProgress: (fraction: number) => void;
  /** Any other line the child reports along the way (e.g. the tiler's coarse levels published). */
  onMessage?: (message: { type: string }) => void;
  /** Runs once the child is gone, whatever happened (removing what a killed child left). */
  cleanup: () => void | Promise<void>;
  /** The child leads a process group of its own (started through `setsid`): a stop kills the whole group. */
  group?: boolean;
}

function parseLine<Done>(line: string): ChildLine<Done> | null {
  try {
    const m = JSON.parse(line) as ChildLine<Done>;
    return typeof m === "object" && m !== null && "type" in m ? m : null;
  } catch {
    return null;
  }
}

/**
 * Runs one build child: its spec on stdin (kept open, so the child ends with its parent), progress and the outcome
 * from stdout, stderr drained as it comes so a chatty child never blocks. Aborting the signal SIGKILLs the child at
 * once (a hard stop of libvips or zlib work); resolves with its "done" line, or throws its error in words.
 */
export async function runBuildChild<Done>(run: ChildRun): Promise<{ type: "done"; maxRss?: number } & Done> {
  run.signal.throwIfAborted();
  const proc = Bun.spawn(run.argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: run.env });
  run.children.add(proc.pid);
  const stderrText = new Response(proc.stderr).text();
  const kill = () => {
    if (run.group) {
      try {
        process.kill(-proc.pid, "SIGKILL");
        return;
      } catch {
        // no group (setsid has not run yet, or it is gone): the process itself
      }
    }
    proc.kill("SIGKILL");
  };
  run.signal.addEventListener("abort", kill, { once: true });
  try {
    proc.stdin.write(JSON.stringify(run.spec) + "\n");
    await proc.stdin.flush();
    let result: ChildLine<Done> | null = null;
    for await (const line of lines(proc.stdout)) {
      const m = parseLine<Done>(line);
      if (m?.type === "progress") run.onProgress(m.fraction);
      else if (m?.type === "done" || m?.type === "error") result = m;
      else if (m) run.onMessage?.(m);
    }
    const code = await proc.exited;
    run.signal.throwIfAborted();
    if (result?.type === "done" && code === 0) return result;
    if (result?.type === "error") throw new ChildError(result.message, result.maxRss);
    const stderr = (await stderrText).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${run.file}: ${run.what} ended abnormally (${proc.signalCode ?? `exit code ${code}`})${stderr ? `: ${stderr.slice(0, 500)}` : ""}`);
  } finally {
    run.signal.removeEventListener("abort", kill);
    if (proc.exitCode === null && proc.signalCode === null) kill();
    await proc.exited;
    // Whatever the child left running in its group ends with it.
    if (run.group) {
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // nothing left
      }
    }
    run.children.delete(proc.pid);
    try {
      proc.stdin.end();
    } catch {
      // Already closed with the process.
    }
    await run.cleanup();
  }
}

/** A child's own error report, with the peak memory it had reached. */
export class ChildError extends Error {
  constructor(
    message: string,
    readonly maxRss?: number,
  ) {
    super(message);
  }
}
