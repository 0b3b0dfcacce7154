// Starting a rule's command as the owner of its dataset folder: the one place Mata spawns code that a lab configured,
// so it is kept apart from the job (which records outcomes) and can run in the privileged helper (src/privilege/).
import { closeSync, constants, fstatSync, statSync } from "node:fs";
import { openShareFile } from "../platform/share-root.ts";
import path from "node:path";
import { fsPath, isEscapedName, nameToBytes } from "../sync/names.ts";

/** What running one rule command needs: the folder (relative to the root), the command and the changed files. */
export interface CommandRequest {
  /** The dataset folder, relative to the share root, and the dataset's uid (the helper checks they still match). */
  dataset: { path: string; uid: string };
  datasetId: number;
  /** The rule's index in the configuration; the helper runs its own configuration's command for it. */
  rule: number;
  command: string[];
  timeoutSeconds: number;
  files: string[];
  /** Text written to the command's stdin (a plug-in's JSON request); none: stdin is closed. */
  input?: string;
  /** Capture stdout up to this many bytes (a plug-in's answer); a command printing more is killed. */
  stdoutCap?: number;
}

/** The most a plug-in may print (its JSON tags); more is a failure, not a buffer that grows for ever. */
export const PLUGIN_STDOUT_CAP = 1024 * 1024;
/** The most a plug-in's request may hold (the dataset and up to 10,000 file names). */
export const PLUGIN_INPUT_CAP = 4 * 1024 * 1024;

/** How a command ended: its exit, or why it never ran. */
export type CommandOutcome =
  | { kind: "exited"; code: number; signal: string | null; timedOut: boolean; stderrTail: string; stdout?: string; stdoutOverflow?: boolean }
  | { kind: "not-started"; message: string }
  | { kind: "gone" };

/**
 * Runs a rule command in the dataset folder as the folder's owner, in a process group of its own, with
 * MATA_DATASET_PATH set and the changed files as `./path` arguments; aborting or the timeout kills the whole group,
 * and nothing it started outlives it.
 */
export async function runRuleCommand(root: string, req: CommandRequest, signal: AbortSignal): Promise<CommandOutcome> {
  // A folder whose name is not UTF-8 cannot be given to spawn as text: it is held open and entered through /proc.
  const held = isEscapedName(req.dataset.path) ? openDir(fsPath(root, req.dataset.path)) : undefined;
  if (held === null) return { kind: "gone" };
  const cwd = held === undefined ? path.join(root, req.dataset.path) : `/proc/${process.pid}/fd/${held}`;
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    // `setsid` makes the command the leader of its own process group, so a timeout or a cancel kills whatever it
    // started too; files are given as `./name`, so a file named `--checkpoint-action=...` is never an option.
    const as = runAs(held ?? cwd);
    proc = Bun.spawn([...as.argv, ...commandLine(req.command, req.files)], {
      cwd,
      stdin: req.input !== undefined ? new Blob([req.input]) : "ignore",
      stdout: req.stdoutCap !== undefined ? "pipe" : "ignore",
      stderr: "pipe",
      // A held folder's /proc path names this process's descriptor, which the command (another account) cannot open:
      // it gets its own working directory's link instead, which is that folder.
      env: { ...process.env, ...as.env, MATA_DATASET_PATH: held === undefined ? cwd : "/proc/self/cwd", MATA_DATASET_ID: String(req.datasetId) },
    });
  } catch (e) {
    if (held !== undefined) closeSync(held);
    return { kind: "not-started", message: (e as Error).message };
  }
  const stderrText = new Response(proc.stderr as ReadableStream).text();
  let timedOut = false;
  const killGroup = () => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      proc.kill("SIGKILL"); // the group is gone already (or setsid never ran): the process itself
    }
  };
  let stdoutOverflow = false;
  const cap = req.stdoutCap;
  const stdoutText =
    cap === undefined
      ? Promise.resolve(undefined)
      : readCapped(proc.stdout as ReadableStream<Uint8Array>, cap, () => {
          stdoutOverflow = true;
          killGroup();
        });
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, req.timeoutSeconds * 1000);
  signal.addEventListener("abort", killGroup, { once: true });
  if (signal.aborted) killGroup();
  try {
    const code = await proc.exited;
    const tail = code === 0 ? "" : (await stderrText).trim().split("\n").slice(-3).join(" | ").slice(0, 500);
    const captured = cap === undefined ? {} : { stdout: (await stdoutText) ?? "", stdoutOverflow };
    return { kind: "exited", code, signal: proc.signalCode === null ? null : String(proc.signalCode), timedOut, stderrTail: tail, ...captured };
  } finally {
    if (held !== undefined) closeSync(held);
    clearTimeout(timer);
    signal.removeEventListener("abort", killGroup);
    // Whatever the command left running in its group (a forgotten background child) ends with it.
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // nothing left
    }
  }
}

/** Reads a stream as text up to `cap` bytes; past that it calls `over` once and gives undefined. */
async function readCapped(stream: ReadableStream<Uint8Array>, cap: number, over: () => void): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString("utf8");
    size += value.length;
    if (size > cap) {
      over();
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
}

/**
 * Who a command runs as: the unix owner of its dataset folder (the dataset's owner; with ACLs on, Mata keeps the
 * tree chowned to them), so a rule never acts with root's reach on files its owner could not touch. Mata running
 * unprivileged, or a folder owned by root, runs it as Mata. `setpriv` changes ids after the spawn entered the folder.
 */
export function runAs(folder: string | number): { argv: string[]; env: Record<string, string> } {
  const st = typeof folder === "number" ? fstatSync(folder) : statSync(folder);
  if (process.getuid?.() !== 0 || st.uid === 0) return { argv: [], env: {} };
  const entry = Bun.spawnSync(["getent", "passwd", String(st.uid)], { stdout: "pipe", stderr: "ignore" });
  const fields = entry.exitCode === 0 ? entry.stdout.toString().trim().split(":") : [];
  // A uid with no account still runs as that uid, with no supplementary groups.
  const groups = fields.length >= 7 ? "--init-groups" : "--clear-groups";
  const name = fields[0] || String(st.uid);
  return {
    argv: ["setpriv", `--reuid=${st.uid}`, `--regid=${fields.length >= 7 ? fields[3] : st.gid}`, groups, "--"],
    env: { HOME: fields[5] || "/", USER: name, LOGNAME: name },
  };
}

/** An open descriptor on a dataset folder (beneath the root, no symlink on the way), or null when it is gone or swapped. */
function openDir(abs: string | Buffer): number | null {
  try {
    return openShareFile(abs, constants.O_DIRECTORY);
  } catch {
    return null;
  }
}

/**
 * The argv of a rule command: `setsid`, the command, and the changed files as `./name`. A stored name that is not
 * UTF-8 (src/sync/names.ts) cannot be handed to spawn as text, so then bash rebuilds every file argument from
 * `$'\xNN'` quotes of its exact bytes and execs the command with them.
 */
export function commandLine(command: string[], files: string[]): string[] {
  const args = files.map((f) => `./${f}`);
  if (!args.some(isEscapedName)) return ["setsid", "--", ...command, ...args];
  const quoted = args.map((a) => `$'${[...nameToBytes(a)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}'`);
  return ["setsid", "--", "bash", "-c", `exec "$@" ${quoted.join(" ")}`, "mata-rule", ...command];
}
