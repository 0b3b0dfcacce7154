// What Mata's build children (tiler, export) share: their one spec line on stdin, and their peak memory for the parent.
import { readFileSync } from "node:fs";

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
