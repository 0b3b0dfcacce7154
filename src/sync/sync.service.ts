// The running sync engine: watcher hints aggregated per dataset and debounced, files left alone until they
// stop changing, one reconcile at a time, a full reconcile at start and every N minutes.
import type { AppContext } from "../context.ts";
import { log } from "../log.ts";
import { reconcileScopes } from "./reconcile.ts";
import type { SyncSummary } from "./summary.ts";
import { watchTree, type WatchHint } from "./watcher.ts";
import { watcherBroken } from "./sync.status.ts";
import type { FileEntry } from "./walk.ts";

/** The sync engine as tests and the server drive it. */
export interface SyncService {
  /** Stops the watcher and timers; a reconcile in progress stops after the dataset it is on (the next start's full reconcile finishes it). */
  stop(): Promise<void>;
  /** Asks for a full reconcile and resolves with its summary. */
  scanAll(): Promise<SyncSummary>;
  /** Resolves when nothing is pending or running (tests and benchmarks). */
  idle(): Promise<void>;
  /** Called after every reconcile run (tests and benchmarks). */
  onRun: ((summary: SyncSummary) => void)[];
}

/** The dataset-level scope a raw event path belongs to: its first `depth` parts, cut before any name that lost bytes. */
export function scopeOf(relPath: string, depth: number): string {
  const parts = relPath.split("/").filter(Boolean).slice(0, depth);
  const bad = parts.findIndex((p) => p.includes("\uFFFD"));
  return (bad < 0 ? parts : parts.slice(0, bad)).join("/");
}

/**
 * The path of a raw event below its dataset folder (stored form), or undefined when the event is at or above the
 * dataset level or names a folder or file whose name lost bytes (it cannot be opened by that name).
 */
export function belowDataset(relPath: string, depth: number): string | undefined {
  const parts = relPath.split("/").filter(Boolean);
  if (parts.length <= depth || parts.some((p) => p.includes("\uFFFD"))) return undefined;
  return parts.slice(depth).join("/");
}

/** Beyond this many named paths in one dataset, walking it whole is simpler and no slower. */
const MAX_NAMED = 256;

/** Starts the sync engine for `serve`: returns the function that stops it. */
export async function startSync(ctx: AppContext): Promise<() => Promise<void>> {
  const service = await createSyncService(ctx);
  return () => service.stop();
}

