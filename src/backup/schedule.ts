// Scheduled online backups (`[backup] every`, `keep`, `folder`): `serve` writes a consistent copy of the database on
// a schedule and keeps the newest few. Each copy is made by `mata backup` in a child process at low CPU and IO
// priority, so a large VACUUM INTO never holds up the server's own requests.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../context.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { log } from "../log.ts";
import { selfCommand } from "../platform/self.ts";
import { lowPriority } from "../platform/priority.ts";

/** Copies are named by their UTC time, so the names sort by age and nothing else in the folder is ever removed. */
const NAME = /^mata-(\d{4})-(\d\d)-(\d\d)T(\d\d)(\d\d)(\d\d)Z\.db$/;

/** The file name of a copy made at `ms`. */
export function backupName(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-05T03:11:00.000Z
  return `mata-${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z.db`;
}

/** The scheduled copies in `folder`, oldest first. */
export function listBackups(folder: string): { name: string; at: number }[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, m: NAME.exec(name) }))
    .filter((e) => e.m)
    .map(({ name, m }) => ({ name, at: Date.UTC(+m![1]!, +m![2]! - 1, +m![3]!, +m![4]!, +m![5]!, +m![6]!) }))
    .sort((a, b) => a.at - b.at);
}

/** Removes all but the newest `keep` copies; returns the names removed. */
export function rotateBackups(folder: string, keep: number): string[] {
  const all = listBackups(folder);
  const old = all.slice(0, Math.max(0, all.length - keep));
  for (const b of old) rmSync(path.join(folder, b.name), { force: true });
  return old.map((b) => b.name);
}

/** Removes half-written copies (`mata backup` writes NAME.tmp-PID, then renames) left by a stop or a crash. */
function removeTemps(folder: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const n of names) if (/^mata-.*\.db\.tmp-\d+$/.test(n)) rmSync(path.join(folder, n), { force: true });
}

/** The command that makes one copy: `mata backup` at nice 10 and the lowest best-effort IO priority where available. */
function backupCommand(state: string, file: string): string[] {
  return lowPriority([...selfCommand(), "backup", file, "--state", state]);
}

/**
 * Starts the schedule: a copy when the newest is `every` old (at once when there is none or it is overdue), then
 * every `every`; each success rotates the folder. Outcomes are recorded as events (`backup.done`, `backup.failed`).
 */
export function startBackups(ctx: AppContext): () => Promise<void> {
  const schedule = ctx.config.backup;
  if (!schedule) return async () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: ReturnType<typeof Bun.spawn> | null = null;
  let stopped = false;

  const next = () => {
    if (stopped) return;
    const newest = listBackups(schedule.folder).at(-1)?.at;
    const wait = newest === undefined ? 0 : Math.max(0, newest + schedule.everyMs - ctx.clock.now());
    timer = setTimeout(() => void once(), Math.min(wait, 2 ** 31 - 1));
  };

  const once = async () => {
    const started = ctx.clock.now();
    const file = path.join(schedule.folder, backupName(started));
    const events = eventsRepo(ctx.db);
    try {
      mkdirSync(schedule.folder, { recursive: true, mode: 0o700 });
      removeTemps(schedule.folder);
      running = Bun.spawn(backupCommand(ctx.config.state, file), {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, MATA_LOG: "warn" },
      });
      const [out, err, code] = await Promise.all([
        new Response(running.stdout as ReadableStream).text(),
        new Response(running.stderr as ReadableStream).text(),
        running.exited,
      ]);
      running = null;
      if (stopped) return;
      if (code !== 0) throw new Error((err || out).trim().split("\n").slice(-2).join(" | ") || `mata backup exited with ${code}`);
      const removed = rotateBackups(schedule.folder, schedule.keep);
      const bytes = Number(/backed up (\d+) bytes/.exec(out)?.[1] ?? 0);
      events.record(ctx.clock.now(), "backup.done", null, { file, bytes, ms: ctx.clock.now() - started, removed });
      log.info("backup written", { file, bytes, removed: removed.length });
    } catch (e) {
      running = null;
      if (stopped) return;
      events.record(ctx.clock.now(), "backup.failed", null, { file, message: (e as Error).message });
      log.error("scheduled backup failed", { file, error: (e as Error).message });
      // A failed copy is tried again after a tenth of the interval (at least a minute), not a whole interval later.
      timer = setTimeout(() => void once(), Math.min(Math.max(60_000, schedule.everyMs / 10), 2 ** 31 - 1));
      return;
    }
    next();
  };

  next();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    const r = running;
    if (r) {
      r.kill("SIGKILL");
      await r.exited;
      removeTemps(schedule.folder);
    }
  };
}
