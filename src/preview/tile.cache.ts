// Tile bytes of served previews, least recently used dropped first, within a byte budget. A tile is a few KB and is
// asked for by every viewer of its dataset; answered from memory it costs the serving thread a third of what a
// send from the shard file costs (bench/tiles-serve.ts). A content key's tiles never change (a changed volume gets
// a new key, and so a new folder), so an entry is never stale.

/** A tile as the route answers it. */
export interface CachedTile {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** The answer's validators and headers (a Response copies them), built on first use for the row's updated_at. */
  answer?: { updatedAt: number; etag: string; headers: Headers };
}

/** The default budget: 64 MiB, some 5,000 JPEG tiles. */
export const TILE_CACHE_BYTES = 64 * 2 ** 20;

export class TileCache {
  private readonly entries = new Map<string, CachedTile>();
  private bytes = 0;

  constructor(private readonly maxBytes = TILE_CACHE_BYTES) {}

  /** The tile kept under `key` (its preview folder, scale and chunk name), now the most recently used. */
  get(key: string): CachedTile | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps a tile, dropping the least recently used until the budget holds; one over a sixteenth of it is not kept. */
  set(key: string, tile: CachedTile): void {
    const size = tile.bytes.byteLength;
    if (size > this.maxBytes / 16 || this.entries.has(key)) return;
    this.entries.set(key, tile);
    this.bytes += size;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.bytes.byteLength;
    }
  }
}
