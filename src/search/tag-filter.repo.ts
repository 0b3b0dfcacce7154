import type { Database } from "bun:sqlite";
import type { TagFilter } from "./tag-filter.ts";

/** Above this many carrying datasets, a filter is checked per candidate row instead of listing its datasets first. */
const LIST_AT_MOST = 20_000;

/**
 * A SQL condition that `column` (a dataset id) carries every tag filter, with its parameters. The rarest filter (by
 * the metadata count tables) is listed once through the (key, value) index; common ones are probed per row through
 * the (dataset_id, key, value) index, since listing a key half the datasets carry costs far more than the page.
 * `counts` are the estimated carrying datasets per filter, in the same order (see `tagFilterCounts`); `column` must be
 * qualified with its table (`datasets.id`), since the per-row probe is a correlated subquery over `tags`.
 */
export function tagFilterSql(column: string, filters: TagFilter[], counts?: number[]): { sql: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  let driver = -1;
  if (counts) {
    for (let i = 0; i < filters.length; i++) if (counts[i]! <= LIST_AT_MOST && (driver < 0 || counts[i]! < counts[driver]!)) driver = i;
  }
  filters.forEach((f, i) => {
    const cond = f.value === undefined ? "key = ?" : "key = ? AND value = ?";
    const list = counts === undefined || i === driver;
    clauses.push(
      list ? `${column} IN (SELECT dataset_id FROM tags WHERE ${cond})` : `EXISTS (SELECT 1 FROM tags WHERE tags.dataset_id = ${column} AND ${cond})`,
    );
    params.push(f.key);
    if (f.value !== undefined) params.push(f.value);
  });
  return { sql: clauses.join(" AND "), params };
}

/** How many datasets carry each filter, from the count tables the metadata triggers keep (no scan of the tags). */
export function tagFilterCounts(db: Database, filters: TagFilter[]): number[] {
  const pair = db.query<{ n: number }, [string, string]>("SELECT datasets AS n FROM tag_value_counts WHERE key = ? AND value = ?");
  const key = db.query<{ n: number }, [string]>("SELECT datasets AS n FROM tag_key_counts WHERE key = ?");
  return filters.map((f) => (f.value === undefined ? key.get(f.key) : pair.get(f.key, f.value))?.n ?? 0);
}

/** The ids of every dataset carrying all the tag filters, ascending, for callers that want ids rather than SQL. */
export function filterDatasetIds(db: Database, filters: TagFilter[]): number[] {
  if (filters.length === 0) throw new Error("filterDatasetIds needs at least one tag filter");
  const w = tagFilterSql("datasets.id", filters, tagFilterCounts(db, filters));
  return db
    .query<{ id: number }, string[]>(`SELECT id FROM datasets WHERE ${w.sql} ORDER BY id`)
    .all(...w.params)
    .map((r) => r.id);
}
