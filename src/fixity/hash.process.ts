// Runs the hasher child (hash.child.ts) for a batch of one dataset's files, at low CPU and IO priority.
import { lowPriority } from "../platform/priority.ts";
import { selfCommand } from "../platform/self.ts";
import { HASH_CHILD_ENV, type HashResult, type HashSpec } from "./hash.child.ts";

/** Hashes `files` (dataset-relative stored paths) in a child; resolves with one result per file, in order. */
export async function hashInChild(spec: HashSpec, files: string[], signal: AbortSignal): Promise<HashResult[]> {
  signal.throwIfAborted();
  const proc = Bun.spawn(lowPriority(selfCommand()), {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, [HASH_CHILD_ENV]: "1" },
  });
  const kill = () => proc.kill("SIGKILL");
  signal.addEventListener("abort", kill, { once: true });
  try {
    const stderr = new Response(proc.stderr).text();
    const out = new Response(proc.stdout).text();
    proc.stdin.write(JSON.stringify(spec) + "\n");
    for (const f of files) proc.stdin.write(JSON.stringify(f) + "\n");
    await proc.stdin.end();
    const [text, code] = await Promise.all([out, proc.exited]);
    signal.throwIfAborted();
    const lines = text.split("\n").filter(Boolean);
    if (code !== 0 || lines.length !== files.length) {
      const why = (await stderr).trim().split("\n").slice(-3).join(" | ");
      throw new Error(
        `the fixity hasher ended abnormally (${proc.signalCode ?? `exit code ${code}`}, ${lines.length} of ${files.length} files)${why ? `: ${why.slice(0, 500)}` : ""}`,
      );
    }
    return lines.map((l) => JSON.parse(l) as HashResult);
  } finally {
    signal.removeEventListener("abort", kill);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}
