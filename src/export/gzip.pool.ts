// A few gzip workers for the export child: compressing 64^3 chunks is most of an export's CPU, so it runs on the
// other cores while the main thread reads and cuts; with one core it runs in place.
import { availableParallelism } from "node:os";
import type { GzipRequest } from "./gzip.worker.ts";

/** Compresses chunks (gzip, level 1: the fastest zlib level, read by every Zarr reader) on worker threads. */
export class GzipPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (d: Uint8Array) => void; reject: (e: Error) => void }>();
  private next = 0;
  /** Chunk buffers back from compression, by size, for the next chunks. */
  private readonly free = new Map<number, ArrayBuffer[]>();

  constructor(threads = Math.min(4, availableParallelism())) {
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
    return this.free.get(bytes)?.pop() ?? new ArrayBuffer(bytes);
  }

  private release(b: ArrayBuffer): void {
    const list = this.free.get(b.byteLength) ?? [];
    if (list.length < 32) list.push(b);
    this.free.set(b.byteLength, list);
  }

  /** The gzip stream of `data`; the bytes are handed to a worker (the caller must not reuse them). */
  compress(data: Uint8Array): Promise<Uint8Array> {
    if (this.workers.length === 0) {
      const packed = Bun.gzipSync(data as Uint8Array<ArrayBuffer>, { level: 1 });
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
