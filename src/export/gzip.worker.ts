// Compresses Zarr chunks off the export child's main thread, which meanwhile reads slices and cuts the next chunks.
import { GZIP } from "./gzip.pool.ts";

declare const self: Worker;

/** A chunk to compress: its id (to pair the answer) and its bytes, transferred both ways. */
export interface GzipRequest {
  id: number;
  data: Uint8Array;
}

let served = 0;

self.onmessage = (e: MessageEvent<GzipRequest>) => {
  const { id, data } = e.data;
  try {
    const packed = Bun.gzipSync(data as Uint8Array<ArrayBuffer>, GZIP);
    // The chunk's buffer goes back too, for the next chunk.
    postMessage({ id, data: packed, spare: data }, [packed.buffer, data.buffer as ArrayBuffer]);
    // Each worker has its own heap, which the export's collections do not reach: the chunks it was handed are
    // collected here, so the process's peak stays flat however many chunks a volume has.
    if (++served % 256 === 0) Bun.gc(true);
  } catch (err) {
    postMessage({ id, error: String((err as Error)?.message ?? err) });
  }
};