/** Builds and starts the sync engine; the initial full reconcile runs in the background. `periodMs` overrides reconcile_minutes (tests). */
export async function createSyncService(ctx: AppContext, opts: { periodMs?: number } = {}): Promise<SyncService> {
  const { debounceMs, stableMs, reconcileMinutes, depth, root } = ctx.config;
  const periodMs = opts.periodMs ?? reconcileMinutes * 60_000;
  const maxDelay = Math.max(2000, debounceMs * 10);
  // Per dataset-level scope: when to look, and the paths below the dataset folder named since (null: the whole scope).
  const pending = new Map<string, { first: number; due: number; paths: Set<string> | null }>();
  const seenWriting = new Map<string, { size: number; mtimeMs: number; at: number }>();
  const waiters: { resolve: (s: SyncSummary) => void; reject: (e: unknown) => void }[] = [];
  const onRun: ((s: SyncSummary) => void)[] = [];
  let fullRequested = true;
  let running: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];
  const stopping = new AbortController();
  const { sync: status, metrics } = ctx.services;

  // The earliest moment a file left out in the current run could be stable: when to look again.
  let recheckAt = Infinity;
  const isStable = (datasetPath: string, f: FileEntry): boolean => {
    const now = ctx.clock.now();
    const key = `${datasetPath}/${f.path}`;
    if (now - f.mtimeMs >= stableMs) {
      seenWriting.delete(key);
      return true;
    }
    // A file whose mtime is recent (or in the future: a client's clock) is stable once it stayed the same for stableMs.
    const prev = seenWriting.get(key);
    if (prev && prev.size === f.size && prev.mtimeMs === f.mtimeMs) {
      if (now - prev.at >= stableMs) {
        seenWriting.delete(key);
        return true;
      }
    } else seenWriting.set(key, { size: f.size, mtimeMs: f.mtimeMs, at: now });
    const at = seenWriting.get(key)!.at;
    recheckAt = Math.min(recheckAt, Math.max(now + 10, Math.min(f.mtimeMs, at) + stableMs + 5));
    return false;
  };

  const schedule = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (running) return;
    if (fullRequested) {
      kick();
      return;
    }
    if (pending.size === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      w.forEach((f) => f());
      return;
    }
    const next = Math.min(...[...pending.values()].map((p) => p.due));
    timer = setTimeout(kick, Math.max(0, next - Date.now()));
  };

  const kick = () => {
    if (running || stopped) return;
    running = runOnce().finally(() => {
      running = undefined;
      schedule();
    });
  };

  const runOnce = async () => {
    const now = Date.now();
    let scopes: string[];
    const paths = new Map<string, string[]>();
    const full = fullRequested;
    if (full) {
      fullRequested = false;
      pending.clear();
      scopes = [""];
    } else {
      scopes = [...pending.entries()].filter(([, p]) => p.due <= now).map(([s]) => s);
      for (const s of scopes) {
        // Named paths only ever come from events below a dataset folder, so `s` is that folder.
        const named = pending.get(s)!.paths;
        if (named) paths.set(s, [...named]);
        pending.delete(s);
      }
      if (scopes.length === 0) return;
    }
    // Files that vanished while being written would otherwise stay in the map for ever.
    if (seenWriting.size > 10_000) for (const [k, v] of seenWriting) if (v.at < ctx.clock.now() - 10 * stableMs - 60_000) seenWriting.delete(k);
    try {
      recheckAt = Infinity;
      const summary = await reconcileScopes(ctx, scopes, { isStable, paths, signal: stopping.signal });
      status.reconciled({ at: ctx.clock.now(), ms: summary.ms, full, ok: true });
      metrics.observeReconcile(full, summary.ms / 1000);
      const due = Number.isFinite(recheckAt) ? recheckAt - ctx.clock.now() + Date.now() : Date.now() + stableMs;
      // A dataset looked at by named paths is looked at again by the same paths (the file still being written is one).
      for (const p of summary.retry) {
        const named = paths.get(p);
        if (!pending.has(p)) pending.set(p, { first: Date.now(), due, paths: named ? new Set(named) : null });
      }
      log.debug("reconciled", { scopes: full ? "all" : scopes.length, ms: summary.ms, datasets: summary.datasets, files: summary.files });
      onRun.forEach((f) => f(summary));
      if (full) waiters.splice(0).forEach((w) => w.resolve(summary));
    } catch (e) {
      status.reconciled({ at: ctx.clock.now(), ms: Date.now() - now, full, ok: false });
      log.error("reconcile failed", { error: String((e as Error)?.stack ?? e) });
      if (full) waiters.splice(0).forEach((w) => w.reject(e));
    }
  };

  const onHint = (hint: WatchHint) => {
    metrics.watcherEvent(hint.event);
    const scope = scopeOf(hint.path, depth);
    const below = belowDataset(hint.path, depth);
    const now = Date.now();
    let p = pending.get(scope);
    if (p) p.due = Math.min(now + debounceMs, p.first + maxDelay);
    else pending.set(scope, (p = { first: now, due: now + debounceMs, paths: new Set() }));
    // A change at or above the dataset folder, or at a name that lost bytes, is looked at whole; so are many changes.
    if (below === undefined || (p.paths && p.paths.size >= MAX_NAMED)) p.paths = null;
    else p.paths?.add(below);
    schedule();
  };

  status.watcher = { state: "starting", since: ctx.clock.now() };
  const onError = (e: unknown) => {
    const reason = watcherBroken(e);
    if (reason && !stopped) status.watcher = { state: "failed", since: ctx.clock.now(), reason };
  };
  let closeWatcher: () => Promise<void>;
  try {
    closeWatcher = await watchTree(root, depth, onHint, onError);
  } catch (e) {
    status.watcher = { state: "failed", since: ctx.clock.now(), reason: watcherBroken(e) ?? "it could not start (see the log)" };
    throw e;
  }
  if (status.watcher.state === "starting") status.watcher = { state: "running", since: ctx.clock.now() };
  const interval =
    periodMs > 0
      ? setInterval(() => {
          fullRequested = true;
          schedule();
        }, periodMs)
      : undefined;
  // The first full reconcile starts on the next turn, so listeners attached right after startSync see its changes.
  setImmediate(schedule);

  return {
    onRun,
    async stop() {
      stopped = true;
      stopping.abort();
      if (timer) clearTimeout(timer);
      if (interval) clearInterval(interval);
      await closeWatcher();
      status.watcher = { state: "stopped", since: ctx.clock.now() };
      if (running) await running;
    },
    scanAll() {
      return new Promise<SyncSummary>((resolve, reject) => {
        waiters.push({ resolve, reject });
        fullRequested = true;
        schedule();
      });
    },
    idle() {
      if (!running && !fullRequested && pending.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
