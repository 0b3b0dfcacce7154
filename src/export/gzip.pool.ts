// A few gzip workers for the export child: compressing 64^3 chunks is most of an export's CPU, so it runs on the
// other cores while the main thread reads and cuts; with one core it runs in place.
import { availableParallelism } from "node:os";
import type { GzipRequest } from "./gzip.worker.ts";

/**
 * gzip level 1 by libdeflate (built into Bun): on CT chunks it is faster than zlib's level 1 and its output a third
 * smaller (as small as zlib's level 6), which the disk then writes and syncs less of; any gzip reader reads it.
 */
export const GZIP = { level: 1, library: "libdeflate" } as const;

/** Compresses chunks (gzip level 1, libdeflate's: see GZIP; read by every Zarr reader) on worker threads. */
export class GzipPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (d: Uint8Array) => void; reject: (e: Error) => void }>();
  private next = 0;
  /** Chunk buffers back from compression, by size, for the next chunks. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  /**
   * `keepBytes`: how much of the returned buffers to keep for reuse (a band of chunks and those in flight: a buffer
   * touched for the first time costs its page faults again, and dropped ones wait for the collector).
   */
  constructor(
    threads = Math.min(4, availableParallelism()),
    private readonly keepBytes = 64 * 1024 * 1024,
  ) {
    for (let i = 0; i < (threads > 1 ? threads : 0); i++) {
      const w = new Worker(new URL("./gzip.worker.ts", import.meta.url));
      w.onmessage = (e: MessageEvent<{ id: number; data?: Uint8Array; spare?: Uint8Array; error?: string }>) => {
        if (e.data.spare) this.release(e.data.spare.buffer as ArrayBuffer);
        const p = this.waiting.get(e.data.id);
        this.waiting.delete(e.data.id);
        if (e.data.data) p?.resolve(e.data.data);
        else p?.reject(new Error(`gzip failed: ${e.data.error}`));
      };
      w.onerror = (e) => {
        for (const p of this.waiting.values()) p.reject(new Error(`gzip worker failed: ${e.message}`));
        this.waiting.clear();
      };
      this.workers.push(w);
    }
  }

  /** A buffer of `bytes` for a chunk: one that came back from compression, else a new one. */
  buffer(bytes: number): ArrayBuffer {
    const b = this.free.get(bytes)?.pop();
    if (!b) return new ArrayBuffer(bytes);
    this.freeBytes -= bytes;
    return b;
  }

  private release(b: ArrayBuffer): void {
    if (this.freeBytes + b.byteLength > this.keepBytes) return;
    const list = this.free.get(b.byteLength) ?? [];
    list.push(b);
    this.free.set(b.byteLength, list);
    this.freeBytes += b.byteLength;
  }

  /** The gzip stream of `data`; the bytes are handed to a worker (the caller must not reuse them). */
  compress(data: Uint8Array): Promise<Uint8Array> {
    if (this.workers.length === 0) {
      const packed = Bun.gzipSync(data as Uint8Array<ArrayBuffer>, GZIP);
      if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) this.release(data.buffer as ArrayBuffer);
      return Promise.resolve(packed);
    }
    const id = this.next++;
    const w = this.workers[id % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const copy = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      w.postMessage({ id, data: copy } satisfies GzipRequest, [copy.buffer as ArrayBuffer]);
    });
  }

  /** Ends the workers. */
  close(): void {
    for (const w of this.workers) w.terminate();
  }
}
