// Running one export child (at the tiler's priority: someone asked for it and waits), as the dataset folder's owner when Mata runs as root (so the
// files are theirs and the folder's default ACLs apply), killed at once on a cancel with its temp folder removed.
import { closeSync, constants } from "node:fs";
import { runAs } from "../jobs/command.run.ts";
import { lines } from "../platform/lines.ts";
import { selfCommand } from "../platform/self.ts";
import { openShareFile } from "../platform/share-root.ts";
import { openablePath } from "../sync/names.ts";
import { EXPORT_CHILD_ENV, removeTemp, type ExportMessage, type ExportSpec } from "./export.child.ts";

const children = new Set<number>();

/** PIDs of export children alive now (tests check that a cancel really ends them). */
export function activeExportChildren(): number[] {
  return [...children];
}

/** Who the child runs as: the dataset folder's owner when this process is root (see runAs), else this process. */
function ownerPrefix(datasetPath: string): { argv: string[]; env: Record<string, string> } {
  if (process.getuid?.() !== 0) return { argv: [], env: {} };
  const fd = openShareFile(openablePath(datasetPath), constants.O_DIRECTORY);
  try {
    return runAs(fd);
  } finally {
    closeSync(fd);
  }
}

/** Exports one volume in a child process and resolves with its report; aborting kills it and removes its temp folder. */
export async function exportInChild(
  spec: ExportSpec,
  signal: AbortSignal,
  onProgress: (fraction: number) => void,
): Promise<Extract<ExportMessage, { type: "done" }>> {
  signal.throwIfAborted();
  const as = ownerPrefix(spec.datasetPath);
  const proc = Bun.spawn([...as.argv, ...selfCommand()], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...as.env, [EXPORT_CHILD_ENV]: "1" },
  });
  children.add(proc.pid);
  const stderrText = new Response(proc.stderr).text();
  const kill = () => proc.kill("SIGKILL");
  signal.addEventListener("abort", kill, { once: true });
  try {
    proc.stdin.write(JSON.stringify(spec) + "\n");
    await proc.stdin.flush();
    let result: ExportMessage | null = null;
    for await (const line of lines(proc.stdout)) {
      const m = parse(line);
      if (m?.type === "progress") onProgress(m.fraction);
      else if (m) result = m;
    }
    const code = await proc.exited;
    signal.throwIfAborted();
    if (result?.type === "done" && code === 0) return result;
    if (result?.type === "error") throw new Error(result.message);
    const stderr = (await stderrText).trim().split("\n").slice(-3).join(" | ");
    throw new Error(
      `${spec.file}: the export process ended abnormally (${proc.signalCode ?? `exit code ${code}`})${stderr ? `: ${stderr.slice(0, 500)}` : ""}`,
    );
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
    // A killed child leaves its temp folder; a finished one has renamed it away.
    removeTemp(spec);
  }
}

function parse(line: string): ExportMessage | null {
  try {
    const m = JSON.parse(line) as ExportMessage;
    return typeof m === "object" && m !== null && "type" in m ? m : null;
  } catch {
    return null;
  }
}
