import type { Database } from "bun:sqlite";
import { SORT_EXPR, type SortKey } from "./datasets.repo.ts";

/** A dataset row as the list page shows it. */
export interface ListRow {
  id: number;
  path: string;
  title: string;
  owner: string | null;
  state: "present" | "missing";
  file_count: number;
  byte_count: number;
  updated_at: number;
}

/** The orders the list page offers; each has an index (migration 007) so a page is an index range, not a sort. */
export type ListSort = SortKey;

/** Reads for the HTML pages: keyset-paged dataset lists and the dataset page's preview state. */
export function pagesRepo(db: Database) {
  const cache = new Map<string, ReturnType<typeof db.query<ListRow, [string | number, number, number]>>>();
  const firstCache = new Map<string, ReturnType<typeof db.query<ListRow, [number]>>>();
  const total = db.query<{ n: number }, []>("SELECT count(*) AS n FROM datasets");
  const cols = "id, path, title, owner, state, file_count, byte_count, updated_at";

  return {
    /**
     * One page after (or before) a cursor `(sort value, id)`, in the sort's index order: the cost is the page
     * size whatever the depth, unlike OFFSET. Returns `limit + 1` rows so the caller knows if there is more.
     */
    page(sort: ListSort, desc: boolean, limit: number, cursor: { value: string | number; id: number; before: boolean } | null): ListRow[] {
      const e = SORT_EXPR[sort];
      const forward = cursor?.before ? desc : !desc;
      const dir = forward ? "ASC" : "DESC";
      const order = `ORDER BY ${e} ${dir}, id ${dir}`;
      if (!cursor) {
        const key = `${sort}:${dir}`;
        let q = firstCache.get(key);
        if (!q) firstCache.set(key, (q = db.query<ListRow, [number]>(`SELECT ${cols} FROM datasets ${order} LIMIT ?`)));
        return q.all(limit + 1);
      }
      const key = `${sort}:${dir}:c`;
      let q = cache.get(key);
      // "e >= v" is the index range; the NOT excludes the rows up to the cursor among equal values.
      const where = forward ? `${e} >= ?1 AND NOT (${e} = ?1 AND id <= ?2)` : `${e} <= ?1 AND NOT (${e} = ?1 AND id >= ?2)`;
      if (!q) cache.set(key, (q = db.query<ListRow, [string | number, number, number]>(`SELECT ${cols} FROM datasets WHERE ${where} ${order} LIMIT ?3`)));
      return q.all(cursor.value, cursor.id, limit + 1);
    },
    total: () => total.get()!.n,
  };
}

/** The value of a row for a sort, as the cursor carries it. */
export function sortValue(row: ListRow, sort: ListSort): string | number {
  switch (sort) {
    case "path":
      return row.path;
    case "title":
      return row.title;
    case "owner":
      return row.owner ?? "";
    case "size":
      return row.byte_count;
    case "files":
      return row.file_count;
    case "updated":
      return row.updated_at;
  }
}
