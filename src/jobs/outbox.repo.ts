import type { Database } from "bun:sqlite";
import type { ContentChange } from "../context.ts";

/** The change outbox: content changes a process without a job queue leaves for `serve`. */
export function outboxRepo(db: Database) {
  const insert = db.query<unknown, [number, number, string, string, string, number]>(
    "INSERT INTO change_outbox (dataset_id, generation, path, changed, removed, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const oldest = db.query<{ id: number; dataset_id: number; generation: number; path: string; changed: string; removed: string }, [number]>(
    "SELECT id, dataset_id, generation, path, changed, removed FROM change_outbox ORDER BY id LIMIT ?",
  );
  const remove = db.query<unknown, [number]>("DELETE FROM change_outbox WHERE id <= ?");
  return {
    add: (c: ContentChange, now: number) => void insert.run(c.datasetId, c.generation, c.path, JSON.stringify(c.changed), JSON.stringify(c.removed), now),
    /** Takes (reads and deletes, in one transaction) up to `limit` of the oldest changes. */
    take(limit: number): ContentChange[] {
      return db
        .transaction(() => {
          const rows = oldest.all(limit);
          if (rows.length > 0) remove.run(rows[rows.length - 1]!.id);
          return rows.map((r) => ({
            datasetId: r.dataset_id,
            generation: r.generation,
            path: r.path,
            changed: JSON.parse(r.changed),
            removed: JSON.parse(r.removed),
          }));
        })
        .immediate();
    },
  };
}
