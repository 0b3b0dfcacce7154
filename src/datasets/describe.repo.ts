import type { Database } from "bun:sqlite";

/** The editable text of a dataset and its version, for optimistic concurrency. */
export interface DescribedRow {
  id: number;
  uid: string;
  path: string;
  state: "present" | "missing";
  title: string;
  description: string;
  version: number;
  tags_version: number;
}

/** Title and description writes; every write bumps `datasets.version`. */
export function describeRepo(db: Database) {
  const get = db.query<DescribedRow, [number]>("SELECT id, uid, path, state, title, description, version, tags_version FROM datasets WHERE id = ?");
  const update = db.query<{ version: number }, [string, string, number, number]>(
    "UPDATE datasets SET title = ?, description = ?, version = version + 1, updated_at = ? WHERE id = ? RETURNING version",
  );
  return {
    get: (id: number) => get.get(id),
    update: (id: number, title: string, description: string, now: number) => update.get(title, description, now, id)!.version,
  };
}
