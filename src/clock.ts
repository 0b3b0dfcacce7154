/** Time behind a seam so tests can fake it. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
