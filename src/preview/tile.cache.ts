// Tile bytes of served previews, within a byte budget. A tile is a few KB and is asked for by every viewer of its
// dataset; answered from memory it costs the serving thread a third of what a send from the shard file costs
// (bench/tiles-serve.ts). A content key's tiles never change (a changed volume gets a new key, and so a new folder),
// so an entry is never stale.
import { WeightedLru } from "./lru.ts";

/** A tile as the route answers it. */
export interface CachedTile {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** The answer's validators and headers (a Response copies them), built on first use for the row's updated_at. */
  answer?: { updatedAt: number; etag: string; headers: Headers };
}

/** The default budget: 64 MiB, some 5,000 JPEG tiles. */
export const TILE_CACHE_BYTES = 64 * 2 ** 20;

/** Tiles by preview folder, scale and chunk name, least recently used dropped first. */
export type TileCache = WeightedLru<CachedTile>;

export function newTileCache(bytes = TILE_CACHE_BYTES): TileCache {
  return new WeightedLru<CachedTile>(bytes, (t) => t.bytes.byteLength);
}
