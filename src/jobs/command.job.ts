import { eventsRepo } from "../events/events.repo.ts";
import { RunAgain, type JobHandler, type JobKind } from "./job.types.ts";

/** The job kind that runs a rule's external command. */
export const COMMAND_JOB = "command";
/** The job kind that runs a plug-in rule (src/extract/plugin.job.ts); its payload has a rule index like a command's. */
export const PLUGIN_JOB = "plugin";
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
export type DatasetLocator = (datasetId: number) => { path: string; uid: string; present: boolean } | null;

/**
 * Runs a file-type rule's command (src/jobs/command.run.ts, through the privileged side: it runs as the folder's
 * owner); a non-zero exit, a timeout or a missing program fails the job and is logged on the dataset, never taking
 * the server down.
 */
export function commandHandler(locate: DatasetLocator): JobHandler {
  return async (job, run) => {
    const p = job.payload as CommandPayload;
    if (!Array.isArray(p?.command) || p.command.length === 0) throw new Error("the rule's command is empty");
    if (job.datasetId === null) throw new Error("a rule command needs a dataset");
    const ds = locate(job.datasetId);
    if (!ds || !ds.present) return;
    const started = run.ctx.clock.now();
    const fail = (message: string): never => {
      eventsRepo(run.ctx.db).record(run.ctx.clock.now(), "rule.failed", job.datasetId, { rule: p.rule, command: p.command, message });
      throw new Error(message);
    };
    const request = {
      dataset: { path: ds.path, uid: ds.uid },
      datasetId: job.datasetId,
      rule: p.rule,
      command: p.command,
      timeoutSeconds: p.timeoutSeconds,
      files: p.files,
    };
    const outcome = await run.ctx.services.privileged.runCommand(request, run.signal);
    run.signal.throwIfAborted();
    if (outcome.kind === "gone") return;
    if (outcome.kind === "not-started") return fail(`rule command ${p.command[0]} could not start: ${outcome.message}`);
    if (outcome.timedOut) fail(`rule command ${p.command[0]} timed out after ${p.timeoutSeconds} s`);
    // Stopped from outside (a service stop signalling every process, a shutdown racing this exit), not failed by itself:
    // it runs again, at the next start if the server is stopping. Mata's own stops use SIGKILL.
    if (outcome.signal === "SIGTERM" || outcome.signal === "SIGINT" || outcome.signal === "SIGHUP")
      throw new RunAgain(`rule command ${p.command[0]} was stopped by ${outcome.signal}`, 5_000);
    if (outcome.code !== 0)
      fail(`rule command ${p.command[0]} exited with ${outcome.signal ?? `code ${outcome.code}`}${outcome.stderrTail ? `: ${outcome.stderrTail}` : ""}`);
    eventsRepo(run.ctx.db).record(run.ctx.clock.now(), "rule.done", job.datasetId, {
      rule: p.rule,
      command: p.command,
      files: p.files.length,
      ms: run.ctx.clock.now() - started,
    });
  };
}
