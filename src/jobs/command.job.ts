import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import path from "node:path";
import { fsPath, isEscapedName, nameToBytes } from "../sync/names.ts";
import { eventsRepo } from "../events/events.repo.ts";
import type { JobHandler, JobKind } from "./job.types.ts";

/** The job kind that runs a rule's external command. */
export const COMMAND_JOB = "command";
/** Above previews (10): a dataset is analysed before its previews are built. */
const COMMAND_PRIORITY = 20;

/** The rule-command job kind, registered at start-up with the other features' kinds. */
export function commandJob(): JobKind {
  return {
    name: COMMAND_JOB,
    priority: COMMAND_PRIORITY,
    handler: (job, run) => commandHandler((id) => run.ctx.services.jobs.queue.repo.datasetLocation(id))(job, run),
  };
}

/** What a command job carries: the rule's argv and timeout and the changed files it was queued for. */
export interface CommandPayload {
  rule: number;
  command: string[];
  timeoutSeconds: number;
  files: string[];
}

/** Reads the dataset folder a command runs in; kept apart so the handler has no SQL of its own. */
export type DatasetLocator = (datasetId: number) => { path: string; present: boolean } | null;

/**
 * Runs a file-type rule's command in the dataset folder as the folder's owner, in a process group of its own, with MATA_DATASET_PATH set
 * and the changed files as `./path` arguments; a non-zero exit, a timeout or a missing program fails the job and is
 * logged on the dataset, never taking the server down, and nothing the command started outlives it.
 */
export function commandHandler(locate: DatasetLocator): JobHandler {
  return async (job, run) => {
    const p = job.payload as CommandPayload;
    if (!Array.isArray(p?.command) || p.command.length === 0) throw new Error("the rule's command is empty");
    if (job.datasetId === null) throw new Error("a rule command needs a dataset");
    const ds = locate(job.datasetId);
    if (!ds || !ds.present) return;
    // A folder whose name is not UTF-8 cannot be given to spawn as text: it is held open and entered through /proc.
    const held = isEscapedName(ds.path) ? openDir(fsPath(run.ctx.config.root, ds.path)) : undefined;
    if (held === null) return;
    const cwd = held === undefined ? path.join(run.ctx.config.root, ds.path) : `/proc/${process.pid}/fd/${held}`;
    const started = run.ctx.clock.now();
    const fail = (message: string): never => {
      eventsRepo(run.ctx.db).record(run.ctx.clock.now(), "rule.failed", job.datasetId, { rule: p.rule, command: p.command, message });
      throw new Error(message);
    };
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      // `setsid` makes the command the leader of its own process group, so a timeout or a cancel kills whatever it
      // started too; files are given as `./name`, so a file named `--checkpoint-action=...` is never an option.
      const as = runAs(held ?? cwd);
      proc = Bun.spawn([...as.argv, ...commandLine(p.command, p.files)], {
        cwd,
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
        env: { ...process.env, ...as.env, MATA_DATASET_PATH: cwd, MATA_DATASET_ID: String(job.datasetId) },
      });
    } catch (e) {
      if (held !== undefined) closeSync(held);
      return fail(`rule command ${p.command[0]} could not start: ${(e as Error).message}`);
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
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, p.timeoutSeconds * 1000);
    const kill = killGroup;
    run.signal.addEventListener("abort", kill, { once: true });
    try {
      const code = await proc.exited;
      run.signal.throwIfAborted();
      if (timedOut) fail(`rule command ${p.command[0]} timed out after ${p.timeoutSeconds} s`);
      if (code !== 0) {
        const tail = (await stderrText).trim().split("\n").slice(-3).join(" | ").slice(0, 500);
        fail(`rule command ${p.command[0]} exited with ${proc.signalCode ?? `code ${code}`}${tail ? `: ${tail}` : ""}`);
      }
      eventsRepo(run.ctx.db).record(run.ctx.clock.now(), "rule.done", job.datasetId, {
        rule: p.rule,
        command: p.command,
        files: p.files.length,
        ms: run.ctx.clock.now() - started,
      });
    } finally {
      if (held !== undefined) closeSync(held);
      clearTimeout(timer);
      run.signal.removeEventListener("abort", kill);
      // Whatever the command left running in its group (a forgotten background child) ends with it.
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // nothing left
      }
    }
  };
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

/** An open descriptor on a dataset folder, or null when it is gone (the scan will say so). */
function openDir(abs: string | Buffer): number | null {
  try {
    return openSync(abs, "r");
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
