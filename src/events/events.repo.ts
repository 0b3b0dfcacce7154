import type { Database } from "bun:sqlite";

/** One row of the event log. */
export interface EventRow {
  id: number;
  at: number;
  kind: string;
  dataset_id: number | null;
  actor: string | null;
  detail: string;
}

/** Appends to and reads the event log; callers run it inside their own transaction. */
export function eventsRepo(db: Database) {
  const insert = db.query("INSERT INTO events (at, kind, dataset_id, actor, detail) VALUES (?, ?, ?, ?, ?)");
  const byDataset = db.query<EventRow, [number, number]>("SELECT * FROM events WHERE dataset_id = ? ORDER BY id DESC LIMIT ?");
  const recent = db.query<EventRow, [number]>("SELECT * FROM events ORDER BY id DESC LIMIT ?");
  return {
    record(at: number, kind: string, datasetId: number | null, detail: Record<string, unknown> = {}, actor: string | null = null): void {
      insert.run(at, kind, datasetId, actor, JSON.stringify(detail));
    },
    forDataset: (datasetId: number, limit = 100) => byDataset.all(datasetId, limit),
    recent: (limit = 100) => recent.all(limit),
  };
}
