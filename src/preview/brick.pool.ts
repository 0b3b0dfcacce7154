// Runs a build's bricks on worker threads, one brick per thread at a time, or in this thread when there is one core.
import { buildBrick, type BrickUnit, type Deliver, type EncodeOptions } from "./brick-work.ts";
import type { BrickReply, BrickRequest } from "./brick.worker.ts";

/** A brick failed on a thread: its error keeps its name (a reader's or a limit's) and message. */
function threadError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export class BrickPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly running = new Map<number, { deliver: Deliver; resolve: () => void; reject: (e: Error) => void }>();
  private next = 0;
  private closed = false;
  /** The in-thread runner's turn: bricks one after another (they share this thread's brick buffer). */
  private local: Promise<void> = Promise.resolve();

  /** `threads` 0 or 1 builds in this thread. */
  constructor(
    threads: number,
    private readonly enc: EncodeOptions,
  ) {
    for (let i = 0; i < (threads > 1 ? threads : 0); i++) {
      const w = new Worker(new URL("./brick.worker.ts", import.meta.url));
      w.onmessage = (e: MessageEvent<BrickReply>) => this.reply(e.data);
      w.onerror = (e) => this.fail(new Error(`a preview thread failed: ${e.message}`));
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Builds one brick; its tiles go to `deliver` as they are encoded. */
  async run(unit: BrickUnit, deliver: Deliver): Promise<void> {
    if (this.closed) throw new Error("the preview threads are closed");
    if (this.all.length === 0) {
      const turn = this.local.then(() => buildBrick(unit, this.enc, deliver));
      this.local = turn.catch(() => {});
      return turn;
    }
    while (this.idle.length === 0) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.closed) throw new Error("the preview threads are closed");
    }
    const w = this.idle.pop()!;
    const id = this.next++;
    try {
      await new Promise<void>((resolve, reject) => {
        this.running.set(id, { deliver, resolve, reject });
        w.postMessage({ id, unit, enc: this.enc } satisfies BrickRequest);
      });
    } finally {
      this.running.delete(id);
      this.idle.push(w);
      this.waiting.shift()?.();
    }
  }

  private reply(m: BrickReply): void {
    const job = this.running.get(m.id);
    if (!job) return;
    if (m.type === "tile") job.deliver(m.o, m.level, m.origin, m.bytes, m.pixels);
    else if (m.type === "done") job.resolve();
    else job.reject(threadError(m.name, m.message));
  }

  private fail(e: Error): void {
    for (const job of this.running.values()) job.reject(e);
  }

  /** Ends the threads: a brick running on one, or waiting for one, fails. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.all) w.terminate();
    this.fail(new Error("the preview threads are closed"));
    for (const wake of this.waiting.splice(0)) wake();
  }
}
