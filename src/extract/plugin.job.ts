// External metadata plug-ins (README "Metadata plug-ins"): a `[[rules]]` entry with `plugin = [argv]`, `glob` and
// `subtree`. The plug-in runs like a rule command (src/jobs/command.run.ts: as the dataset folder's owner, in its
// folder, in a process group of its own, killed at `timeout_seconds`), reads one JSON request on stdin and prints
// `{ "tags": [{ "key", "value", "children" }] }` on stdout, which is written under its subtree. Whatever goes wrong
// is recorded on the dataset and fails this job only.
import type { AppContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { PLUGIN_STDOUT_CAP } from "../jobs/command.run.ts";
import { PLUGIN_JOB } from "../jobs/command.job.ts";
import { RunAgain, type JobHandler, type JobKind } from "../jobs/job.types.ts";
import { globMatcher } from "../jobs/rules.ts";
import { parseTagTree } from "../tags/tag-validate.ts";
import type { TagNode } from "../tags/tag.types.ts";
import { extractRepo } from "./extract.repo.ts";
import { writeOwnedTags } from "./extract.service.ts";

/** As rule commands: a dataset is analysed before its previews are built. */
const PLUGIN_PRIORITY = 20;
/** Who the audit log names for a plug-in's tags. */
export const PLUGIN_ACTOR = "mata:plugin";
/** The version of the request a plug-in reads; a plug-in may refuse one it does not know. */
export const PLUGIN_PROTOCOL = 1;
/** The most file names a request lists (the changed ones always come whole, as arguments too). */
const MAX_LISTED_FILES = 10_000;

/** What a plug-in job carries: its rule's index and the changed files it was queued for. */
export interface PluginPayload {
  rule: number;
  files: string[];
}

/** What a plug-in reads on stdin (documented in README and scripts/plugins/). */
export interface PluginRequest {
  protocol: number;
  dataset: { id: number; uid: string; path: string; title: string; owner: string | null };
  subtree: string;
  /** Files added or changed since its last run, relative to the dataset folder (its working directory). */
  changed: string[];
  /** Every file of the dataset its rule's glob matches (at most 10,000). */
  files: string[];
}

/** The plug-in job kind, registered with the other features' kinds (src/services.ts). */
export function pluginJob(): JobKind {
  return { name: PLUGIN_JOB, priority: PLUGIN_PRIORITY, handler: pluginHandler() };
}

/** Parses a plug-in's stdout into a tag tree, or throws a message saying what is wrong with it. */
export function parsePluginAnswer(stdout: string): TagNode[] {
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`printed no valid JSON (${(e as Error).message})`);
  }
  const tags = (answer as { tags?: unknown } | null)?.tags;
  if (typeof answer !== "object" || answer === null || Array.isArray(answer) || !Array.isArray(tags))
    throw new Error(`printed JSON without a "tags" list (expected { "tags": [{ "key", "value", "children" }] })`);
  try {
    return parseTagTree(tags);
  } catch (e) {
    throw new Error(`printed tags that were refused: ${e instanceof AppError ? e.message : String(e)}`);
  }
}

function pluginHandler(): JobHandler {
  return async (job, run) => {
    const { ctx, signal } = run;
    const p = job.payload as Partial<PluginPayload>;
    if (job.datasetId === null) throw new Error("a plug-in job needs a dataset");
    const rule = typeof p?.rule === "number" ? ctx.config.rules[p.rule] : undefined;
    if (!rule?.plugin || !rule.subtree || !rule.glob) throw new Error(`rule ${p?.rule} is not a plug-in rule (the configuration changed since it was queued)`);
    const repo = extractRepo(ctx.db);
    const ds = repo.dataset(job.datasetId);
    if (!ds || ds.state !== "present") return;
    const name = rule.plugin[0]!;
    const subtree = rule.subtree;
    const datasetId = job.datasetId;
    const fail = (message: string): never => {
      const text = `plug-in ${name}: ${message}`;
      recordFailure(ctx, datasetId, subtree, text);
      throw new Error(text);
    };
    const matches = globMatcher(rule.glob);
    const changed = Array.isArray(p.files) ? p.files : [];
    const request: PluginRequest = {
      protocol: PLUGIN_PROTOCOL,
      dataset: { id: ds.id, uid: ds.uid, path: ds.path, title: ds.title, owner: ds.owner },
      subtree,
      changed,
      files: repo
        .files(datasetId)
        .filter((f) => !f.startsWith(".mata/") && matches(f))
        .slice(0, MAX_LISTED_FILES),
    };
    const started = ctx.clock.now();
    const outcome = await ctx.services.privileged.runCommand(
      {
        dataset: { path: ds.path, uid: ds.uid },
        datasetId,
        rule: p.rule!,
        command: rule.plugin,
        timeoutSeconds: rule.timeoutSeconds,
        files: changed,
        input: JSON.stringify(request),
        stdoutCap: PLUGIN_STDOUT_CAP,
      },
      signal,
    );
    signal.throwIfAborted();
    if (outcome.kind === "gone") return;
    if (outcome.kind === "not-started") return fail(`could not start: ${outcome.message}`);
    if (outcome.stdoutOverflow) fail(`printed more than ${PLUGIN_STDOUT_CAP / 1048576} MiB`);
    if (outcome.timedOut) fail(`timed out after ${rule.timeoutSeconds} s`);
    if (outcome.signal === "SIGTERM" || outcome.signal === "SIGINT" || outcome.signal === "SIGHUP")
      throw new RunAgain(`plug-in ${name} was stopped by ${outcome.signal}`, 5_000);
    if (outcome.code !== 0) fail(`exited with ${outcome.signal ?? `code ${outcome.code}`}${outcome.stderrTail ? `: ${outcome.stderrTail}` : ""}`);
    if (outcome.stdout === undefined) fail("its answer was not read (the request was too large to send)");
    let tags: TagNode[];
    try {
      tags = parsePluginAnswer(outcome.stdout!);
    } catch (e) {
      return fail((e as Error).message);
    }
    try {
      writeOwnedTags(ctx, PLUGIN_ACTOR, datasetId, [{ source: subtree, tree: tags.length > 0 ? { key: subtree, value: "", children: tags } : null }]);
    } catch (e) {
      // Over the dataset's limits once merged (too many tags, too deep): the plug-in's answer, not Mata, is at fault.
      if (e instanceof AppError && e.status < 500) return fail(`printed tags that were refused: ${e.message}`);
      throw e;
    }
    repo.succeed(datasetId, subtree);
    eventsRepo(ctx.db).record(ctx.clock.now(), "plugin.done", datasetId, { rule: p.rule, subtree, tags: tags.length, ms: ctx.clock.now() - started });
  };
}

/** A plug-in's failure, on the dataset (its page and detail JSON) and in the event log; never more than that. */
function recordFailure(ctx: AppContext, datasetId: number, subtree: string, message: string): void {
  const now = ctx.clock.now();
  ctx.db.transaction(() => {
    extractRepo(ctx.db).fail(datasetId, subtree, message, now);
    eventsRepo(ctx.db).record(now, "plugin.failed", datasetId, { subtree, message });
  })();
}
