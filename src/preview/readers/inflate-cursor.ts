import { createReadStream } from "node:fs";
import { createGunzip, createInflate } from "node:zlib";
import type { Readable } from "node:stream";
import { VolumeReadError } from "./reader.types.ts";
import { openShare, throwIfAborted } from "./file-io.ts";

/** Compression schemes a raw volume's data may use: gzip (NRRD, .nii.gz) or zlib (MetaImage .zraw). */
export type StreamCompression = "gzip" | "zlib";

/**
 * A forward-only cursor over the decompressed bytes of a compressed file: gzip cannot be seeked, so
 * reading position p after position q > p restarts decompression from the start of the file. The tiler
 * reads slices in increasing z, so one pass costs one decompression; memory is one chunk plus what was asked.
 */
export class InflateCursor {
  private stream: Readable | undefined;
  private iterator: AsyncIterator<Buffer> | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Decompressed bytes consumed so far (the offset the next read starts at). */
  position = 0;
  /** How many times decompression started from the beginning (exposed for tests and logs). */
  restarts = 0;

  /** `start` is the compressed byte offset where the stream begins (after an attached text header). */
  constructor(
    private readonly path: string,
    private readonly name: string,
    private readonly compression: StreamCompression,
    private readonly start = 0,
  ) {}

  /** Returns exactly `length` decompressed bytes at `offset` in a fresh aligned buffer. */
  async readAt(offset: number, length: number, signal?: AbortSignal): Promise<ArrayBuffer> {
    if (offset < this.position || !this.iterator) this.restart();
    await this.skip(offset - this.position, signal);
    const out = new ArrayBuffer(length);
    const view = new Uint8Array(out);
    let done = 0;
    while (done < length) {
      const chunk = await this.nextChunk(signal, length - done, offset + done);
      view.set(chunk, done);
      done += chunk.length;
    }
    this.position = offset + length;
    return out;
  }

  /** Stops decompression and releases the file. */
  close(): void {
    this.stream?.destroy();
    this.stream = undefined;
    this.iterator = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.position = 0;
  }

  private restart(): void {
    if (this.iterator) this.restarts++;
    this.close();
    const file = createReadStream("", { fd: openShare(this.path, this.name), start: this.start });
    const inflater = this.compression === "gzip" ? createGunzip() : createInflate();
    file.on("error", (e) => inflater.destroy(e));
    this.stream = file.pipe(inflater);
    this.iterator = this.stream[Symbol.asyncIterator]();
  }

  private async skip(count: number, signal?: AbortSignal): Promise<void> {
    let left = count;
    while (left > 0) {
      const chunk = await this.nextChunk(signal, left, this.position);
      left -= chunk.length;
      this.position += chunk.length;
    }
  }

  /** Takes up to `max` bytes from the pending chunks, pulling one more from the stream when empty. */
  private async nextChunk(signal: AbortSignal | undefined, max: number, at: number): Promise<Uint8Array> {
    if (this.pendingBytes === 0) {
      throwIfAborted(signal);
      let r: IteratorResult<Buffer>;
      try {
        r = await this.iterator!.next();
      } catch (e) {
        this.close();
        throw new VolumeReadError(`${this.name}: corrupt ${this.compression} data (${(e as Error).message})`, this.name);
      }
      if (r.done) {
        this.close();
        throw new VolumeReadError(`${this.name}: truncated: the decompressed data ends before byte ${at + max} (ended at ${at})`, this.name);
      }
      this.pending.push(r.value);
      this.pendingBytes += r.value.length;
    }
    const head = this.pending[0]!;
    if (head.length <= max) {
      this.pending.shift();
      this.pendingBytes -= head.length;
      return head;
    }
    this.pending[0] = head.subarray(max);
    this.pendingBytes -= max;
    return head.subarray(0, max);
  }
}
