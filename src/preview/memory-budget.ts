// Preview builds admitted by the memory they will need, not only by the queue's count: two 8192^2 builds at once must
// not take a lab server's memory because `job_concurrency` allows two jobs.
import { availableParallelism } from "node:os";
import { TILE } from "./layout.ts";
import { brickCount } from "./bricks.ts";
import { planLevels } from "./pyramid.ts";
import { DTYPE_BYTES, type DType } from "./readers/reader.types.ts";

/** The runtime, libvips and the encodes in flight, whatever the volume. */
const BASE = 160 * 2 ** 20;

/** A brick thread's own runtime heap and its encodes in flight, besides its brick. */
const THREAD = 32 * 2 ** 20;

/**
 * A build's peak memory, from its geometry as pyramid.ts spends it: one source slice and its windowed copy (twice, as
 * the next slice is read before the last is collected), and per brick thread its runtime and one brick of up to
 * 256^3 bytes. Slabs live in scratch files, so neither the slice size nor the depth adds more.
 */
export function estimateBuildMemory(v: { width: number; height: number; depth: number; dtype: string }, threads = availableParallelism()): number {
  const plane = v.width * v.height;
  const bricks = brickCount(planLevels(v.width, v.height, v.depth, v.depth > 1));
  const brick = Math.min(TILE, v.width) * Math.min(TILE, v.height) * Math.min(TILE, v.depth);
  return BASE + 2 * plane * ((DTYPE_BYTES[v.dtype as DType] ?? 8) + 1) + Math.min(Math.max(1, threads), bricks) * (THREAD + brick);
}

/**
 * Admits builds in the order they ask while their estimates fit the budget together; one larger than the whole
 * budget runs alone (it would never fit otherwise).
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting: { bytes: number; admit: () => void }[] = [];

  constructor(readonly total: number) {}

  /** Waits until `bytes` fit (or the signal aborts), then holds them until the returned release is called. */
  async acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const want = Math.min(bytes, this.total);
    signal?.throwIfAborted();
    if (this.waiting.length > 0 || this.used + want > this.total) {
      await new Promise<void>((resolve, reject) => {
        const entry = { bytes: want, admit: resolve };
        this.waiting.push(entry);
        signal?.addEventListener(
          "abort",
          () => {
            const i = this.waiting.indexOf(entry);
            if (i < 0) return;
            this.waiting.splice(i, 1);
            this.admitWaiting();
            reject(signal.reason);
          },
          { once: true },
        );
      });
    } else this.used += want;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= want;
      this.admitWaiting();
    };
  }

  /** Bytes held by running builds now. */
  get inUse(): number {
    return this.used;
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.total) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.admit();
    }
  }
}
