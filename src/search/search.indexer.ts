import type { AppContext } from "../context.ts";
import { log } from "../log.ts";
import { refreshSearchIndex } from "./search.service.ts";

/** A repeating timer behind a seam, so tests can drive the indexer without waiting. */
export interface Ticker {
  every(ms: number, fn: () => void): () => void;
}

/** The real timer: unref'd, so it never keeps the process alive on its own. */
export const systemTicker: Ticker = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return () => clearInterval(t);
  },
};

/**
 * Folds datasets changed by the sync engine or metadata edits into the search indexes in the background, a slice per
 * tick, so a bulk change (a first scan, `mata rebuild`) does not make the next search request pay for all of it.
 * Searches still fold in whatever is left before they read, so results are never stale.
 */
export function startSearchIndexer(ctx: AppContext, opts: { intervalMs?: number; batch?: number; ticker?: Ticker } = {}): () => void {
  const batch = opts.batch ?? 2_000;
  const ticker = opts.ticker ?? systemTicker;
  return ticker.every(opts.intervalMs ?? 500, () => {
    try {
      const t0 = performance.now();
      const n = refreshSearchIndex(ctx, batch);
      const ms = Math.round(performance.now() - t0);
      // Single edits are routine; only bulk work is worth a line at the default level.
      if (n > 0) (n >= 1000 || ms > 200 ? log.info : log.debug)("search index updated", { datasets: n, ms });
    } catch (err) {
      // A busy database or a closing server: the next tick or the next search retries.
      log.warn("search index update failed", { error: String(err) });
    }
  });
}
