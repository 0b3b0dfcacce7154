// Compresses Zarr chunks off the export child's main thread, which meanwhile reads slices and cuts the next chunks.
declare const self: Worker;

/** A chunk to compress: its id (to pair the answer) and its bytes, transferred both ways. */
export interface GzipRequest {
  id: number;
  data: Uint8Array;
}

self.onmessage = (e: MessageEvent<GzipRequest>) => {
  const { id, data } = e.data;
  try {
    const packed = Bun.gzipSync(data as Uint8Array<ArrayBuffer>, { level: 1 });
    postMessage({ id, data: packed }, [packed.buffer]);
  } catch (err) {
    postMessage({ id, error: String((err as Error)?.message ?? err) });
  }
};
