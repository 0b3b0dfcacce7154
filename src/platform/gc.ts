// Large short-lived arrays (a 8192^2 slice is 128 MiB) are memory the engine does not weigh as pressure: a build that
// reads slices faster than its periodic collection runs would hold many of them at once.

const LIMIT = 256 * 2 ** 20;
let since = 0;

/** Counts the bytes of a large array just dropped; past 256 MiB since the last time, a full collection runs now. */
export function churned(bytes: number): void {
  since += bytes;
  if (since < LIMIT) return;
  since = 0;
  Bun.gc(true);
}
