// Runs the sharp self-test in a worker thread and waits for it with a time limit.

/** What the worker reports after making, resizing, encoding and decoding a real image. */
export interface SharpProbeResult {
  vips: string;
  sharp: string;
  width: number;
  height: number;
  jpegBytes: number;
  pngBytes: number;
  ms: number;
  /** Where the executable unpacked sharp's native files; absent when running from source (node_modules). */
  nativeDir?: string;
  inWorker: boolean;
}

/** Starts the sharp worker, because a failure to load sharp in a worker is what breaks previews in production. */
export function probeSharpInWorker(timeoutMs = 30_000): Promise<SharpProbeResult> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./sharp.worker.ts", import.meta.url));
    } catch (e) {
      reject(new Error(`could not start the sharp worker: ${(e as Error).message}`));
      return;
    }
    const timer = setTimeout(() => finish(new Error(`the sharp worker did not answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, result?: SharpProbeResult) => {
      clearTimeout(timer);
      worker.terminate();
      if (err) reject(err);
      else resolve(result!);
    };
    worker.onmessage = (e: MessageEvent<{ ok: boolean; result?: SharpProbeResult; error?: string }>) =>
      e.data.ok ? finish(undefined, e.data.result) : finish(new Error(e.data.error ?? "the sharp worker failed"));
    worker.onerror = (e: ErrorEvent) => finish(new Error(`the sharp worker failed: ${e.message}`));
    worker.postMessage("probe");
  });
}
