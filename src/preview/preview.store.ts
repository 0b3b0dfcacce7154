// The preview feature's per-instance state (one per context, built with its services): its prepared statements,
// and the tile route's hot path: a preview row per
// (dataset, n), dropped whenever this instance writes previews (rows change only through the preview job,
// which runs in the serving process), each content key's scale grid and its recently served tiles (a key's tiles
// never change).
import type { Database } from "bun:sqlite";
import { previewRepo, type PreviewRepo, type PreviewRow } from "./preview.repo.ts";
import { ShardIndexCache, type ScaleInfo } from "./layout.ts";
import { MemoryBudget } from "./memory-budget.ts";
import { newTileCache } from "./tile.cache.ts";

/** The preview statements of a context and the tile route's read caches, so two instances in a process never serve each other's rows. */
export class PreviewStore {
  /** The preview statements, prepared once; every write through them drops the cached rows. */
  readonly repo: PreviewRepo;
  private writes = 0;
  private readonly rows = new Map<string, { writes: number; row: PreviewRow | null }>();
  private readonly grids = new Map<string, BuiltPreview>();
  /** The decoded shard indices of served previews. */
  readonly shards = new ShardIndexCache();
  /** The bytes of recently served tiles. */
  readonly tiles = newTileCache();
  /** The memory the builds running at once may take together (config `preview_memory_mb`). */
  readonly memory: MemoryBudget;

  constructor(db: Database, memoryBytes: number) {
    this.memory = new MemoryBudget(memoryBytes);
    this.repo = previewRepo(db, () => {
      this.writes++;
    });
  }

  /** Reads every preview row again on its next use (another thread or process wrote them). */
  forgetRows(): void {
    this.writes++;
  }

  /** The preview row of (dataset, n), read again only after a write to previews. */
  row(datasetId: number, n: number): PreviewRow | null {
    const key = `${datasetId}/${n}`;
    const hit = this.rows.get(key);
    if (hit && hit.writes === this.writes) return hit.row;
    if (this.rows.size > 10_000) this.rows.clear();
    const row = this.repo.get(datasetId, n) ?? null;
    this.rows.set(key, { writes: this.writes, row });
    return row;
  }

  /** What the tile route needs of a content key's build, read by `load` once (a key's tiles never change). */
  built(contentKey: string, load: () => BuiltPreview): BuiltPreview {
    let built = this.grids.get(contentKey);
    if (!built) {
      built = load();
      if (this.grids.size > 1000) this.grids.clear();
      this.grids.set(contentKey, built);
    }
    return built;
  }
}

/** A build's scales and whether it is in the sharded layout (older builds have one file per tile). */
export interface BuiltPreview {
  scales: ScaleInfo[];
  sharded: boolean;
}
