// Running one export child (at the tiler's priority: someone asked for it and waits), as the dataset folder's owner when Mata runs as root (so the
// files are theirs and the folder's default ACLs apply), killed at once on a cancel with its temp folder removed.
import { closeSync, constants } from "node:fs";
import { runAs } from "../jobs/command.run.ts";
import { runBuildChild } from "../platform/child-io.ts";
import { selfCommand } from "../platform/self.ts";
import { openShareFile } from "../platform/share-root.ts";
import { openablePath } from "../sync/names.ts";
import { EXPORT_CHILD_ENV, EXPORT_CLEANUP_ENV, removeTemp, type ExportMessage, type ExportSpec } from "./export.child.ts";

const children = new Set<number>();

/**
 * Bun's allocator (mimalloc) hands freed memory back to the kernel 10 ms after a free by default, so each slice read
 * and each compressed chunk takes fresh pages, and a first touch costs ~4 ns a byte on a VM (half the export's CPU
 * time went to page faults). The child keeps what it freed for its next slices instead: measured, less than half the
 * page faults and a third less CPU, for ~50 MB more peak memory.
 */
const KEEP_FREED_MEMORY = { MIMALLOC_PURGE_DELAY: "-1" };

/** What an export child reports when it wrote its volume. */
export type ExportDone = Extract<ExportMessage, { type: "done" }>;

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

/**
 * Removes what a killed child left, with the child's own rights: as root, a second short child run as the owner
 * does it, so root never walks a tree a share user can change beneath it.
 */
async function cleanupAs(as: { argv: string[]; env: Record<string, string> }, spec: ExportSpec): Promise<void> {
  if (as.argv.length === 0) return removeTemp(spec);
  const proc = Bun.spawn([...as.argv, ...selfCommand()], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
    env: { ...process.env, ...as.env, [EXPORT_CHILD_ENV]: "1", [EXPORT_CLEANUP_ENV]: JSON.stringify(spec) },
  });
  await proc.exited;
}

/**
 * Exports one volume in a child process and resolves with its report; aborting kills it (and, run as the owner, its
 * whole process group) and removes its temp folder.
 */
export async function exportInChild(spec: ExportSpec, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<ExportDone> {
  signal.throwIfAborted();
  const as = ownerPrefix(spec.datasetPath);
  const group = as.argv.length > 0;
  return runBuildChild<Omit<ExportDone, "type" | "maxRss">>({
    // As the owner it runs in a process group of its own (like a rule command), which a cancel kills whole.
    argv: [...(group ? ["setsid", "--"] : []), ...as.argv, ...selfCommand()],
    env: { ...process.env, ...as.env, [EXPORT_CHILD_ENV]: "1", ...KEEP_FREED_MEMORY },
    spec,
    what: "the export process",
    file: spec.file,
    children,
    signal,
    onProgress,
    group,
    // A killed child leaves its temp folder; a finished one has renamed it away.
    cleanup: () => cleanupAs(as, spec),
  }) as Promise<ExportDone>;
}
