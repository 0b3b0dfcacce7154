// A map that drops its least recently used entries once their total weight passes a budget: the tile route's caches
// of shard indices (weighed in chunks) and of tile bytes (weighed in bytes).

export class WeightedLru<V> {
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(
    private readonly budget: number,
    private readonly weigh: (value: V) => number,
  ) {}

  /** The value kept under `key`, now the most recently used. */
  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps a value, dropping the least recently used others until the budget holds (the new one always stays). */
  set(key: string, value: V): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.total -= this.weigh(old);
    }
    this.entries.set(key, value);
    this.total += this.weigh(value);
    for (const [k, v] of this.entries) {
      if (this.total <= this.budget || k === key) break;
      this.entries.delete(k);
      this.total -= this.weigh(v);
    }
  }
}
