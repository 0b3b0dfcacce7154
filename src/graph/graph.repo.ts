import type { Database } from "bun:sqlite";

/** A dataset as a graph node shows it. */
export interface GraphDatasetRow {
  id: number;
  title: string;
  path: string;
  state: "present" | "missing";
}

/** A tag row for the overlay. */
export interface GraphTagRow {
  id: number;
  parent_id: number | null;
  dataset_id: number;
  key: string;
  value: string;
  subtree_hash: string;
}

/**
 * Walks the relation graph with recursive CTEs: `UNION` visits every dataset once (diamonds and several parents
 * cost nothing extra), SQLite's queue makes the walk breadth-first, and the LIMIT stops it at the bound.
 */
export function graphRepo(db: Database) {
  const exists = db.query<{ id: number }, [number]>("SELECT id FROM datasets WHERE id = ?");
  const ancestors = db.query<{ id: number }, [number, number]>(
    `WITH RECURSIVE up(id) AS (
       SELECT ?1
       UNION
       SELECT r.parent_id FROM relations r JOIN up ON r.child_id = up.id
       LIMIT ?2
     ) SELECT id FROM up`,
  );
  const descendants = db.query<{ id: number }, [number, number]>(
    `WITH RECURSIVE down(id) AS (
       SELECT ?1
       UNION
       SELECT r.child_id FROM relations r JOIN down ON r.parent_id = down.id
       LIMIT ?2
     ) SELECT id FROM down`,
  );
  const related = db.query<{ id: number }, [string, number]>(
    `WITH RECURSIVE rel(id) AS (
       SELECT value FROM json_each(?1)
       UNION
       SELECT r.parent_id FROM relations r JOIN rel ON r.child_id = rel.id
       UNION
       SELECT r.child_id FROM relations r JOIN rel ON r.parent_id = rel.id
       LIMIT ?2
     ) SELECT id FROM rel`,
  );
  // CROSS JOIN fixes the loop order: one primary-key seek per dataset (two IN lists made SQLite scan, 13 s at 10,000).
  const parentLinks = db.query<{ child_id: number; parent_id: number }, [string]>(
    `SELECT r.child_id, r.parent_id FROM json_each(?) j CROSS JOIN relations r ON r.child_id = j.value
      ORDER BY r.child_id, r.position, r.parent_id`,
  );
  const datasets = db.query<GraphDatasetRow, [string]>("SELECT id, title, path, state FROM datasets WHERE id IN (SELECT value FROM json_each(?))");
  const tags = db.query<GraphTagRow, [string, number]>(
    `SELECT id, parent_id, dataset_id, key, value, subtree_hash FROM tags
      WHERE dataset_id IN (SELECT value FROM json_each(?)) ORDER BY dataset_id, parent_id NULLS FIRST, position LIMIT ?`,
  );

  return {
    exists: (id: number) => exists.get(id) !== null,
    /** The dataset and its ancestors, nearest first, at most `limit`. */
    ancestors: (id: number, limit: number) => ancestors.all(id, limit).map((r) => r.id),
    /** The dataset and its descendants, nearest first, at most `limit`. */
    descendants: (id: number, limit: number) => descendants.all(id, limit).map((r) => r.id),
    /** The seeds, then every dataset linked to them in either direction, breadth-first, at most `limit`. */
    related: (seeds: number[], limit: number) => related.all(JSON.stringify(seeds), limit).map((r) => r.id),
    /** Every relation between two of these datasets. */
    edges(ids: number[]) {
      const set = new Set(ids);
      return parentLinks.all(JSON.stringify(ids)).filter((e) => set.has(e.parent_id));
    },
    datasets: (ids: number[]) => datasets.all(JSON.stringify(ids)),
    /** Tag rows of these datasets, at most `limit` of them. */
    tags: (ids: number[], limit: number) => tags.all(JSON.stringify(ids), limit),
  };
}
