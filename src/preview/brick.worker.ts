// Builds bricks of a preview on a thread of the tiler process: one unit at a time, its tiles sent back as they are
// encoded, then a "done" or the error in words.
import { buildBrick, type BrickUnit, type EncodeOptions } from "./brick-work.ts";
import { configureImageThreads } from "./tile-encoder.ts";

declare const self: Worker;

export type BrickRequest = { id: number; unit: BrickUnit; enc: EncodeOptions };
export type BrickReply =
  | { id: number; type: "tile"; o: "xy" | "xz" | "yz"; level: number; origin: [number, number, number]; bytes: Uint8Array; pixels: number }
  | { id: number; type: "done" }
  | { id: number; type: "error"; message: string; name: string };

// One libvips thread per encode: the parallelism comes from many tiles and many bricks in flight.
configureImageThreads(1);

self.onmessage = async (e: MessageEvent<BrickRequest>) => {
  const { id, unit, enc } = e.data;
  try {
    await buildBrick(unit, enc, (o, level, origin, bytes, pixels) => {
      // Copied, not transferred: sharp's output buffers are external memory, which cannot be transferred.
      postMessage({ id, type: "tile", o, level, origin, bytes, pixels } satisfies BrickReply);
    });
    postMessage({ id, type: "done" } satisfies BrickReply);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    postMessage({ id, type: "error", message: error.message, name: error.name } satisfies BrickReply);
  }
};
