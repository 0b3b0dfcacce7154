import type { Database } from "bun:sqlite";

/** A dataset as relation lists and pickers show it. */
export interface RelativeRow {
  id: number;
  uid: string;
  path: string;
  title: string;
  state: "present" | "missing";
}

const COLS = "d.id, d.uid, d.path, d.title, d.state";

/** Parent links between datasets; the service keeps them acyclic. */
export function relationsRepo(db: Database) {
  const parents = db.query<RelativeRow, [number]>(
    `SELECT ${COLS} FROM relations r JOIN datasets d ON d.id = r.parent_id WHERE r.child_id = ? ORDER BY r.position, d.id`,
  );
  const children = db.query<RelativeRow, [number, number]>(
    `SELECT ${COLS} FROM relations r JOIN datasets d ON d.id = r.child_id WHERE r.parent_id = ? ORDER BY d.path, d.id LIMIT ?`,
  );
  const siblings = db.query<RelativeRow, [number, number, number]>(
    `SELECT ${COLS} FROM datasets d WHERE d.id IN (
       SELECT r2.child_id FROM relations r1 JOIN relations r2 ON r2.parent_id = r1.parent_id
       WHERE r1.child_id = ? AND r2.child_id <> ?)
     ORDER BY d.path, d.id LIMIT ?`,
  );
  const childIds = db.query<{ id: number }, [number]>("SELECT child_id AS id FROM relations WHERE parent_id = ?");
  const byId = db.query<RelativeRow, [number]>(`SELECT ${COLS} FROM datasets d WHERE d.id = ?`);
  const removeParents = db.query<never, [number]>("DELETE FROM relations WHERE child_id = ?");
  const addParent = db.query<never, [number, number, number]>("INSERT INTO relations (child_id, parent_id, position) VALUES (?, ?, ?)");
  const byPrefix = db.query<RelativeRow, [string, string, number]>(
    `SELECT ${COLS} FROM datasets d WHERE d.id IN (
       SELECT id FROM datasets WHERE title LIKE ? ESCAPE '\\'
       UNION SELECT id FROM datasets WHERE path LIKE ? ESCAPE '\\')
     ORDER BY d.state = 'missing', d.path LIMIT ?`,
  );
  const byPath = db.query<RelativeRow, [string]>(`SELECT ${COLS} FROM datasets d WHERE d.path = ? AND d.state = 'present'`);
  const touch = db.query<never, [number, number]>("UPDATE datasets SET updated_at = ? WHERE id = ?");

  return {
    parents: (id: number) => parents.all(id),
    children: (id: number, limit = 500) => children.all(id, limit),
    siblings: (id: number, limit = 500) => siblings.all(id, id, limit),
    childIds: (id: number) => childIds.all(id).map((r) => r.id),
    get: (id: number) => byId.get(id),
    byPath: (path: string) => byPath.get(path),
    /** Replaces the parents of a dataset, in the given order. */
    setParents(id: number, parentIds: number[], now: number): void {
      removeParents.run(id);
      parentIds.forEach((p, i) => addParent.run(id, p, i));
      touch.run(now, id);
    },
    /** Datasets whose title or path starts with the text (case-insensitive), for the picker. */
    byPrefix(text: string, limit: number): RelativeRow[] {
      const like = text.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
      return byPrefix.all(like, like, limit);
    },
  };
}
