import path from "node:path";
import type { FileRule } from "../config.ts";
import { lstatOrNull } from "../sync/fs.ts";
import type { AppContext, ContentChange } from "../context.ts";
import { COMMAND_JOB, PLUGIN_JOB, type CommandPayload } from "./command.job.ts";
import type { JobQueue } from "./jobs.service.ts";
import { parsePayload } from "./jobs.repo.ts";

// File times and the job clock come from the same machine; this absorbs timestamp granularity.
const CLOCK_SLACK_MS = 100;

/** A rule with its matcher made once. */
interface CompiledRule {
  index: number;
  rule: FileRule;
  matches: (file: string, datasetId: number) => boolean;
}

/** A glob as a matcher, case-insensitive as well, since scanners write .TIF as often as .tif. */
export function globMatcher(pattern: string): (file: string) => boolean {
  const glob = new Bun.Glob(pattern);
  return (file) => glob.match(file) || glob.match(file.toLowerCase());
}

/** A rule's matcher: its glob, else the files its action's job kind reads in that dataset. */
function matcherOf(ctx: AppContext, queue: JobQueue, rule: FileRule): (file: string, datasetId: number) => boolean {
  if (rule.glob !== undefined) return globMatcher(rule.glob);
  const inputs = rule.action ? queue.kind(rule.action)?.inputs : undefined;
  return inputs ? (file, datasetId) => inputs(file, datasetId, ctx) : () => false;
}

/**
 * Turns content changes into jobs: the dataset's older jobs whose inputs changed are revoked at once (running ones
 * killed) and queued again for the new generation, and every rule matching a changed file queues its action; all
 * of it waits `settleMs` after the last change, so a copy of 2,000 slices ends in one build.
 */
export function rulesListener(ctx: AppContext, queue: JobQueue, settleMs: number): (change: ContentChange) => void {
  const { rules, root } = ctx.config;
  const compiled: CompiledRule[] = rules.map((rule, index) => ({ index, rule, matches: matcherOf(ctx, queue, rule) }));
  return (change) => {
    const { datasetId, generation } = change;
    // What a rule's command wrote into its own dataset (its log beside its input) is its output: it neither stops nor
    // re-triggers that command, else a command writing a file its own glob matches would restart itself forever.
    const ownOutput = (index: number): ((file: string) => boolean) => {
      const run = queue.repo.lastRun(dedupeKey(COMMAND_JOB, datasetId, { rule: index }));
      if (!run) return () => false;
      const end = (run.finished_at ?? Date.now()) + CLOCK_SLACK_MS;
      // The files it was run for stay inputs: a person saving one of them while it runs gets a new run.
      const ranFor = new Set((parsePayload(run.payload) as Partial<CommandPayload>)?.files ?? []);
      return (file) => {
        if (ranFor.has(file)) return false;
        const mtime = lstatOrNull(path.join(root, change.path, file))?.mtimeMs;
        return mtime !== undefined && mtime >= run.started_at && mtime <= end;
      };
    };
    const inputsOf = (c: CompiledRule) => {
      const output = c.rule.command ? ownOutput(c.index) : () => false;
      return {
        changed: change.changed.filter((f) => c.matches(f, datasetId) && !output(f)),
        removed: change.removed.filter((f) => c.matches(f, datasetId)),
      };
    };
    const inputs = new Map(compiled.map((c) => [c.index, inputsOf(c)]));
    const touched = (c: CompiledRule) => inputs.get(c.index)!.changed.length > 0 || inputs.get(c.index)!.removed.length > 0;
    // A job is stopped only when the change touches its inputs: a saved note never restarts an hour-long build.
    const revoked = queue.revokeStale(datasetId, generation, (job) => {
      const payload = parsePayload(job.payload) as Partial<CommandPayload>;
      const own = compiled.filter((c) => (job.kind === COMMAND_JOB || job.kind === PLUGIN_JOB ? c.index === payload?.rule : c.rule.action === job.kind));
      // A kind no rule names but that says what it reads (an export) stops only for those files, never for its own output.
      const reads = own.length === 0 && job.kind !== COMMAND_JOB ? queue.kind(job.kind)?.inputs : undefined;
      if (reads) return [...change.changed, ...change.removed].some((f) => reads(f, datasetId, ctx));
      return own.length === 0 || own.some(touched);
    });
    const wanted = new Map<string, { kind: string; payload: unknown }>();
    const want = (kind: string, key: string, payload: unknown) => {
      const prev = wanted.get(key);
      wanted.set(key, { kind, payload: prev ? mergePayload(prev.payload, payload) : payload });
    };
    for (const job of revoked) {
      const payload = parsePayload(job.payload);
      want(job.kind, dedupeKey(job.kind, datasetId, payload), payload);
    }
    for (const c of compiled) {
      const { index, rule } = c;
      const { changed, removed } = inputs.get(index)!;
      // A built-in action looks at the whole dataset again: one job per dataset and action, whatever changed.
      if (rule.action && queue.kind(rule.action) && (changed.length > 0 || removed.length > 0)) want(rule.action, dedupeKey(rule.action, datasetId, {}), {});
      if (rule.command && changed.length > 0) {
        const payload: CommandPayload = { rule: index, command: rule.command, timeoutSeconds: rule.timeoutSeconds, files: changed };
        want(COMMAND_JOB, dedupeKey(COMMAND_JOB, datasetId, payload), payload);
      }
      if (rule.plugin && changed.length > 0) {
        const payload = { rule: index, files: changed };
        want(PLUGIN_JOB, dedupeKey(PLUGIN_JOB, datasetId, payload), payload);
      }
    }
    for (const [key, { kind, payload }] of wanted) {
      queue.enqueue(kind, { datasetId, generation, payload, delayMs: settleMs, dedupeKey: key, merge: (queued) => mergePayload(queued, payload) });
    }
  };
}

/** One queued job per dataset and kind (and rule, for commands): later changes fold into it. */
function dedupeKey(kind: string, datasetId: number, payload: unknown): string {
  const rule = (payload as Partial<CommandPayload>)?.rule;
  return rule === undefined ? `${kind}:${datasetId}` : `${kind}:${datasetId}:${rule}`;
}

/** Unites the changed-file lists of two command payloads; other payloads are replaced by the newer one. */
function mergePayload(older: unknown, newer: unknown): unknown {
  const a = older as Partial<CommandPayload>;
  const b = newer as Partial<CommandPayload>;
  if (Array.isArray(a?.files) && Array.isArray(b?.files)) return { ...b, files: [...new Set([...a.files, ...b.files])].sort() };
  return newer;
}
